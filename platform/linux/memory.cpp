// How much memory jobs may use: what the machine has available, capped by the
// tightest cgroup limit on the way up the tree. Not "limit minus usage": the
// cgroup's current usage includes page cache the kernel reclaims on demand.
#include <fmt/format.h>

#include "platform/linux/host_internal.h"

namespace wp::platform::detail {
namespace {

struct Limit {
  Bytes bytes = 0;
  std::string what;  // "cgroup v2 memory.max at /x"
};

void consider(std::optional<Limit>& best, Bytes bytes, std::string what) {
  if (!best || bytes < best->bytes) best = Limit{bytes, std::move(what)};
}

// cgroup v1 has no "max": an unlimited cgroup reports LONG_MAX rounded down
// to a page (9223372036854771712). Anything at or above 2^62 is that or kin.
std::optional<Bytes> v1_limit(std::string_view text) {
  auto value = parse_u64(text);
  if (!value || *value >= (uint64_t{1} << 62)) return std::nullopt;
  return *value;
}

// cgroup v2 writes "max" for no limit.
std::optional<Bytes> v2_limit(std::string_view text) {
  if (trim(text) == "max") return std::nullopt;
  return parse_u64(text);
}

std::optional<Limit> tightest_limit(const CgroupView& cgroups) {
  std::optional<Limit> best;
  for (const CgroupDir& cgroup : cgroups.unified) {
    for (const char* file : {"memory.max", "memory.high"}) {
      auto text = read_text(cgroup.dir / file);
      if (!text) continue;
      if (auto bytes = v2_limit(*text)) {
        consider(best, *bytes, fmt::format("cgroup v2 {} at {}", file, cgroup.path));
      }
    }
  }
  if (auto it = cgroups.v1.find("memory"); it != cgroups.v1.end()) {
    for (const CgroupDir& cgroup : it->second) {
      auto text = read_text(cgroup.dir / "memory.limit_in_bytes");
      if (!text) continue;
      if (auto bytes = v1_limit(*text)) {
        consider(best, *bytes, fmt::format("cgroup v1 memory.limit_in_bytes at {}", cgroup.path));
      }
    }
  }
  return best;
}

}  // namespace

void probe_memory(const HostRoots& roots, const CgroupView& cgroups, HostCapacity& host) {
  std::string meminfo = read_text(roots.proc / "meminfo").value_or("");
  auto total = meminfo_bytes(meminfo, "MemTotal");
  auto available = meminfo_bytes(meminfo, "MemAvailable");
  host.host_memory = total.value_or(0);
  std::string total_text = total ? format_bytes(*total) : "unknown";

  // MemAvailable, not MemTotal: memory other programs hold is not ours to pack.
  if (available) {
    host.memory = *available;
    host.memory_source = fmt::format("MemAvailable in /proc/meminfo (MemTotal {})", total_text);
  } else if (total) {
    host.memory = *total;
    host.memory_source = "MemTotal in /proc/meminfo (no MemAvailable)";
  } else {
    host.memory = 0;
    host.memory_source = "unknown (/proc/meminfo unreadable)";
  }

  std::optional<Limit> limit = tightest_limit(cgroups);
  if (limit && (host.memory == 0 || limit->bytes < host.memory)) {
    host.memory = limit->bytes;
    host.memory_source = fmt::format("{} (host has {})", limit->what, total_text);
  }
}

}  // namespace wp::platform::detail
