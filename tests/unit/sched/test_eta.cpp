// The ETA of the live status area: the larger of the work left over the
// capacity and the longest chain still to run.
#include <catch2/catch.hpp>

#include "sched/eta.h"

using namespace wp;
using namespace wp::sched;

namespace {

constexpr Bytes kGiB = 1ull << 30;

Resources cores(double cpu, Bytes memory = kGiB) {
  return Resources{Cores::from_double(cpu), memory, 0, 0};
}

}  // namespace

TEST_CASE("eta: nothing left is no time", "[eta]") {
  CHECK(estimate_remaining({}, cores(4, 8 * kGiB)) == 0);
}

TEST_CASE("eta: the work left over the cores", "[eta]") {
  // Eight one-core jobs of 10 s on 4 cores: two waves.
  std::vector<RemainingJob> jobs(8, RemainingJob{cores(1), 10, 0});
  CHECK(estimate_remaining(jobs, cores(4, 64 * kGiB)) == Approx(20));
}

TEST_CASE("eta: memory can be the tighter bound", "[eta]") {
  // Two jobs of half a core and 4 GiB each for 30 s on 4 cores and 4 GiB:
  // they cannot run together.
  std::vector<RemainingJob> jobs(2, RemainingJob{cores(0.5, 4 * kGiB), 30, 0});
  CHECK(estimate_remaining(jobs, cores(4, 4 * kGiB)) == Approx(60));
}

TEST_CASE("eta: a long chain outlasts the work", "[eta]") {
  // One running job with 5 s left and 100 s of dependents behind it.
  std::vector<RemainingJob> jobs{{cores(1), 5, 100}, {cores(1), 1, 0}};
  CHECK(estimate_remaining(jobs, cores(16, 64 * kGiB)) == Approx(105));
}

TEST_CASE("eta: IOPS count only against a figure; overdue jobs count as ending now", "[eta]") {
  Resources demand = cores(0.1);
  demand.iops = 1000;
  std::vector<RemainingJob> jobs{{demand, 10, 0}, {cores(1), -30, -1}};
  Resources capacity = cores(4, 64 * kGiB);
  capacity.iops = Resources::kUnlimited;
  CHECK(estimate_remaining(jobs, capacity) == Approx(10));
  capacity.iops = 500;
  CHECK(estimate_remaining(jobs, capacity) == Approx(20));
}
