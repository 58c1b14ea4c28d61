// probe_host on Linux: each figure from its own file (cpu.cpp, memory.cpp,
// gpu.cpp, container.cpp), all read through the same view of the cgroups.
#include "platform/host.h"

#include "platform/linux/host_internal.h"

namespace wp::platform {

HostCapacity probe_host(const HostRoots& roots) {
  HostCapacity host;
  detail::CgroupView cgroups = detail::read_cgroups(roots);
  host.cgroup = cgroups.info;
  detail::probe_cpu(roots, cgroups, host);
  detail::probe_memory(roots, cgroups, host);
  detail::probe_gpus(roots, host);
  detail::detect_container(roots, cgroups, host);
  return host;
}

}  // namespace wp::platform
