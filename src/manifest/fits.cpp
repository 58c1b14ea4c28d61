#include <fmt/format.h>

#include "manifest/manifest.h"

namespace wp::manifest {

namespace {

std::string gpus(uint64_t n) {
  return fmt::format("{} GPU{}", n, n == 1 ? "" : "s");
}

}  // namespace

Diagnostics check_fits(const Manifest& manifest, const Resources& capacity) {
  Diagnostics out;
  auto report = [&](const Job& job, std::string message) {
    out.push_back(Diagnostic{manifest.path.string(), job.pos, std::move(message)});
  };
  for (const Job& job : manifest.jobs) {
    const Resources& need = job.request;
    if (need.cpu > capacity.cpu) {
      report(job, fmt::format("job '{}' needs cpu {} but wp may use at most {}; lower the job's "
                              "cpu or raise the capacity (--cpus)",
                              job.name, format_cores(need.cpu), format_cores(capacity.cpu)));
    }
    if (need.memory > capacity.memory) {
      report(job, fmt::format("job '{}' needs memory {} but wp may use at most {}; lower the "
                              "job's memory or raise the capacity (--memory)",
                              job.name, format_bytes(need.memory), format_bytes(capacity.memory)));
    }
    if (capacity.iops != Resources::kUnlimited && need.iops > capacity.iops) {
      report(job, fmt::format("job '{}' needs iops {} but wp may use at most {}; lower the job's "
                              "iops or raise the capacity (--iops)",
                              job.name, need.iops, capacity.iops));
    }
    if (need.gpu > capacity.gpu) {
      report(job, fmt::format("job '{}' needs {} but wp may use {}; lower the job's gpu or run "
                              "where more GPUs are available",
                              job.name, gpus(need.gpu), capacity.gpu));
    }
  }
  return out;
}

}  // namespace wp::manifest
