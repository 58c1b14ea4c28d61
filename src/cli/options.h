// What the command line asked for, before the library acts on it.
#pragma once

#include <string>

#include "exec/runner.h"
#include "resources/capacity.h"

namespace wp::cli {

// Exit statuses are part of wp's interface: scripts and Makefiles test them.
inline constexpr int kExitOk = 0;
inline constexpr int kExitJobsFailed = 1;
inline constexpr int kExitUsage = 2;

// As typed: parsed and checked by the library's own quantity parsers, so
// that flags and manifests accept and reject the same things.
struct CapacityFlags {
  std::string cpus;  // empty: not given
  std::string memory;
  std::string iops;
};

struct RunCommand {
  std::string manifest;
  CapacityFlags capacity;
  bool json = false;
  std::string run_dir;
  std::string grace = "5s";
  std::string retry_backoff = "1s";
  exec::RunOptions options;
};

struct ValidateCommand {
  std::string manifest;
  CapacityFlags capacity;
  bool json = false;
};

struct InfoCommand {
  CapacityFlags capacity;
  bool json = false;
};

int run_command(RunCommand& command);
int validate_command(const ValidateCommand& command);
int info_command(const InfoCommand& command);

}  // namespace wp::cli
