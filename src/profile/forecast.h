// From a profile's stored attempts to what admission needs: a prediction per
// resource (peak memory, cores, wall time, IOPS), and how accurate past
// predictions were. Pure: the attempts come from the store.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "profile/predict.h"
#include "profile/records.h"

namespace wp::profile {

enum class Resource { Memory, Cores, Wall, Iops };
std::string_view to_string(Resource resource);  // "memory", "cores", "wall", "iops"

// The figure an attempt gives for a resource, if it was measured:
// peak memory (bytes), average cores (else peak cores), wall seconds, and
// average device IOPS. Only attempts that succeeded count as samples (not
// failed, requeued, timed out, interrupted or killed by a signal; OOM-killed
// ones do not either: their peak is the limit, not the need).
std::optional<double> figure_of(const AttemptRecord& attempt, Resource resource);

// Attempts that give samples (see figure_of): the count predictions need
// PredictOptions::min_samples of.
size_t usable_count(std::span<const AttemptRecord> attempts);

// A profile's attempts of the command `fingerprint` (oldest first): what
// predictions draw on once usable_count() of them suffices, before falling
// back to the earlier commands' at half confidence. A profile several jobs
// record to (`profile = ...`) pools every attempt: their commands differ by
// design.
std::vector<AttemptRecord> of_command(std::span<const AttemptRecord> history,
                                      std::string_view fingerprint, bool shared);

struct Forecast {
  std::optional<Prediction> memory;  // bytes
  std::optional<Prediction> cores;
  std::optional<Prediction> wall;  // seconds
  std::optional<Prediction> iops;
  size_t samples = 0;  // usable attempts in the history
  const std::optional<Prediction>& of(Resource resource) const;
};

// Admission gives a job cores by prediction in steps of 1 / kCoreSteps, at
// least one step (profile::decide): a spread of a job's cores below a step
// is noise to the forecast.
inline constexpr double kCoreSteps = 10;

// Predicts every resource from `history` (oldest first), for a next run
// whose inputs total `input_bytes`. Each resource's
// PredictOptions::resolution is what admission tells apart: a MiB of
// memory, a step of cores, one operation a second, and a hundredth of a
// second of run time (as the plan shows it).
Forecast forecast(std::span<const AttemptRecord> history, std::optional<double> input_bytes,
                  const PredictOptions& options = {});

// How past predictions of one resource fared against what was measured.
struct Accuracy {
  size_t predicted = 0;                    // attempts that carried a prediction and a measurement
  size_t within = 0;                       // actual <= predicted <= 1.25 x actual
  size_t under = 0;                        // predicted < actual
  double mean_abs_error = 0;               // mean |predicted - actual| / actual
  std::optional<double> hit_rate() const;  // within / predicted
};

Accuracy accuracy(std::span<const AttemptRecord> history, Resource resource);

}  // namespace wp::profile
