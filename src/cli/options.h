// What the command line asked for, before the library acts on it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "exec/runner.h"
#include "resources/capacity.h"
#include "sched/policy.h"

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
  // `wp plan` and `wp validate`: --cpus and --memory are the capacity, above
  // the machine's too (see resolve_capacity), not only caps.
  bool as_given = false;
};

// The scheduler's defaults, as --help shows them.
std::string default_strategy();
std::string default_aging();           // "5m"
std::string default_cpu_overcommit();  // "1.25"

// --strategy, --aging and --cpu-overcommit, as `wp run` and `wp plan` take them.
struct PolicyFlags {
  std::string strategy = default_strategy();  // `wp plan` also takes "all"
  std::string aging = default_aging();
  std::string cpu_overcommit = default_cpu_overcommit();
};

struct RunCommand {
  std::string manifest;
  CapacityFlags capacity;
  std::string db;  // --db; empty: WP_DB, then the XDG state directory
  bool json = false;
  std::string run_dir;
  std::string grace = "5s";
  std::string retry_backoff = "1s";
  std::string enforce = "memory";
  double memory_headroom = 1.25;
  std::string cgroup = "auto";
  std::string memory_guard = "suspend";
  std::string memory_reserve;  // empty: the default
  std::string learn = "auto";
  int keep = 100;                    // attempts kept per profile
  double regression_threshold = 25;  // percent
  std::string progress = "auto";     // the live status area: auto, always, never
  PolicyFlags policy;
  std::string ledger = "on";       // the user's ledger of leases: on, off
  std::string junit;               // --junit FILE; empty: no report
  std::string ci_format = "auto";  // auto, github, gitlab, plain
  exec::RunOptions options;
};

// `wp exec -- CMD ARGS...`: one command under the same admission,
// measurement and learning as a manifest job.
struct ExecCommand {
  std::vector<std::string> command;  // CMD ARGS...
  std::string name;                  // the profile; empty: from the command
  std::string cpu = "1";
  std::string memory = "256MiB";
  std::string iops = "0";
  std::string gpu = "0";
  std::string timeout;  // empty: none
  int64_t priority = 0;
  std::string cpus;  // --cpus: this wp's capacity of cores; empty: detected
  std::string cpu_overcommit = default_cpu_overcommit();
  std::string db;
  std::string learn = "auto";
  std::string ledger = "on";
};

// `wp plan`: the schedule of a run, simulated from durations instead of run.
struct PlanCommand {
  std::string manifest;
  CapacityFlags capacity;
  std::string db;  // --db; empty: WP_DB, then the XDG state directory
  std::string learn = "auto";
  PolicyFlags policy;
  std::string default_duration = "1m";  // for jobs with neither a prediction nor a timeout
  bool keep_going = false;              // as `wp run -k`
  std::string retry_backoff = "1s";     // as `wp run --retry-backoff`
  bool json = false;
  bool gantt = false;  // the chart even when stdout is not a terminal
  int width = 0;       // of the chart; 0: the terminal's, else $COLUMNS, else 80
};

struct ValidateCommand {
  std::string manifest;
  CapacityFlags capacity;
  std::string db;  // --db; empty: WP_DB, then the XDG state directory
  bool json = false;
};

struct InfoCommand {
  CapacityFlags capacity;
  std::string db;  // --db; empty: WP_DB, then the XDG state directory
  bool json = false;
};

struct CalibrateCommand {
  std::string dir;  // empty: the current directory
  std::string seconds = "3";
  std::string db;
  bool json = false;
};

// `wp profile SUBCOMMAND`: what wp learned about jobs, shown, carried
// between machines and forgotten.
struct ProfileCommand {
  std::string action;  // list, show, history, export, import, forget
  std::string db;      // --db; empty: WP_DB, then the XDG state directory
  std::string space;   // --namespace; empty: every namespace
  bool json = false;
  bool names = false;  // list: the names only, one per line (for shell completion)
  std::string name;    // the profile of show, history and forget
  std::string file;    // export's output, import's input; empty or "-": stdout, stdin
  std::string since;   // history: an ISO 8601 date or time, or a duration ago ("7d")
  int64_t limit = 0;   // history: the newest N attempts; 0: all
  bool csv = false;    // history
  int keep = 100;      // import: attempts kept per profile
  bool all = false;    // forget: every profile (of --namespace, if given)
};

// Colour for wp's messages on `fd`: a terminal, TERM set and not "dumb",
// and NO_COLOR unset or empty (https://no-color.org).
bool use_colour(int fd);

int run_command(RunCommand& command);
int exec_command(const ExecCommand& command);
int validate_command(const ValidateCommand& command);
int info_command(const InfoCommand& command);
int calibrate_command(const CalibrateCommand& command);
int profile_command(const ProfileCommand& command);
int plan_command(const PlanCommand& command);

// How a command uses the state database. One that only reads it (plan,
// validate, info) never changes it: an older schema is not brought up to
// date, and its figures are not read. One that writes it anyway (run,
// exec) brings it up to date first.
enum class DbUse { ReadOnly, Writes };

// The IOPS `wp calibrate` stored for the filesystem holding `dir`, if any. A
// database that cannot be read is warned about and treated as no figure:
// capacity then leaves I/O unlimited rather than failing the run.
std::optional<MeasuredIops> stored_iops(const std::string& db_flag, DbUse use,
                                        const std::filesystem::path& dir);

}  // namespace wp::cli
