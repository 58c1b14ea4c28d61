// How long the rest of a run should take, from the expected run times of
// the jobs not yet done: what the live status area shows as its ETA.
#pragma once

#include <vector>

#include "resources/quantity.h"

namespace wp::sched {

struct RemainingJob {
  Resources demand;
  double remaining = 0;  // expected seconds still to run: all of it unless running
  double after = 0;      // the longest chain of expected run time of its dependents
};

// The larger of two bounds no schedule can beat: the work left in each
// dimension (demand x seconds, summed) over the capacity of that dimension,
// and the longest job still to end plus its chain of dependents. An
// optimistic estimate: it takes packing to be perfect and predictions to
// hold. A dimension without a figure (IOPS kUnlimited, no GPU) is left out.
double estimate_remaining(const std::vector<RemainingJob>& jobs, const Resources& capacity);

}  // namespace wp::sched
