// ProcTreeMeter on Linux: the job's tree read from /proc/*/stat, statm and io
// (see platform/proc_tree.h for what sampling cannot see).
//
// Why the CPU and I/O totals never go back. A process's counters cover
// itself and the children it reaped: when a member of the tree is reaped by
// its parent, its figures move into the parent's cutime/cstime and
// /proc/PID/io, and the tree's sum does not change. But a member can also
// leave without anyone in the tree absorbing it: reaped by wp (the subreaper)
// after its parent died, auto-reaped because its parent ignores SIGCHLD, or
// gone from the tree while alive (setsid after its parent died). So each
// sample:
// - a member that was seen and is gone hands its last-seen counters to its
//   nearest surviving ancestor (walking the last-seen ppids through members
//   that are gone too), or to nobody;
// - each such heir is owed the counters handed to it, and pays with the
//   growth of its "absorbed" counters since the last sample; what it did not
//   absorb (and what was handed to nobody) goes to departed_;
// - the tree's total is departed_ plus the counters of the members now, each
//   member's counters being the highest seen for that process.
// Nothing is counted twice: a departed member is either in its heir's
// counters or in departed_, only the shortfall goes to departed_. The bias is
// downward: what a process did after its last sample is lost if nobody in the
// tree reaps it, and processes that start and end between two samples are
// never seen if reaped outside the tree. For I/O, /proc/PID/io does not split
// a process's own I/O from its children's, so an heir's own I/O can pay for a
// child whose I/O it did not absorb (auto-reaped): also an undercount. wp's
// rusage for the main process bounds both from below in finish().
//
// RSS is summed over the members, so pages shared between them (fork's
// copy-on-write, shared libraries, shm) count once per process: the sum is
// an upper bound of what the tree holds, the peak of it the figure we keep.
#include "platform/proc_tree.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>
#include <unordered_set>
#include <vector>

#include "platform/linux/host_internal.h"

namespace wp::platform {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::chrono::milliseconds kFirstInterval = 10ms;
constexpr std::chrono::milliseconds kMaxInterval = 1s;
// Clock ticks are 10 ms: over a shorter window one busy thread can read as two.
constexpr std::chrono::milliseconds kMinRateWindow = 100ms;

// What the meter takes from /proc/PID/stat (fields numbered as in proc(5)).
struct ProcStat {
  pid_t ppid = 0;
  pid_t pgid = 0;
  uint64_t self_ticks = 0;   // utime + stime (14, 15)
  uint64_t child_ticks = 0;  // cutime + cstime (16, 17): the children it reaped
  uint64_t start_ticks = 0;  // starttime (22)
};

// The comm field (2) is in parentheses and may itself contain spaces and
// ')', so the fixed fields start after the *last* ')'.
std::optional<ProcStat> parse_stat(std::string_view text) {
  size_t close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::vector<std::string_view> fields = detail::split(detail::trim(text.substr(close + 1)), ' ');
  auto field = [&](size_t number) { return fields[number - 3]; };  // fields[0] is field 3
  if (fields.size() < 20) return std::nullopt;
  auto ppid = detail::parse_i64(field(4));
  auto pgid = detail::parse_i64(field(5));
  auto utime = detail::parse_u64(field(14));
  auto stime = detail::parse_u64(field(15));
  // cutime and cstime are signed in the kernel's format; never negative in practice.
  auto cutime = detail::parse_i64(field(16));
  auto cstime = detail::parse_i64(field(17));
  auto start = detail::parse_u64(field(22));
  if (!ppid || !pgid || !utime || !stime || !cutime || !cstime || !start) return std::nullopt;
  ProcStat stat;
  stat.ppid = static_cast<pid_t>(*ppid);
  stat.pgid = static_cast<pid_t>(*pgid);
  stat.self_ticks = *utime + *stime;
  stat.child_ticks = static_cast<uint64_t>(std::max<int64_t>(*cutime, 0)) +
                     static_cast<uint64_t>(std::max<int64_t>(*cstime, 0));
  stat.start_ticks = *start;
  return stat;
}

std::optional<pid_t> pid_of(const std::string& name) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (name.empty() || !std::all_of(name.begin(), name.end(), digit)) return std::nullopt;
  auto pid = detail::parse_u64(name);
  if (!pid || *pid > INT32_MAX) return std::nullopt;
  return static_cast<pid_t>(*pid);
}

// Every process of the machine, by pid. One pass over /proc: the ppid links
// are all we need to find descendants (task/*/children is not always built).
std::unordered_map<pid_t, ProcStat> scan_processes(const fs::path& proc) {
  std::unordered_map<pid_t, ProcStat> processes;
  std::error_code error;
  for (fs::directory_iterator it(proc, error), end; !error && it != end; it.increment(error)) {
    auto pid = pid_of(it->path().filename().string());
    if (!pid) continue;
    auto text = detail::read_text(it->path() / "stat");
    if (!text) continue;  // ended since readdir
    if (auto stat = parse_stat(*text)) processes.emplace(*pid, *stat);
  }
  return processes;
}

// The descendants of root, the members of its process group (a grandchild
// reparented to wp stays there unless it calls setsid) and their descendants.
std::vector<pid_t> tree_members(const std::unordered_map<pid_t, ProcStat>& processes, pid_t root) {
  std::unordered_map<pid_t, std::vector<pid_t>> children;
  std::vector<pid_t> pending;
  for (const auto& [pid, stat] : processes) {
    children[stat.ppid].push_back(pid);
    if (pid == root || stat.pgid == root) pending.push_back(pid);
  }
  std::unordered_set<pid_t> members;
  while (!pending.empty()) {
    pid_t pid = pending.back();
    pending.pop_back();
    if (!members.insert(pid).second) continue;
    if (auto it = children.find(pid); it != children.end()) {
      pending.insert(pending.end(), it->second.begin(), it->second.end());
    }
  }
  return {members.begin(), members.end()};
}

// Resident pages (statm field 2) in bytes; 0 when unreadable (or a zombie).
Bytes resident_bytes(const fs::path& statm, long page_size) {
  auto text = detail::read_text(statm);
  if (!text) return 0;
  std::vector<std::string_view> fields = detail::split(detail::trim(*text), ' ');
  auto pages = fields.size() >= 2 ? detail::parse_u64(fields[1]) : std::nullopt;
  return pages ? *pages * static_cast<Bytes>(page_size) : 0;
}

struct IoCounters {
  uint64_t read_bytes = 0, write_bytes = 0, read_calls = 0, write_calls = 0;
};

// /proc/PID/io needs ptrace-read access (not given for setuid programs or
// other users): what cannot be read counts as 0, the meter never fails.
IoCounters read_io(const fs::path& path) {
  IoCounters io;
  auto text = detail::read_text(path);
  if (!text) return io;
  auto value = [&](std::string_view key) -> uint64_t {
    auto field = detail::key_value(*text, key);
    auto number = field ? detail::parse_u64(*field) : std::nullopt;
    return number.value_or(0);
  };
  io.read_bytes = value("read_bytes");
  io.write_bytes = value("write_bytes");
  io.read_calls = value("syscr");
  io.write_calls = value("syscw");
  return io;
}

double seconds_of(const timeval& time) {
  return static_cast<double>(time.tv_sec) + static_cast<double>(time.tv_usec) / 1e6;
}

}  // namespace

ProcTreeMeter::Counters& ProcTreeMeter::Counters::operator+=(const Counters& other) {
  cpu_ticks += other.cpu_ticks;
  read_bytes += other.read_bytes;
  write_bytes += other.write_bytes;
  read_calls += other.read_calls;
  write_calls += other.write_calls;
  return *this;
}

void ProcTreeMeter::Counters::raise_to(const Counters& other) {
  cpu_ticks = std::max(cpu_ticks, other.cpu_ticks);
  read_bytes = std::max(read_bytes, other.read_bytes);
  write_bytes = std::max(write_bytes, other.write_bytes);
  read_calls = std::max(read_calls, other.read_calls);
  write_calls = std::max(write_calls, other.write_calls);
}

ProcTreeMeter::Counters ProcTreeMeter::Counters::minus(const Counters& other) const {
  auto less = [](uint64_t a, uint64_t b) { return a > b ? a - b : 0; };
  return {less(cpu_ticks, other.cpu_ticks), less(read_bytes, other.read_bytes),
          less(write_bytes, other.write_bytes), less(read_calls, other.read_calls),
          less(write_calls, other.write_calls)};
}

ProcTreeMeter::ProcTreeMeter(pid_t root, std::filesystem::path proc)
    : root_(root),
      proc_(std::move(proc)),
      clock_ticks_(std::max(sysconf(_SC_CLK_TCK), 1L)),
      page_size_(std::max(sysconf(_SC_PAGESIZE), 1L)),
      started_(std::chrono::steady_clock::now()),
      next_(started_),
      interval_(kFirstInterval) {}

size_t ProcTreeMeter::signal_members(int signal) const {
  size_t signalled = 0;
  for (const auto& [pid, start] : ever_) {
    auto text = detail::read_text(proc_ / std::to_string(pid) / "stat");
    std::optional<ProcStat> now = text ? parse_stat(*text) : std::nullopt;
    // A pid the kernel gave to another process since is not ours to kill.
    if (now && now->start_ticks == start && ::kill(pid, signal) == 0) ++signalled;
  }
  return signalled;
}

struct ProcessTable::Impl {
  std::unordered_map<pid_t, ProcStat> processes;
};

ProcessTable ProcessTable::scan(const fs::path& proc) {
  auto impl = std::make_shared<Impl>();
  impl->processes = scan_processes(proc);
  ProcessTable table;
  table.impl_ = std::move(impl);
  return table;
}

TreeSample ProcTreeMeter::sample(TimePoint now) {
  return sample(now, ProcessTable::scan(proc_));
}

TreeSample ProcTreeMeter::sample(TimePoint now, const ProcessTable& table) {
  TreeSample result;
  SeenMap current = read_tree(table, result.rss);
  size_t departed = account_departed(current);
  bool changed = departed > 0 || current.size() != seen_.size();
  seen_ = std::move(current);
  for (const auto& [pid, seen] : seen_)
    ever_[pid] = seen.start_ticks;

  Counters total = departed_;
  for (const auto& [pid, seen] : seen_)
    total += seen.total;
  total_.raise_to(total);  // already monotonic by construction; this makes it a guarantee

  result.processes = seen_.size();
  result.cpu_seconds = static_cast<double>(total_.cpu_ticks) / static_cast<double>(clock_ticks_);
  result.read_bytes = total_.read_bytes;
  result.write_bytes = total_.write_bytes;
  result.read_calls = total_.read_calls;
  result.write_calls = total_.write_calls;
  peak_rss_ = std::max(peak_rss_, result.rss);
  ++samples_;
  note_rate(now);
  schedule(now, changed);
  return result;
}

// The tree now, each member's counters raised to the highest seen for that
// process; rss gets the members' summed resident memory.
ProcTreeMeter::SeenMap ProcTreeMeter::read_tree(const ProcessTable& table, Bytes& rss) const {
  const std::unordered_map<pid_t, ProcStat>& processes = table.impl_->processes;
  SeenMap current;
  for (pid_t pid : tree_members(processes, root_)) {
    const ProcStat& stat = processes.at(pid);
    fs::path dir = proc_ / std::to_string(pid);
    IoCounters io = read_io(dir / "io");
    Seen seen;
    seen.start_ticks = stat.start_ticks;
    seen.ppid = stat.ppid;
    seen.total = {stat.self_ticks + stat.child_ticks, io.read_bytes, io.write_bytes, io.read_calls,
                  io.write_calls};
    // io has no own/children split: all of it may be what the process absorbed.
    seen.absorbed = {stat.child_ticks, io.read_bytes, io.write_bytes, io.read_calls,
                     io.write_calls};
    if (auto old = seen_.find(pid);
        old != seen_.end() && old->second.start_ticks == stat.start_ticks) {
      seen.total.raise_to(old->second.total);
      seen.absorbed.raise_to(old->second.absorbed);
    }
    rss += resident_bytes(dir / "statm", page_size_);
    current.emplace(pid, seen);
  }
  return current;
}

// Moves the counters of the members of the last sample that are not in this
// one into departed_, unless a surviving ancestor absorbed them (see the
// comment at the top). Returns how many departed.
size_t ProcTreeMeter::account_departed(const SeenMap& current) {
  auto survives = [&](pid_t pid) {
    auto now = current.find(pid);
    if (now == current.end()) return false;
    auto before = seen_.find(pid);
    return before == seen_.end() || before->second.start_ticks == now->second.start_ticks;
  };
  std::unordered_map<pid_t, Counters> owed;  // by heir
  size_t departed = 0;
  for (const auto& [pid, seen] : seen_) {
    if (survives(pid)) continue;
    ++departed;
    std::optional<pid_t> heir;
    pid_t ancestor = seen.ppid;
    // Walk up through members that are gone too; the bound only guards
    // against a ppid cycle in a broken fixture.
    for (size_t steps = 0; steps <= seen_.size(); ++steps) {
      if (survives(ancestor)) {
        heir = ancestor;
        break;
      }
      auto up = seen_.find(ancestor);
      if (up == seen_.end()) break;
      ancestor = up->second.ppid;
    }
    if (heir) {
      owed[*heir] += seen.total;
    } else {
      departed_ += seen.total;
    }
  }
  for (const auto& [heir, debt] : owed) {
    Counters grown = current.at(heir).absorbed;
    if (auto before = seen_.find(heir); before != seen_.end()) {
      grown = grown.minus(before->second.absorbed);
    }
    departed_ += debt.minus(grown);
  }
  return departed;
}

// peak_cores over windows of at least kMinRateWindow between samples.
void ProcTreeMeter::note_rate(TimePoint now) {
  if (!rate_anchor_) {
    rate_anchor_ = {now, total_.cpu_ticks};
    return;
  }
  auto window = now - rate_anchor_->first;
  if (window < kMinRateWindow) return;
  double cpu = static_cast<double>(total_.cpu_ticks - rate_anchor_->second) /
               static_cast<double>(clock_ticks_);
  peak_cores_ = std::max(peak_cores_, cpu / std::chrono::duration<double>(window).count());
  rate_anchor_ = {now, total_.cpu_ticks};
}

// Every sample that finds the same members doubles the interval, up to
// kMaxInterval: short jobs are seen within 10 ms, long quiet ones cost one
// scan of /proc a second. A tree that keeps changing (make -j) keeps its
// interval, but never samples more often than an eighth of the job's age, so
// the scans (a few ms each on a busy machine) stay a small share of the run.
void ProcTreeMeter::schedule(TimePoint now, bool changed) {
  using std::chrono::milliseconds;
  if (!changed) interval_ = std::min(interval_ * 2, kMaxInterval);
  auto age = std::chrono::duration_cast<milliseconds>(
      std::max(now - started_, TimePoint::duration::zero()));
  milliseconds floor = std::min(std::max(kFirstInterval, age / 8), kMaxInterval);
  interval_ = std::clamp(interval_, floor, kMaxInterval);
  next_ = now + interval_;
}

namespace {

// Whether `rss` is above wp's own high-water mark of resident memory
// (VmHWM). The mark only grows, so one read serves every job whose figure is
// below what was last read: /proc/self/status is read again only when a
// figure is above it (it took as long as the rest of a small job's
// measuring).
bool above_self_peak_rss(Bytes rss) {
  static std::atomic<Bytes> known_peak{0};
  if (rss <= known_peak.load(std::memory_order_relaxed)) return false;
  auto text = detail::read_text("/proc/self/status");
  if (!text) return true;
  size_t at = text->find("VmHWM:");
  if (at == std::string::npos) return true;
  Bytes peak = static_cast<Bytes>(std::strtoull(text->c_str() + at + 6, nullptr, 10)) * 1024;
  known_peak.store(peak, std::memory_order_relaxed);
  return rss > peak;
}

}  // namespace

TreeUsage ProcTreeMeter::finish(const struct rusage& main_usage) const {
  TreeUsage usage;
  // ru_maxrss is in KiB, and it is the largest single process (the main one
  // or one of the children it waited for), not the tree: never the sum, so
  // only a floor under the sampled peak. But a job started by vfork borrows
  // wp's memory until it execs, and exec hands the borrowed memory's
  // high-water mark down to the child's ru_maxrss: a figure no larger than
  // wp's own peak may be wp's, not the job's, so it is not used.
  Bytes max_rss = static_cast<Bytes>(std::max<long>(main_usage.ru_maxrss, 0)) * 1024;
  // wp's own peak is read only when ru_maxrss could raise the sampled one.
  bool raises = max_rss > peak_rss_ && above_self_peak_rss(max_rss);
  usage.peak_rss = raises ? max_rss : peak_rss_;
  usage.user_seconds = seconds_of(main_usage.ru_utime);
  usage.system_seconds = seconds_of(main_usage.ru_stime);
  // wait4's rusage covers the main process and every descendant reaped below
  // it, including what ended between samples.
  double sampled_cpu = static_cast<double>(total_.cpu_ticks) / static_cast<double>(clock_ticks_);
  usage.cpu_seconds = std::max(sampled_cpu, usage.user_seconds + usage.system_seconds);
  // ru_inblock and ru_oublock are 512-byte blocks of the same accounting as
  // io's read_bytes and write_bytes (less cancelled writes).
  usage.read_bytes = std::max<uint64_t>(
      total_.read_bytes, static_cast<uint64_t>(std::max<long>(main_usage.ru_inblock, 0)) * 512);
  usage.write_bytes = std::max<uint64_t>(
      total_.write_bytes, static_cast<uint64_t>(std::max<long>(main_usage.ru_oublock, 0)) * 512);
  usage.read_calls = total_.read_calls;
  usage.write_calls = total_.write_calls;
  usage.peak_cores = peak_cores_;
  usage.samples = samples_;
  return usage;
}

}  // namespace wp::platform
