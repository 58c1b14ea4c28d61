// Pieces of probe_host shared between the files of platform/linux. Each
// reader takes the injectable roots and degrades to "no figure" on missing,
// unreadable or garbage input: nothing here throws for what a file contains.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/host.h"

namespace wp::platform::detail {

// ---- text.cpp: reading and parsing small kernel files ----

// The whole file, or nothing when it is missing, not a regular file or unreadable.
std::optional<std::string> read_text(const std::filesystem::path& path);
std::string_view trim(std::string_view text);
std::vector<std::string_view> split(std::string_view text, char separator);
// A whole unsigned or signed decimal number, surrounding blanks allowed.
std::optional<uint64_t> parse_u64(std::string_view text);
std::optional<int64_t> parse_i64(std::string_view text);
// Number of CPUs in a kernel CPU list ("0-3,8,10-11"); nothing for garbage.
std::optional<int> count_cpu_list(std::string_view text);
// The value of "Field:" in a "Key: value" file such as /proc/self/status.
std::optional<std::string> key_value(std::string_view text, std::string_view key);
// A /proc/meminfo field in bytes (the file says kB and means KiB).
std::optional<uint64_t> meminfo_bytes(std::string_view text, std::string_view field);
// A variable from HostRoots::env, then from the process environment if allowed.
std::optional<std::string> env_value(const HostRoots& roots, const std::string& name);
// True when every root is the machine's own, so running programs (nvidia-smi) is meaningful.
bool is_real_machine(const HostRoots& roots);

// ---- mountinfo.cpp: /proc/self/mountinfo and /proc/self/cgroup ----

struct Mount {
  std::string root;         // the path inside the filesystem that is mounted ("/" or a cgroup)
  std::string mount_point;  // as the process sees it, e.g. "/sys/fs/cgroup/memory"
  std::string fs_type;      // "cgroup", "cgroup2", ...
  std::string device;       // "major:minor" of the filesystem, e.g. "8:1"
  std::vector<std::string> super_options;  // for v1 cgroups, lists the controllers
};
std::vector<Mount> parse_mountinfo(std::string_view text);

struct ProcCgroup {
  int hierarchy = -1;                    // 0 for the unified hierarchy
  std::vector<std::string> controllers;  // empty for cgroup2 (and for name= only hierarchies)
  std::string path;
};
std::vector<ProcCgroup> parse_proc_cgroup(std::string_view text);

// ---- cgroup.cpp: the process's place in the cgroup hierarchies ----

// One cgroup directory on the way from the process's cgroup up to a mount's root.
struct CgroupDir {
  std::filesystem::path dir;  // where to read its files (re-rooted for fixtures)
  std::string path;           // the cgroup's path in its hierarchy, for source strings
};

struct CgroupView {
  CgroupInfo info;
  std::vector<std::string> paths;  // every cgroup path seen, for container detection
  // Directories from the process's cgroup up to the mount root, leaf first.
  std::vector<CgroupDir> unified;                                 // the cgroup2 hierarchy
  std::map<std::string, std::vector<CgroupDir>, std::less<>> v1;  // by controller: cpu, memory...
};
CgroupView read_cgroups(const HostRoots& roots);

// ---- cpu.cpp, memory.cpp, gpu.cpp, container.cpp ----

void probe_cpu(const HostRoots& roots, const CgroupView& cgroups, HostCapacity& host);
void probe_memory(const HostRoots& roots, const CgroupView& cgroups, HostCapacity& host);
void probe_gpus(const HostRoots& roots, HostCapacity& host);
// Parses nvidia-smi's "index, memory.total" CSV (MiB) into index -> bytes.
std::vector<std::pair<int, uint64_t>> parse_nvidia_smi_memory(std::string_view text);
void detect_container(const HostRoots& roots, const CgroupView& cgroups, HostCapacity& host);

}  // namespace wp::platform::detail
