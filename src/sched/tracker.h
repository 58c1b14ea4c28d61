// The resource tracker: what is admitted never exceeds capacity, in any
// dimension. Every start acquires the job's demand, every end releases it.
#pragma once

#include "resources/quantity.h"

namespace wp::sched {

class ResourceTracker {
 public:
  explicit ResourceTracker(Resources capacity) : capacity_(capacity) {}

  bool fits(const Resources& demand) const { return demand.fits_in(free()); }
  void acquire(const Resources& demand);  // asserts fits(demand)
  void release(const Resources& demand);  // asserts it was acquired

  const Resources& capacity() const { return capacity_; }
  const Resources& in_use() const { return in_use_; }
  Resources free() const { return capacity_ - in_use_; }

 private:
  Resources capacity_;
  Resources in_use_;
};

}  // namespace wp::sched
