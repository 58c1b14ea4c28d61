// The capacity wp packs against, and where each figure came from.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "platform/host.h"
#include "resources/quantity.h"

namespace wp {

// Caps on what wp may use, from [capacity] in a manifest or from flags.
struct CapacityCaps {
  std::optional<Cores> cpu;
  std::optional<Bytes> memory;
  std::optional<Iops> iops;
  std::optional<Gpus> gpu;
};

// An IOPS figure measured by `wp calibrate` for the filesystem the jobs run
// on, with where it came from ("wp calibrate of ext4 8:0 at ...").
struct MeasuredIops {
  Iops value = 0;
  std::string source;
};

struct Capacity {
  Resources total;
  std::string cpu_source;
  std::string memory_source;
  std::string iops_source;
  std::string gpu_source;
  std::vector<int> gpu_devices;  // the device index of each GPU counted in total.gpu
};

// The machine's figures, lowered by caps: a flag replaces the manifest's cap
// for the same resource, and neither can raise a figure above the machine's.
// IOPS are the exception: the machine has no figure, so a cap is taken as
// given; without one, a measured figure is the capacity; without that, I/O is
// not limited. With `flags_as_given` (`wp plan` and `wp validate`, which run
// nothing and may be for a larger machine than this one) a flag is the
// figure, above the machine's or not.
Capacity resolve_capacity(const platform::HostCapacity& host, const CapacityCaps& manifest,
                          const CapacityCaps& flags,
                          const std::optional<MeasuredIops>& measured_iops = std::nullopt,
                          bool flags_as_given = false);

}  // namespace wp
