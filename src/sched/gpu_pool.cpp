#include "sched/gpu_pool.h"

#include <algorithm>
#include <cassert>

#include <fmt/format.h>

namespace wp::sched {

std::vector<int> GpuPool::acquire(size_t count) {
  assert(count <= free_.size() && "more GPUs admitted than exist");
  std::sort(free_.begin(), free_.end());
  std::vector<int> taken(free_.begin(), free_.begin() + static_cast<std::ptrdiff_t>(count));
  free_.erase(free_.begin(), free_.begin() + static_cast<std::ptrdiff_t>(count));
  return taken;
}

void GpuPool::release(const std::vector<int>& devices) {
  free_.insert(free_.end(), devices.begin(), devices.end());
  std::sort(free_.begin(), free_.end());
}

std::string device_list(const std::vector<int>& devices) {
  return fmt::format("{}", fmt::join(devices, ","));
}

}  // namespace wp::sched
