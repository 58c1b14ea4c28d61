// Loading and checking a manifest, the history database, and the flags and
// output that `wp run`, `wp validate` and `wp plan` share.
#include "cli/common.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "exec/output.h"
#include "platform/terminal.h"
#include "report/summary.h"
#include "sched/scheduler.h"
#include "util/log.h"

namespace wp::cli {
namespace {

// A whole or decimal number and nothing else.
std::optional<double> parse_number(const std::string& text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

// The machine, or the tree WP_HOST_ROOT names standing in for it: tests and
// debugging point wp at a recorded /proc and /sys (of a GPU box, say).
platform::HostCapacity probe_host() {
  platform::HostRoots roots;
  if (const char* root = std::getenv("WP_HOST_ROOT"); root != nullptr && *root != '\0') {
    roots.root = root;
    roots.proc = roots.root / "proc";
    roots.sys = roots.root / "sys";
    roots.dev = roots.root / "dev";
  }
  return platform::probe_host(roots);
}

Result<CapacityCaps> caps_from_flags(const CapacityFlags& flags) {
  CapacityCaps caps;
  if (!flags.cpus.empty()) {
    std::optional<double> cpus = parse_number(flags.cpus);
    if (!cpus || *cpus < Cores::kMin || *cpus > Cores::kMax) {
      return make_error("--cpus: '{}' is not a number of cores from {} to {}; write e.g. 2 or 0.5",
                        flags.cpus, Cores::kMin, Cores::kMax);
    }
    caps.cpu = Cores::from_double(*cpus);
  }
  if (!flags.memory.empty()) {
    auto bytes = parse_bytes(flags.memory);
    if (!bytes) return make_error("--memory: {}", bytes.error().message);
    if (*bytes == 0) return make_error("--memory: must be more than 0");
    caps.memory = *bytes;
  }
  if (!flags.iops.empty()) {
    std::optional<double> iops = parse_number(flags.iops);
    if (!iops || *iops < 0 || *iops != std::floor(*iops) || *iops > 1e18) {
      return make_error("--iops: '{}' is not a whole number of operations per second", flags.iops);
    }
    caps.iops = static_cast<Iops>(*iops);
  }
  return caps;
}

Result<Checked> load_and_check(const std::string& path, const CapacityFlags& flags,
                               const std::string& db, DbUse db_use) {
  auto flag_caps = caps_from_flags(flags);
  if (!flag_caps) return flag_caps.error();
  Checked checked{manifest::load_file(path), {}, 0, {}};
  const manifest::CapacityLimits no_caps;
  const manifest::CapacityLimits& manifest_caps =
      checked.loaded.manifest ? checked.loaded.manifest->capacity : no_caps;
  // Jobs run next to their manifest, so that is the filesystem whose IOPS count.
  platform::HostCapacity host = probe_host();
  checked.machine_memory = host.host_memory;
  checked.machine_cpu = host.cpu;
  checked.capacity = resolve_capacity(
      host, manifest_caps, *flag_caps,
      stored_iops(db, db_use, std::filesystem::path(path).parent_path()), flags.as_given);
  if (checked.loaded.manifest) {
    manifest::Diagnostics& errors = checked.loaded.errors;
    manifest::Diagnostics fits =
        manifest::check_fits(*checked.loaded.manifest, checked.capacity.total, flags.as_given);
    errors.insert(errors.end(), fits.begin(), fits.end());
    manifest::sort_by_position(errors);
  }
  return checked;
}

std::optional<Checked> load_valid(const std::string& path, const CapacityFlags& flags,
                                  const std::string& db, DbUse db_use, bool json,
                                  std::string_view outcome) {
  auto checked = load_and_check(path, flags, db, db_use);
  if (!checked) {
    log::get("cli")->error("{}", checked.error().message);
    return std::nullopt;
  }
  if (!checked->loaded.errors.empty()) {
    print_diagnostics(checked->loaded.errors, outcome);
    if (json) print_stdout(report::validation_json(path, checked->loaded.errors, 0), "JSON");
    return std::nullopt;
  }
  return std::move(*checked);
}

void print_diagnostics(const manifest::Diagnostics& errors, std::string_view outcome) {
  for (const manifest::Diagnostic& d : errors)
    fmt::print(stderr, "{}\n", d.format());
  fmt::print(stderr, "wp: {} error{}{}{}\n", errors.size(), errors.size() == 1 ? "" : "s",
             outcome.empty() ? "" : "; ", outcome);
}

bool use_colour(int fd) {
  const char* no_colour = std::getenv("NO_COLOR");
  if (no_colour != nullptr && *no_colour != '\0') return false;
  const char* term = std::getenv("TERM");
  if (term == nullptr || *term == '\0' || std::string_view(term) == "dumb") return false;
  return platform::is_terminal(fd);
}

bool print_stdout(const std::string& text, std::string_view what) {
  if (exec::write_all(STDOUT_FILENO, text)) return true;
  report_stdout_error(what, errno);
  return false;
}

void report_stdout_error(std::string_view what, int error) {
  if (error == EPIPE) return;
  log::get("cli")->error("cannot write {}{}to standard output: {}", what, what.empty() ? "" : " ",
                         std::strerror(error));
}

Result<profile::Store> open_store(const std::filesystem::path& path, DbUse use) {
  return use == DbUse::Writes ? profile::Store::open(path) : profile::Store::open_read_only(path);
}

std::optional<profile::Store> open_history(const std::string& db_flag, DbUse use) {
  auto path = profile::resolve_db_path(db_flag);
  if (!path) {
    log::get("learn")->warn("job history not used: {}", path.error().message);
    return std::nullopt;
  }
  auto store = open_store(*path, use);
  if (!store) {
    log::get("learn")->warn("job history not used: {}", store.error().message);
    return std::nullopt;
  }
  return std::move(*store);
}

std::optional<std::optional<ledger::Ledger>> open_ledger(const std::string& flag,
                                                         const Resources& capacity,
                                                         const sched::Policy& policy) {
  auto ledger = ledger::open_user_ledger(flag == "off", sched::packing_capacity(capacity, policy));
  if (!ledger) {
    log::get("cli")->error("the ledger of leases: {} (or use --ledger off)",
                           ledger.error().message);
    return std::nullopt;
  }
  if (*ledger) log::get("ledger")->debug("leases in {}", (*ledger)->path().string());
  return std::move(*ledger);
}

profile::LearnMode learn_mode(const std::string& flag) {
  return flag == "off"            ? profile::LearnMode::Off
         : flag == "conservative" ? profile::LearnMode::Conservative
                                  : profile::LearnMode::Auto;
}

namespace {

// A factor from 1 (never) to 16: more than that is no longer a share of the
// cores but a fixed number of jobs, which -j N tools already give.
Result<double> parse_overcommit(const std::string& text) {
  double factor = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), factor);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(factor)) {
    return make_error("'{}' is not a number; use a factor such as 1.25 (1: never)", text);
  }
  if (factor < 1 || factor > 16) {
    return make_error("{} is out of range; use a factor from 1 (never) to 16", text);
  }
  return factor;
}

}  // namespace

Result<sched::Policy> parse_policy(const PolicyFlags& flags, const std::string& strategy) {
  sched::Policy policy;
  if (std::optional<sched::Strategy> parsed = sched::parse_strategy(strategy)) {
    policy.strategy = *parsed;
  } else {
    return make_error(
        "--strategy: unknown strategy '{}'; use first-fit, best-fit, worst-fit or "
        "alignment",
        strategy);
  }
  auto interval = parse_duration(flags.aging);
  if (!interval) return make_error("--aging: {}", interval.error().message);
  policy.aging = std::chrono::duration<double>(*interval).count();
  auto overcommit = parse_overcommit(flags.cpu_overcommit);
  if (!overcommit) return make_error("--cpu-overcommit: {}", overcommit.error().message);
  policy.cpu_overcommit = *overcommit;
  return policy;
}

}  // namespace wp::cli

namespace wp::cli {

std::string default_strategy() {
  return std::string(sched::to_string(sched::Policy{}.strategy));
}

std::string default_cpu_overcommit() {
  return fmt::format("{:g}", sched::Policy{}.cpu_overcommit);
}

std::string default_aging() {
  auto millis = static_cast<int64_t>(std::llround(sched::Policy{}.aging * 1000));
  return format_duration(std::chrono::milliseconds(millis));
}

}  // namespace wp::cli
