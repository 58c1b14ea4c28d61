#include <fmt/format.h>

#include "manifest/manifest.h"

namespace wp::manifest {

namespace {

std::string gpus(uint64_t n) {
  return fmt::format("{} GPU{}", n, n == 1 ? "" : "s");
}

}  // namespace

// The advice may not simply be "raise the cap": a cap only ever lowers what
// the machine has, so when the machine is the limit only the job can change.
// The machine keeps no iops figure, so an iops limit is always a cap.
Diagnostics check_fits(const Manifest& manifest, const Resources& capacity) {
  Diagnostics out;
  auto report = [&](const Job& job, std::string message) {
    out.push_back(Diagnostic{manifest.path.string(), job.pos, std::move(message)});
  };
  for (const Job& job : manifest.jobs) {
    const Resources& need = job.request;
    if (need.cpu > capacity.cpu) {
      report(job, fmt::format("job '{}' needs cpu {} but wp may use at most {}; lower the job's "
                              "cpu, or raise --cpus / [capacity] if they cap it below the machine",
                              job.name, format_cores(need.cpu), format_cores(capacity.cpu)));
    }
    if (need.memory > capacity.memory) {
      report(job, fmt::format("job '{}' needs memory {} but wp may use at most {}; lower the "
                              "job's memory, or raise --memory / [capacity] if they cap it below "
                              "the machine",
                              job.name, format_bytes(need.memory), format_bytes(capacity.memory)));
    }
    if (capacity.iops != Resources::kUnlimited && need.iops > capacity.iops) {
      report(job, fmt::format("job '{}' needs iops {} but wp may use at most {}; lower the job's "
                              "iops, or raise the --iops / [capacity] cap that sets it",
                              job.name, need.iops, capacity.iops));
    }
    if (need.gpu > capacity.gpu) {
      report(job, fmt::format("job '{}' needs {} but wp may use {}; lower the job's gpu, run "
                              "where more GPUs are available, or raise [capacity] gpu if it caps "
                              "them below the machine",
                              job.name, gpus(need.gpu), capacity.gpu));
    }
  }
  return out;
}

}  // namespace wp::manifest
