// Which GPU devices a job gets. The tracker counts GPUs like any resource;
// this hands out the device indices behind the count, so that two jobs
// never share a device and a job sees exactly its own (CUDA_VISIBLE_DEVICES).
#pragma once

#include <string>
#include <vector>

namespace wp::sched {

class GpuPool {
 public:
  explicit GpuPool(std::vector<int> devices) : free_(std::move(devices)) {}

  // `count` devices, lowest indices first. The tracker has admitted the job,
  // so they are there; asserts otherwise.
  std::vector<int> acquire(size_t count);
  void release(const std::vector<int>& devices);
  size_t available() const { return free_.size(); }

 private:
  std::vector<int> free_;  // kept sorted
};

// "0,2": the form CUDA_VISIBLE_DEVICES and NVIDIA_VISIBLE_DEVICES take.
std::string device_list(const std::vector<int>& devices);

}  // namespace wp::sched
