// From stored attempts to samples, predictions and accuracy figures.
#include "profile/forecast.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace wp::profile {
namespace {

// "Within" in Accuracy: the prediction may exceed the need by this much. It
// matches the design goal (the margin admission adds, and slack it can live
// with), not the margin itself.
constexpr double kWithinFactor = 1.25;

// Only an attempt that succeeded shows what the job needs. A failed one may
// have stopped at its first line (a missing file, a syntax error): learning
// from it would let a crash talk wp into packing the real job ten times over.
// The others were cut short (timed out, requeued, signalled: interrupted
// attempts are among those) or were OOM-killed and saw the limit instead of
// the need.
bool ran_its_course(const AttemptRecord& attempt) {
  return attempt.succeeded() && !attempt.requeued && !attempt.signal && !attempt.usage.oom_killed;
}

std::optional<double> measured(const AttemptRecord& attempt, Resource resource) {
  const report::Usage& usage = attempt.usage;
  switch (resource) {
    case Resource::Memory:
      if (usage.peak_memory) return static_cast<double>(*usage.peak_memory);
      return std::nullopt;
    case Resource::Cores:
      // The average: what the job takes from its neighbours over its run.
      // Reserving a momentary peak (a burst of page faults, a parallel
      // link step) for the whole run left cores idle in measurement.
      return usage.average_cores ? usage.average_cores : usage.peak_cores;
    case Resource::Wall:
      if (attempt.wall_seconds > 0) return attempt.wall_seconds;
      return std::nullopt;
    case Resource::Iops:
      return attempt.iops();
  }
  return std::nullopt;
}

std::vector<Sample> samples_of(std::span<const AttemptRecord> history, Resource resource) {
  std::vector<Sample> samples;
  for (const AttemptRecord& attempt : history) {
    std::optional<double> figure = figure_of(attempt, resource);
    if (!figure) continue;
    std::optional<double> input_bytes;
    if (attempt.input_bytes) input_bytes = static_cast<double>(*attempt.input_bytes);
    samples.push_back({*figure, input_bytes});
  }
  return samples;
}

std::optional<double> predicted_of(const Predicted& predicted, Resource resource) {
  switch (resource) {
    case Resource::Memory:
      if (predicted.memory) return static_cast<double>(*predicted.memory);
      return std::nullopt;
    case Resource::Cores:
      return predicted.cores;
    case Resource::Wall:
      return predicted.wall_seconds;
    case Resource::Iops:
      return predicted.iops;
  }
  return std::nullopt;
}

}  // namespace

std::optional<double> AttemptRecord::iops() const {
  if (!usage.read_ops || !usage.write_ops || !(wall_seconds > 0)) return std::nullopt;
  // Each converted first: the sum of two counters must not wrap.
  return (static_cast<double>(*usage.read_ops) + static_cast<double>(*usage.write_ops)) /
         wall_seconds;
}

std::string_view to_string(Resource resource) {
  switch (resource) {
    case Resource::Memory:
      return "memory";
    case Resource::Cores:
      return "cores";
    case Resource::Wall:
      return "wall";
    case Resource::Iops:
      return "iops";
  }
  return "unknown";
}

std::optional<double> figure_of(const AttemptRecord& attempt, Resource resource) {
  if (!ran_its_course(attempt)) return std::nullopt;
  return measured(attempt, resource);
}

const std::optional<Prediction>& Forecast::of(Resource resource) const {
  switch (resource) {
    case Resource::Memory:
      return memory;
    case Resource::Cores:
      return cores;
    case Resource::Wall:
      return wall;
    case Resource::Iops:
      return iops;
  }
  return memory;  // unreachable: every enumerator is handled above
}

size_t usable_count(std::span<const AttemptRecord> attempts) {
  return static_cast<size_t>(std::count_if(attempts.begin(), attempts.end(), [](const auto& a) {
    return figure_of(a, Resource::Wall).has_value();
  }));
}

std::vector<AttemptRecord> of_command(std::span<const AttemptRecord> history,
                                      std::string_view fingerprint, bool shared) {
  std::vector<AttemptRecord> same;
  same.reserve(history.size());
  for (const AttemptRecord& a : history) {
    if (shared || a.fingerprint == fingerprint) same.push_back(a);
  }
  return same;
}

Forecast forecast(std::span<const AttemptRecord> history, std::optional<double> input_bytes,
                  const PredictOptions& options) {
  auto at = [&options](double resolution) {
    PredictOptions each = options;
    each.resolution = resolution;
    return each;
  };
  Forecast result;
  constexpr double kMiBytes = 1024.0 * 1024;
  result.memory = predict(samples_of(history, Resource::Memory), input_bytes, at(kMiBytes));
  result.cores = predict(samples_of(history, Resource::Cores), input_bytes, at(1 / kCoreSteps));
  result.iops = predict(samples_of(history, Resource::Iops), input_bytes, at(1));
  // Every attempt that ran its course has a wall time, whatever the method
  // measured: its count is the number of usable attempts.
  std::vector<Sample> walls = samples_of(history, Resource::Wall);
  result.wall = predict(walls, input_bytes, at(0.01));
  result.samples = walls.size();
  return result;
}

// Uses figure_of(), so attempts that are not samples are not judged either:
// an OOM-killed attempt's peak is its limit, not a measurement to compare
// the prediction with. Its under-prediction is counted as an OOM kill in the
// profile's summary instead.
Accuracy accuracy(std::span<const AttemptRecord> history, Resource resource) {
  Accuracy result;
  double error_sum = 0;
  size_t errors = 0;
  for (const AttemptRecord& attempt : history) {
    std::optional<double> predicted = predicted_of(attempt.predicted, resource);
    std::optional<double> actual = figure_of(attempt, resource);
    if (!predicted || !actual) continue;
    ++result.predicted;
    if (*predicted < *actual) {
      ++result.under;
    } else if (*predicted <= kWithinFactor * *actual) {
      ++result.within;
    }
    // No relative error against nothing; such an attempt still counts above.
    if (*actual > 0) {
      error_sum += std::abs(*predicted - *actual) / *actual;
      ++errors;
    }
  }
  result.mean_abs_error = errors == 0 ? 0 : error_sum / static_cast<double>(errors);
  return result;
}

std::optional<double> Accuracy::hit_rate() const {
  if (predicted == 0) return std::nullopt;
  return static_cast<double>(within) / static_cast<double>(predicted);
}

}  // namespace wp::profile
