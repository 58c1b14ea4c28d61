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

struct CapacityFlags {
  double cpus = 0;     // 0: not given
  std::string memory;  // empty: not given
  uint64_t iops = 0;
  bool iops_given = false;
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

int run_command(RunCommand& command);
int validate_command(const ValidateCommand& command);

}  // namespace wp::cli
