#include "sched/tracker.h"

#include <cassert>

namespace wp::sched {

void ResourceTracker::acquire(const Resources& demand) {
  assert(fits(demand) && "admitting a job that does not fit");
  in_use_ += demand;
}

void ResourceTracker::release(const Resources& demand) {
  assert(demand.fits_in(in_use_) && "releasing resources that were not acquired");
  in_use_ -= demand;
}

}  // namespace wp::sched
