// Predicting a job's next need of one resource from its own history: several
// simple predictors, the one that would have done best on this job's past
// chosen by replaying that past (backtesting), and a confidence. Pure maths:
// no database and no clock, so the tests drive it with fixed histories.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace wp::profile {

// One measured attempt: the figure (bytes, cores, seconds, operations per
// second) and the total size of the job's `inputs` when it ran, if it has any.
struct Sample {
  double value = 0;
  std::optional<double> input_bytes;
};

enum class Predictor {
  RecentMax,   // the largest of the last few
  P95,         // 95th percentile of the last K
  MeanStddev,  // mean + 2 standard deviations of the last K
  Ewma,        // exponentially weighted moving average, with a spread term
  InputFit,    // least squares on input size: a + b * input_bytes, plus residual margin
};
// "recent-max", "p95", "mean+2sd", "ewma", "input-fit"
std::string_view to_string(Predictor predictor);
std::optional<Predictor> predictor_from_string(std::string_view text);

struct PredictOptions {
  size_t window = 20;                   // K: the most recent samples each predictor looks at
  size_t recent = 5;                    // how many RecentMax looks at
  size_t min_samples = 3;               // fewer: no prediction at all
  size_t full_confidence_samples = 10;  // as many as this: no penalty for count
  double under_weight = 4;  // backtest loss of under-predicting, per unit, vs over-predicting
  // The safety margin the caller admits with: a backtest "covers" its point
  // (for confidence) when the prediction times this reaches the actual, so
  // a new maximum 0.1% above the last does not cost a steady job its
  // confidence.
  double margin = 1.1;
  // The smallest figure a decision tells apart from 0 (admission rounds
  // memory up to MiB and cores to tenths): a spread below it is noise, so
  // the dispersion that lowers the confidence is taken relative to at least
  // this much, and a backtest covers an actual below it whatever it
  // predicted. 0: neither.
  double resolution = 0;
};

struct Prediction {
  double value = 0;       // the point estimate (no safety margin applied)
  double upper = 0;       // a bound the next value is unlikely to exceed (>= value)
  double largest = 0;     // the largest value in the window
  double confidence = 0;  // 0..1, from sample count, dispersion and backtest coverage
  Predictor predictor = Predictor::RecentMax;
  size_t samples = 0;        // history samples used
  size_t backtests = 0;      // past points replayed to choose the predictor
  double backtest_loss = 0;  // mean loss of the chosen predictor over them
  double coverage = 0;       // fraction of backtests it did not under-predict (1 when none)
};

// One predictor's estimate of the next value from `history` (oldest first;
// only the last options.window are used). InputFit needs `input_bytes` now
// and at least min_samples samples with input sizes that are not all equal;
// otherwise, as for an empty history, nullopt.
std::optional<double> predict_with(Predictor predictor, std::span<const Sample> history,
                                   std::optional<double> input_bytes,
                                   const PredictOptions& options);

// Chooses the predictor by backtesting every one on the history, predicts
// with it, and rates the result. nullopt below options.min_samples.
std::optional<Prediction> predict(std::span<const Sample> history,
                                  std::optional<double> input_bytes,
                                  const PredictOptions& options = {});

}  // namespace wp::profile
