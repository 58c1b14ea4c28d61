// A problem found in a manifest, with the place it was found.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wp::manifest {

struct SourcePos {
  uint32_t line = 0;    // 1-based; 0 when unknown
  uint32_t column = 0;  // 1-based; 0 when unknown
};

struct Diagnostic {
  std::string file;  // as the user named it
  SourcePos pos;
  std::string message;

  // "jobs.toml:12:10: error: memory: unknown unit 'GBs' ..."
  std::string format() const;
};

using Diagnostics = std::vector<Diagnostic>;

// File order (stable: equal positions keep the order they were found in).
void sort_by_position(Diagnostics& diagnostics);

}  // namespace wp::manifest
