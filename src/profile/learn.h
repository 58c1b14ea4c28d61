// Learning in a run: each job's history loaded before it starts, the
// admission decided from its prediction (--learn), every attempt recorded as
// it ends, and the jobs that used clearly more than usual flagged at the end.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exec/runner.h"
#include "manifest/manifest.h"
#include "profile/forecast.h"
#include "profile/recorder.h"
#include "profile/records.h"
#include "profile/store.h"
#include "report/run_report.h"

namespace wp::profile {

enum class LearnMode {
  Auto,          // admit by a confident prediction, lower or higher than declared
  Conservative,  // only ever raise a declaration
  Off,           // declarations alone (history is still recorded)
};
std::string_view to_string(LearnMode mode);

struct LearnOptions {
  LearnMode mode = LearnMode::Auto;
  // To lower a declaration; raising one takes half. Below it a prediction is
  // recorded and shown, not used.
  double min_confidence = 0.5;
  // Safety margins over the prediction. 1.1 puts a steady job's memory
  // within [actual, 1.25 x actual] with room for ordinary noise.
  double memory_margin = 1.1;
  // None for cores: CPU is shared, not taken, so a job admitted a little
  // under its use runs a little slower, never dies; and 1.1 x a one-core job
  // would let only one such job run on two cores.
  double cores_margin = 1.0;
  double iops_margin = 1.1;
  int keep = kDefaultKeep;             // attempts kept per profile
  double regression_threshold = 0.25;  // flag a rise of more than this over the median
};

// What admission uses for one job, and why.
struct Decision {
  Resources demand;
  Predicted predicted;  // with margins, whether or not admission used them
  std::optional<Bytes> memory_upper;
  // "memory 4 GiB -> 1.1 GiB (p95 of 12 runs, confidence 0.92)", one per
  // resource admission changed.
  std::vector<std::string> changes;
  // The memory predicted (with its margin) when admission took it but the
  // capacity is less: the job is admitted with all of it, and may run out.
  std::optional<Bytes> memory_beyond_capacity;
};

// Pure: the declaration, the forecast, the machine and the mode in; the
// demand out, never above capacity. `confidence_scale` lowers every
// prediction's confidence (history of an earlier command). `memory_floor`
// (see memory_after_oom) raises memory whatever the confidence, unless off.
Decision decide(const Resources& declared, const Forecast& forecast, const Resources& capacity,
                const LearnOptions& options, double confidence_scale = 1.0,
                std::optional<Bytes> memory_floor = std::nullopt);

// After an OOM kill in `history` (oldest first): the most memory a success
// since then used, times `margin`, or twice what the killed attempt had when
// none succeeded since. nullopt without an OOM kill. An OOM kill is not
// waited out for three samples: the next run starts where the retry ended.
std::optional<Bytes> memory_after_oom(std::span<const AttemptRecord> history, double margin);

// What an attempt is judged against for regressions: the medians of the
// newest 20 usable attempts of a history. A figure with fewer than 3
// samples, or a median of nothing, judges nothing.
struct Baseline {
  struct Median {
    double value = 0;
    size_t samples = 0;
  };
  std::optional<double> input_bytes;  // of those with inputs that give a wall time
  std::optional<Median> memory;       // peak bytes
  std::optional<Median> wall;         // seconds
};

Baseline baseline_of(std::span<const AttemptRecord> history);

// Peak memory and wall time of `attempt` against the median of `history`
// (oldest first; the newest 20 usable attempts count), when the rise is
// beyond `threshold` and not trivially small.
std::vector<report::Regression> regressions(const std::string& job, const AttemptRecord& attempt,
                                            std::span<const AttemptRecord> history,
                                            double threshold);
std::vector<report::Regression> regressions(const std::string& job, const AttemptRecord& attempt,
                                            const Baseline& baseline, double threshold);

// Attempts shared between plans: the members of a matrix family all read
// the same family history.
using History = std::shared_ptr<const std::vector<AttemptRecord>>;

// Where a job's predictions come from.
enum class Source : uint8_t { None, Own, EarlierCommand, Family };

// A forecast and what it gives admission on this machine, shared by the
// jobs that have the same one (a family's members without inputs).
struct Outlook {
  Forecast forecast;
  Predicted predicted;  // with margins: recorded with every attempt
  std::optional<Bytes> memory_upper;
};

// What a job that declares inputs keeps: their size, and the history to
// predict from again once the jobs it waits for have written them.
struct InputsPlan {
  uint64_t bytes = 0;
  History history;  // null: none to predict from
};

// What a job's own attempts say besides predictions.
struct OwnPlan {
  std::optional<Bytes> memory_floor;  // see memory_after_oom()
  std::optional<Baseline> baseline;   // for regressions: set when it can judge one
};

// One job's learning once decided: what admission holds and what the
// attempts' records, a second decision and the regression check need. Not
// the history: with 100,000 jobs of one stored attempt each, copies of it
// were 150 MiB. What few jobs have is kept apart, so that a job without
// inputs or history costs 72 bytes.
struct JobPlan {
  Resources demand;
  std::shared_ptr<const Outlook> outlook;  // null: no history to predict from
  std::unique_ptr<InputsPlan> inputs;      // null: it declares none
  std::unique_ptr<const OwnPlan> own;      // null: nothing to say
  Source source = Source::None;
  uint8_t changes = 0;           // resources admission changed (Decision::changes)
  bool beyond_capacity = false;  // Decision::memory_beyond_capacity
};

class Learning final : public exec::RunObserver {
 public:
  // Opens nothing itself: `store` may be null (no database), and a history
  // that cannot be read is warned about and means declarations for that run.
  Learning(Store* store, const manifest::Manifest& manifest, const Resources& capacity,
           LearnOptions options);

  // Loads histories, decides and logs what changed; records nothing.
  void decide();
  // decide(), then records the run's start: what `wp run` does.
  void prepare(const std::string& started);
  // How admission takes the job now.
  exec::Admission admission(size_t job) const;
  // The predicted run time of a job (no margin), if it has one.
  std::optional<double> predicted_wall(size_t job) const;
  // The cores a job is predicted to keep busy (no margin), if it has one.
  std::optional<double> predicted_cores(size_t job) const;
  // "auto: 3 of 5 jobs admitted by prediction"
  std::string summary() const;

  std::optional<exec::Admission> job_ready(size_t job) override;
  void attempt_ended(size_t job, const report::Attempt& attempt) override;

  // Records the run's end and flags regressions into the report.
  void finish(report::RunReport& report);

 private:
  bool load_own_histories();
  void learn_from_own(size_t job, std::span<const AttemptRecord> profile);
  void learn_from_family(size_t job);
  Decision decision_of(size_t job, const Forecast& forecast) const;
  void adopt(size_t job, const Decision& decision);
  void log_changes() const;
  AttemptRecord record_of(size_t job, const report::Attempt& attempt) const;
  void store_failed(const Error& error);

  Store* store_;
  const manifest::Manifest& manifest_;
  Resources capacity_;
  LearnOptions options_;
  std::string space_;
  std::string run_uuid_;
  std::string manifest_path_;
  std::vector<JobPlan> plans_;
  // By job, of its newest attempt: only jobs with a history of their own can
  // have any, and a run of 100,000 new jobs must not hold a record of each.
  std::map<size_t, std::vector<report::Regression>> regressions_;
  // By matrix family, read once a run: with thousands of new members the
  // same rows would otherwise be read and predicted from thousands of times.
  // Null history: too few usable attempts. Cleared once decided.
  struct Family {
    History history;
    std::shared_ptr<Outlook> outlook;  // of its members without inputs
  };
  std::map<std::string, Family> families_;
  // "command changed" notes by job, while deciding: logged in job order.
  std::vector<std::pair<size_t, std::string>> command_changes_;
  std::optional<Recorder> recorder_;  // set while the run records
  bool warned_ = false;
};

// 32 random hex digits.
std::string random_uuid();

}  // namespace wp::profile
