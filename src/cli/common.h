// What the commands that load a manifest share: loading and checking it
// against capacity, the history database, learning and scheduling flags,
// and printing. Internal to src/cli.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cli/options.h"
#include "ledger/ledger.h"
#include "manifest/manifest.h"
#include "platform/host.h"
#include "profile/learn.h"
#include "profile/store.h"
#include "resources/capacity.h"
#include "sched/policy.h"
#include "util/result.h"

namespace wp::cli {

// The machine, or the tree WP_HOST_ROOT names standing in for it.
platform::HostCapacity probe_host();
// --cpus, --memory and --iops, parsed by the manifest's own quantity parsers.
Result<CapacityCaps> caps_from_flags(const CapacityFlags& flags);

// A manifest checked as far as it can be before a run: its own rules, then
// whether each job fits the capacity, all in one list.
struct Checked {
  manifest::LoadResult loaded;
  Capacity capacity;
  Bytes machine_memory = 0;  // MemTotal: more than can ever be available
  Cores machine_cpu;         // the cores jobs run on, whatever caps admission
};

Result<Checked> load_and_check(const std::string& path, const CapacityFlags& flags,
                               const std::string& db, DbUse db_use);

// Every diagnostic as file:line:column, then the count and, if not empty,
// what did not happen because of them ("nothing was run"), on stderr.
void print_diagnostics(const manifest::Diagnostics& errors, std::string_view outcome = {});

// load_and_check for a command that acts on a valid manifest (run, plan):
// any problem is said on stderr, with `outcome` (and, with `json`, as the
// validation document on stdout, so that scripts get a document either
// way), and the result is empty: the command exits kExitUsage.
std::optional<Checked> load_valid(const std::string& path, const CapacityFlags& flags,
                                  const std::string& db, DbUse db_use, bool json,
                                  std::string_view outcome);

// What --json promises must arrive, or the exit status says it did not: a CI
// step writing `> summary.json` on a full disk must not pass.
bool print_stdout(const std::string& text, std::string_view what);
// Says that `what` (empty: anything) could not be written to standard
// output, errno `error`; not when the reader closed it (EPIPE), as in
// `wp plan | head`, which needs no telling. The exit status says it anyway.
void report_stdout_error(std::string_view what, int error);

// The history database, or none: a run never fails because its history
// cannot be read or written; it says so and packs by the declarations.
std::optional<profile::Store> open_history(const std::string& db_flag, DbUse use);
// The state database as a command uses it: read-write (and brought up to
// date), or read-only (see DbUse).
Result<profile::Store> open_store(const std::filesystem::path& path, DbUse use);

// --learn, already checked against its choices by CLI11.
profile::LearnMode learn_mode(const std::string& flag);

// The policy flags into the scheduler's policy; an Error names the flag.
// `strategy` replaces flags.strategy (`wp plan --strategy all` runs each).
Result<sched::Policy> parse_policy(const PolicyFlags& flags, const std::string& strategy);

// The ledger of this user's wp processes, judged against `capacity` packed
// by `policy`; none with --ledger off or WP_LEDGER=off. Said on stderr when
// it cannot be used: the command then exits kExitUsage (nothing was started).
std::optional<std::optional<ledger::Ledger>> open_ledger(const std::string& flag,
                                                         const Resources& capacity,
                                                         const sched::Policy& policy);

}  // namespace wp::cli
