#include "sched/eta.h"

#include <algorithm>
#include <array>

namespace wp::sched {

double estimate_remaining(const std::vector<RemainingJob>& jobs, const Resources& capacity) {
  // cpu (cores), memory (bytes), iops, gpu: demand x seconds.
  std::array<double, 4> work{};
  double longest = 0;
  for (const RemainingJob& job : jobs) {
    double seconds = std::max(0.0, job.remaining);
    work[0] += job.demand.cpu.as_double() * seconds;
    work[1] += static_cast<double>(job.demand.memory) * seconds;
    work[2] += static_cast<double>(job.demand.iops) * seconds;
    work[3] += static_cast<double>(job.demand.gpu) * seconds;
    longest = std::max(longest, seconds + std::max(0.0, job.after));
  }
  std::array<double, 4> size{
      capacity.cpu.as_double(), static_cast<double>(capacity.memory),
      capacity.iops == Resources::kUnlimited ? 0.0 : static_cast<double>(capacity.iops),
      static_cast<double>(capacity.gpu)};
  double estimate = longest;
  for (size_t i = 0; i < work.size(); ++i) {
    if (size[i] > 0) estimate = std::max(estimate, work[i] / size[i]);
  }
  return estimate;
}

}  // namespace wp::sched
