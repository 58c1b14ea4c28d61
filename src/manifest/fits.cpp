// Requests no machine wp may use can grant: reported at the key that set the
// value, once for every job it reaches.
#include <array>
#include <tuple>

#include <fmt/format.h>

#include "manifest/internal.h"
#include "manifest/manifest.h"

namespace wp::manifest {

namespace {

using detail::Grouped;
using detail::JobRange;
using From = RequestSource::From;

std::string gpus(uint64_t n) {
  return fmt::format("{} GPU{}", n, n == 1 ? "" : "s");
}

// One resource as a request and a capacity hold it, and how to word it.
struct Dimension {
  std::string_view key;  // "memory"
  RequestSource RequestSources::*source;
  bool (*exceeds)(const Resources& need, const Resources& capacity);
  std::string (*need)(const Resources& need);       // "memory 1 TiB", "1 GPU"
  std::string (*limit)(const Resources& capacity);  // "at most 22.8 GiB", "0"
  // After the advice to lower the request. The advice may not simply be
  // "raise the cap": a cap only ever lowers what the machine has, so when
  // the machine is the limit only the job can change. The machine keeps no
  // iops figure, so an iops limit is always a cap.
  std::string_view otherwise;
  // The same where the flags name the machine (see check_fits).
  std::string_view otherwise_as_given;
};

const std::array<Dimension, 4> kDimensions{{
    {"cpu", &RequestSources::cpu,
     [](const Resources& need, const Resources& cap) { return need.cpu > cap.cpu; },
     [](const Resources& need) { return fmt::format("cpu {}", format_cores(need.cpu)); },
     [](const Resources& cap) { return fmt::format("at most {}", format_cores(cap.cpu)); },
     "or raise --cpus / [capacity] if they cap it below the machine",
     "or name a larger machine with --cpus"},
    {"memory", &RequestSources::memory,
     [](const Resources& need, const Resources& cap) { return need.memory > cap.memory; },
     [](const Resources& need) { return fmt::format("memory {}", format_bytes(need.memory)); },
     [](const Resources& cap) { return fmt::format("at most {}", format_bytes(cap.memory)); },
     "or raise --memory / [capacity] if they cap it below the machine",
     "or name a larger machine with --memory"},
    {"iops", &RequestSources::iops,
     [](const Resources& need, const Resources& cap) {
       return cap.iops != Resources::kUnlimited && need.iops > cap.iops;
     },
     [](const Resources& need) { return fmt::format("iops {}", need.iops); },
     [](const Resources& cap) { return fmt::format("at most {}", cap.iops); },
     "or raise the --iops / [capacity] cap that sets it",
     "or raise the --iops / [capacity] cap that sets it"},
    {"gpu", &RequestSources::gpu,
     [](const Resources& need, const Resources& cap) { return need.gpu > cap.gpu; },
     [](const Resources& need) { return gpus(need.gpu); },
     [](const Resources& cap) { return fmt::format("{}", cap.gpu); },
     "run where more GPUs are available, or raise [capacity] gpu if it caps them below the "
     "machine",
     "run where more GPUs are available, or raise [capacity] gpu if it caps them below the "
     "machine"},
}};

// The jobs one place in the file makes too large in one dimension. Every
// job of a group asks for the same amount: it was written once.
struct Overflow {
  const Dimension* dimension;
  const Job* first;
  RequestSource source;
  JobRange jobs;
};

// A built-in default was written nowhere: its place is each table's name.
SourcePos blamed_pos(const Job& job, const RequestSource& source) {
  return source.from == From::builtin ? job.pos : source.pos;
}

// Who needs it, and what to lower.
std::pair<std::string, std::string> subject_and_advice(const Overflow& overflow) {
  const std::string_view key = overflow.dimension->key;
  const JobRange& jobs = overflow.jobs;
  const bool one = jobs.count() == 1;
  switch (overflow.source.from) {
    case From::job:
      return {jobs.subject("", "from this table"), one ? fmt::format("lower the job's {}", key)
                                                       : fmt::format("lower the table's {}", key)};
    case From::defaults: {
      std::string note = fmt::format("with {} from [defaults]", key);
      return {jobs.subject(note, note), fmt::format("lower [defaults] {} or set {} in {}", key, key,
                                                    one ? "the job" : "those jobs")};
    }
    case From::builtin:
      break;
  }
  std::string note = fmt::format("with the built-in {}", key);
  return {
      jobs.subject(note, "from this table " + note),
      fmt::format("set a lower {} in {} or in [defaults]", key, one ? "the job" : "this table")};
}

Diagnostic describe(const Overflow& overflow, const Manifest& manifest, const Resources& capacity,
                    bool flags_as_given) {
  const Dimension& dimension = *overflow.dimension;
  auto [subject, lower] = subject_and_advice(overflow);
  std::string message = fmt::format(
      "{} need{} {} but wp may use {}; {}, {}", subject, overflow.jobs.count() == 1 ? "s" : "",
      dimension.need(overflow.first->request), dimension.limit(capacity), lower,
      flags_as_given ? dimension.otherwise_as_given : dimension.otherwise);
  return {manifest.path.string(), blamed_pos(*overflow.first, overflow.source), std::move(message)};
}

}  // namespace

Diagnostics check_fits(const Manifest& manifest, const Resources& capacity, bool flags_as_given) {
  using Key = std::tuple<size_t, From, uint32_t, uint32_t>;
  Grouped<Key, Overflow> overflows;
  for (const Job& job : manifest.jobs) {
    for (size_t d = 0; d < kDimensions.size(); ++d) {
      const Dimension& dimension = kDimensions[d];
      if (!dimension.exceeds(job.request, capacity)) continue;
      const RequestSource& source = job.request_from.*dimension.source;
      SourcePos pos = blamed_pos(job, source);
      auto make = [&] { return Overflow{&dimension, &job, source, {}}; };
      overflows.at({d, source.from, pos.line, pos.column}, make).jobs.add(job.name);
    }
  }
  Diagnostics out;
  for (const Overflow& overflow : overflows.groups())
    out.push_back(describe(overflow, manifest, capacity, flags_as_given));
  return out;
}

}  // namespace wp::manifest
