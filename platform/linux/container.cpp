// Which container, if any, wp runs in. Reported so users understand the
// limits `wp info` shows; nothing depends on it.
#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "platform/linux/host_internal.h"

namespace wp::platform::detail {
namespace {

struct Evidence {
  std::string kind;
  std::vector<std::string> notes;

  void add(const std::string& found_kind, std::string note) {
    if (kind.empty()) kind = found_kind;
    notes.push_back(std::move(note));
  }
};

// The runtime a cgroup path names: "/docker/<id>", "/system.slice/docker-<id>.scope",
// "/kubepods/burstable/pod<uid>/<id>", "/machine.slice/libpod-<id>.scope".
std::string runtime_of(const std::string& path) {
  if (path.find("/kubepods") != std::string::npos) return "kubernetes";
  if (path.find("/docker/") != std::string::npos || path.find("/docker-") != std::string::npos) {
    return "docker";
  }
  if (path.find("/libpod") != std::string::npos) return "podman";
  if (path.find("/containerd") != std::string::npos) return "containerd";
  return "";
}

}  // namespace

void detect_container(const HostRoots& roots, const CgroupView& cgroups, HostCapacity& host) {
  Evidence evidence;
  // Kubernetes first: its pods often run under Docker too, and the pod is what the user knows.
  if (env_value(roots, "KUBERNETES_SERVICE_HOST")) {
    evidence.add("kubernetes", "KUBERNETES_SERVICE_HOST is set");
  }
  std::error_code error;
  if (std::filesystem::exists(roots.root / ".dockerenv", error)) {
    evidence.add("docker", "/.dockerenv exists");
  }
  for (const std::string& path : cgroups.paths) {
    std::string kind = runtime_of(path);
    std::string note = "cgroup path " + path;
    if (kind.empty() ||
        std::find(evidence.notes.begin(), evidence.notes.end(), note) != evidence.notes.end()) {
      continue;
    }
    evidence.add(kind, note);
  }
  host.container = evidence.kind;
  host.container_evidence = fmt::format("{}", fmt::join(evidence.notes, "; "));
}

}  // namespace wp::platform::detail
