// The predictors, the backtest that picks one per job, and the confidence.
// Every predictor leans high on purpose: admission reserves what we predict,
// and an under-prediction costs an OOM kill or an overloaded machine while an
// over-prediction only costs some packing density.
#include "profile/predict.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

namespace wp::profile {
namespace {

// In enum order, which is also the tie-break order: simpler first.
constexpr std::array kPredictors = {Predictor::RecentMax, Predictor::P95, Predictor::MeanStddev,
                                    Predictor::Ewma, Predictor::InputFit};
constexpr std::array<std::pair<Predictor, std::string_view>, kPredictors.size()> kNames = {{
    {Predictor::RecentMax, "recent-max"},
    {Predictor::P95, "p95"},
    {Predictor::MeanStddev, "mean+2sd"},
    {Predictor::Ewma, "ewma"},
    {Predictor::InputFit, "input-fit"},
}};

constexpr double kPercentile = 0.95;
constexpr double kSpreadSigmas = 2;  // MeanStddev and Ewma: the margin above the centre
constexpr double kUpperSigmas = 3;   // Prediction::upper
// 0.3 weighs the last ~6 runs most: it follows a job whose need changed
// within a few runs, yet one odd run moves it by less than a third.
constexpr double kEwmaAlpha = 0.3;
// Mean losses closer than this are a tie, so that rounding noise (mean + 2sd
// of a constant history is 100.00000000000001) does not beat a simpler one.
constexpr double kTieTolerance = 1e-12;

// The last `count` samples (all of them when fewer).
std::span<const Sample> last(std::span<const Sample> history, size_t count) {
  return history.subspan(history.size() - std::min(count, history.size()));
}

// A window of 0 would make every predictor silent; it can only be a mistake.
std::span<const Sample> window_of(std::span<const Sample> history, const PredictOptions& options) {
  return last(history, std::max<size_t>(options.window, 1));
}

std::vector<double> values_of(std::span<const Sample> samples) {
  std::vector<double> values;
  values.reserve(samples.size());
  for (const Sample& sample : samples)
    values.push_back(sample.value);
  return values;
}

// Over samples or plain values alike: the backtest calls the predictors
// hundreds of times a job, and copying the values out first took a tenth of
// the start of a run with a long history (`wp plan` of 5,000 jobs with 30
// attempts each: 0.35 s with the copies, 0.31 s without).
double value_of(double value) {
  return value;
}
double value_of(const Sample& sample) {
  return sample.value;
}

template <typename T>
double mean_of(std::span<const T> values) {
  if (values.empty()) return 0;
  double sum = 0;
  for (const T& value : values)
    sum += value_of(value);
  return sum / static_cast<double>(values.size());
}

// The sample (n - 1) standard deviation: the window is a sample of the job's
// runs, not all of them. 0 below two values.
template <typename T>
double stddev_of(std::span<const T> values) {
  if (values.size() < 2) return 0;
  double mean = mean_of(values);
  double squares = 0;
  for (const T& value : values)
    squares += (value_of(value) - mean) * (value_of(value) - mean);
  return std::sqrt(squares / static_cast<double>(values.size() - 1));
}

std::optional<double> recent_max(std::span<const Sample> window, const PredictOptions& options) {
  if (window.empty()) return std::nullopt;
  std::span<const Sample> recent = last(window, std::max<size_t>(options.recent, 1));
  double largest = recent.front().value;
  for (const Sample& sample : recent)
    largest = std::max(largest, sample.value);
  return largest;
}

// Linear interpolation between the closest ranks (rank (n - 1) * p of the
// sorted values, as numpy's default and Excel's PERCENTILE.INC): it never
// exceeds the largest value, and moves smoothly as the window changes.
double percentile_95_of_sorted(std::span<const double> sorted) {
  double rank = kPercentile * static_cast<double>(sorted.size() - 1);
  auto below = static_cast<size_t>(std::floor(rank));
  size_t above = std::min(below + 1, sorted.size() - 1);
  double fraction = rank - static_cast<double>(below);
  return sorted[below] + fraction * (sorted[above] - sorted[below]);
}

std::optional<double> percentile_95(std::span<const Sample> window) {
  if (window.empty()) return std::nullopt;
  // On the stack for any window up to this (the default is 20).
  constexpr size_t kOnStack = 64;
  std::array<double, kOnStack> stack{};
  std::vector<double> heap;
  std::span<double> sorted;
  if (window.size() <= kOnStack) {
    sorted = std::span<double>(stack).first(window.size());
  } else {
    heap.resize(window.size());
    sorted = heap;
  }
  std::transform(window.begin(), window.end(), sorted.begin(),
                 [](const Sample& sample) { return sample.value; });
  std::sort(sorted.begin(), sorted.end());
  return percentile_95_of_sorted(sorted);
}

std::optional<double> mean_stddev(std::span<const Sample> window) {
  if (window.empty()) return std::nullopt;
  return mean_of(window) + kSpreadSigmas * stddev_of(window);
}

// The EWMA alone is a centre, which under-predicts half the time; the
// exponentially weighted variance (West's incremental form) gives it the
// same kind of margin as MeanStddev, weighted to recent runs too.
std::optional<double> ewma(std::span<const Sample> window) {
  if (window.empty()) return std::nullopt;
  double mean = window.front().value;
  double variance = 0;
  for (const Sample& sample : window.subspan(1)) {
    double difference = sample.value - mean;
    double step = kEwmaAlpha * difference;
    mean += step;
    variance = (1 - kEwmaAlpha) * (variance + difference * step);
  }
  return mean + kSpreadSigmas * std::sqrt(variance);
}

struct Point {
  double x = 0;  // input bytes
  double y = 0;  // the figure
};

struct Line {
  double intercept = 0;
  double slope = 0;
  double at(double x) const { return intercept + slope * x; }
};

std::vector<Point> points_with_inputs(std::span<const Sample> window) {
  std::vector<Point> points;
  for (const Sample& sample : window) {
    if (sample.input_bytes) points.push_back({*sample.input_bytes, sample.value});
  }
  return points;
}

// Ordinary least squares, on deviations from the means so that inputs of
// many GiB do not lose the figure's precision. nullopt when every input size
// is the same: the slope is then undefined, not zero.
std::optional<Line> least_squares(const std::vector<Point>& points) {
  auto [lowest, highest] = std::minmax_element(
      points.begin(), points.end(), [](const Point& a, const Point& b) { return a.x < b.x; });
  if (points.empty() || lowest->x == highest->x) return std::nullopt;
  double count = static_cast<double>(points.size());
  double mean_x = 0, mean_y = 0;
  for (const Point& point : points) {
    mean_x += point.x / count;
    mean_y += point.y / count;
  }
  double sxx = 0, sxy = 0;
  for (const Point& point : points) {
    sxx += (point.x - mean_x) * (point.x - mean_x);
    sxy += (point.x - mean_x) * (point.y - mean_y);
  }
  if (!(sxx > 0)) return std::nullopt;
  double slope = sxy / sxx;
  return Line{mean_y - slope * mean_x, slope};
}

// How far the fit fell short of a point at worst: adding it makes the fit
// an upper envelope of what was seen, so it rarely under-predicts.
double largest_shortfall(const Line& line, const std::vector<Point>& points) {
  double largest = 0;
  for (const Point& point : points)
    largest = std::max(largest, point.y - line.at(point.x));
  return largest;
}

double smallest_y(const std::vector<Point>& points) {
  double smallest = points.front().y;
  for (const Point& point : points)
    smallest = std::min(smallest, point.y);
  return smallest;
}

std::optional<double> input_fit(std::span<const Sample> window, std::optional<double> input_bytes,
                                const PredictOptions& options) {
  if (!input_bytes) return std::nullopt;
  std::vector<Point> points = points_with_inputs(window);
  if (points.empty() || points.size() < options.min_samples) return std::nullopt;
  std::optional<Line> line = least_squares(points);
  if (!line) return std::nullopt;
  double value = line->at(*input_bytes) + largest_shortfall(*line, points);
  // A falling line extrapolated to a large input goes below zero; no job
  // needs less than nothing, and the smallest need seen is a safer floor.
  return value < 0 ? smallest_y(points) : value;
}

// What a backtest of one predictor found.
struct Backtest {
  size_t points = 0;
  size_t covered = 0;  // points not under-predicted
  double loss = 0;     // summed

  double mean_loss() const { return points == 0 ? 0 : loss / static_cast<double>(points); }
  double coverage() const {
    return points == 0 ? 1 : static_cast<double>(covered) / static_cast<double>(points);
  }
};

// What an error is measured against: the actual value, as a relative error
// is comparable between jobs of any size. A zero actual (a job that did no
// I/O this time) has no relative error; the size of what came before stands
// in, so one such point weighs like any other instead of by 1 / epsilon,
// which would make the lowest predictor win whatever it does elsewhere.
double scale_for(double actual, std::span<const Sample> before) {
  if (actual != 0) return std::abs(actual);
  double typical = 0;
  for (const Sample& sample : before)
    typical += std::abs(sample.value);
  typical /= static_cast<double>(std::max<size_t>(before.size(), 1));
  return typical > 0 ? typical : 1;
}

// The asymmetric loss: an under-prediction costs under_weight times as much
// as an over-prediction of the same size.
double loss_of(double predicted, double actual, double scale, const PredictOptions& options) {
  double error = std::abs(predicted - actual) / scale;
  return predicted < actual ? error * options.under_weight : error;
}

// Replays the history: each point from min_samples on is predicted from the
// points before it, as predict() would have done then. Earlier points are not
// replayed, since predict() would have refused them (and at least two come
// first, so that spreads exist).
//
// P95's window is kept sorted from one point to the next (one value in, one
// out) rather than sorted anew at each: the same values, so the same
// prediction, for a tenth of the work.
Backtest backtest(Predictor predictor, std::span<const Sample> history,
                  const PredictOptions& options) {
  Backtest result;
  size_t first = std::max<size_t>(options.min_samples, 2);
  size_t window = std::max<size_t>(options.window, 1);
  std::vector<double> sorted;  // P95: the window before point i, in order
  if (predictor == Predictor::P95 && first < history.size()) {
    for (const Sample& sample : window_of(history.first(first), options))
      sorted.push_back(sample.value);
    std::sort(sorted.begin(), sorted.end());
  }
  for (size_t i = first; i < history.size(); ++i) {
    std::span<const Sample> before = history.first(i);
    double actual = history[i].value;
    std::optional<double> predicted;
    if (predictor == Predictor::P95) {
      if (i > first) {
        if (i - 1 >= window) {
          double leaving = history[i - 1 - window].value;
          auto found = std::lower_bound(sorted.begin(), sorted.end(), leaving);
          if (found != sorted.end()) sorted.erase(found);
        }
        double entering = history[i - 1].value;
        sorted.insert(std::upper_bound(sorted.begin(), sorted.end(), entering), entering);
      }
      predicted = percentile_95_of_sorted(sorted);
    } else {
      predicted = predict_with(predictor, before, history[i].input_bytes, options);
    }
    if (!predicted) continue;
    ++result.points;
    // Below the resolution every figure is admitted alike: no shortfall.
    if (std::max(*predicted * options.margin, options.resolution) >= actual) ++result.covered;
    result.loss += loss_of(*predicted, actual, scale_for(actual, before), options);
  }
  return result;
}

struct Choice {
  Predictor predictor = Predictor::RecentMax;
  Backtest backtest;
};

// The predictor with the lowest mean backtest loss among those that were
// backtested at all and can predict now (InputFit needs the next input size).
// With no backtest at all, RecentMax: the one that assumes least.
Choice choose(std::span<const Sample> history, std::optional<double> input_bytes,
              const PredictOptions& options) {
  Choice best;
  bool found = false;
  for (Predictor predictor : kPredictors) {
    Backtest tested = backtest(predictor, history, options);
    if (tested.points == 0 || !predict_with(predictor, history, input_bytes, options)) continue;
    if (!found || tested.mean_loss() < best.backtest.mean_loss() - kTieTolerance) {
      best = {predictor, tested};
      found = true;
    }
  }
  return best;
}

// Well above anything seen or likely: the largest in the window, and the
// mean plus three standard deviations.
double upper_of(double value, std::span<const double> window) {
  double largest = *std::max_element(window.begin(), window.end());
  return std::max({value, largest, mean_of(window) + kUpperSigmas * stddev_of(window)});
}

// Few samples, a spread-out history or a predictor that often fell short all
// make a prediction less trustworthy; each scales the confidence down.
double confidence_of(size_t samples, std::span<const double> window, double coverage,
                     const PredictOptions& options) {
  double count_factor =
      options.full_confidence_samples == 0
          ? 1
          : std::min(1.0, static_cast<double>(samples) /
                              static_cast<double>(options.full_confidence_samples));
  // Relative to the mean, or to the resolution where the mean is smaller: a
  // `sleep` measured at 0.001 and 0.002 cores is as steady as one measured
  // at 0.001 each time, as both get the 0.1-core floor.
  double scale = std::max(std::abs(mean_of(window)), options.resolution);
  double variation = scale == 0 ? 0 : stddev_of(window) / scale;
  double dispersion_factor = 1 / (1 + variation);
  return std::clamp(count_factor * dispersion_factor * coverage, 0.0, 1.0);
}

}  // namespace

std::string_view to_string(Predictor predictor) {
  for (const auto& [each, name] : kNames) {
    if (each == predictor) return name;
  }
  return "unknown";
}

std::optional<Predictor> predictor_from_string(std::string_view text) {
  for (const auto& [each, name] : kNames) {
    if (name == text) return each;
  }
  return std::nullopt;
}

std::optional<double> predict_with(Predictor predictor, std::span<const Sample> history,
                                   std::optional<double> input_bytes,
                                   const PredictOptions& options) {
  std::span<const Sample> window = window_of(history, options);
  switch (predictor) {
    case Predictor::RecentMax:
      return recent_max(window, options);
    case Predictor::P95:
      return percentile_95(window);
    case Predictor::MeanStddev:
      return mean_stddev(window);
    case Predictor::Ewma:
      return ewma(window);
    case Predictor::InputFit:
      return input_fit(window, input_bytes, options);
  }
  return std::nullopt;
}

std::optional<Prediction> predict(std::span<const Sample> history,
                                  std::optional<double> input_bytes,
                                  const PredictOptions& options) {
  if (history.empty() || history.size() < options.min_samples) return std::nullopt;
  Choice choice = choose(history, input_bytes, options);
  // choose() only keeps predictors that can predict now, and RecentMax
  // always can on a non-empty history.
  double value = predict_with(choice.predictor, history, input_bytes, options).value_or(0);
  std::vector<double> window = values_of(window_of(history, options));

  Prediction prediction;
  prediction.value = value;
  prediction.upper = upper_of(value, window);
  prediction.largest = *std::max_element(window.begin(), window.end());
  prediction.predictor = choice.predictor;
  // The whole history is used: the window for the value, all of it for the
  // backtest; the count factor rewards a job that has run many times.
  prediction.samples = history.size();
  prediction.backtests = choice.backtest.points;
  prediction.backtest_loss = choice.backtest.mean_loss();
  prediction.coverage = choice.backtest.coverage();
  prediction.confidence = confidence_of(history.size(), window, prediction.coverage, options);
  return prediction;
}

}  // namespace wp::profile
