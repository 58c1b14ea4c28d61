#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "platform/host.h"

namespace wp::platform {
namespace {

// Values in /proc/meminfo are in KiB, whatever the "kB" label says.
std::optional<Bytes> meminfo_field(const std::string& text, std::string_view field) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) != 0 || line.size() <= field.size() || line[field.size()] != ':') {
      continue;
    }
    try {
      return static_cast<Bytes>(std::stoull(line.substr(field.size() + 1))) * 1024;
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void probe_cpu(HostCapacity& host) {
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int allowed = CPU_COUNT(&set);
    host.cpu = Cores::from_millis(int64_t{allowed} * 1000);
    host.cpu_source = fmt::format("affinity mask ({} of {} online CPUs)", allowed, online);
    return;
  }
  host.cpu = Cores::from_millis(std::max(1L, online) * 1000);
  host.cpu_source = "online CPUs (sysconf)";
}

void probe_memory(HostCapacity& host, const std::filesystem::path& proc_root) {
  std::string meminfo = read_text(proc_root / "meminfo");
  auto total = meminfo_field(meminfo, "MemTotal");
  auto available = meminfo_field(meminfo, "MemAvailable");
  // MemAvailable, not MemTotal: memory other programs hold is not ours to pack.
  if (available) {
    host.memory = *available;
    host.memory_source =
        fmt::format("MemAvailable in {} (MemTotal {})", (proc_root / "meminfo").string(),
                    total ? format_bytes(*total) : "unknown");
  } else if (total) {
    host.memory = *total;
    host.memory_source = fmt::format("MemTotal in {}", (proc_root / "meminfo").string());
  } else {
    host.memory = 0;
    host.memory_source = fmt::format("unknown ({} unreadable)", (proc_root / "meminfo").string());
  }
}

}  // namespace

HostCapacity probe_host(const std::filesystem::path& proc_root) {
  HostCapacity host;
  probe_cpu(host);
  probe_memory(host, proc_root);
  return host;
}

}  // namespace wp::platform
