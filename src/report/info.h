// `wp info`: the capacity wp packs against and where each figure came from.
#pragma once

#include <string>

#include "platform/host.h"
#include "platform/sampler.h"
#include "resources/capacity.h"

namespace wp::report {

// Aligned lines for a person: one per resource with its source, then the
// cgroup and container context, then what the machine is doing now.
std::string info_text(const Capacity& capacity, const platform::HostCapacity& host,
                      const platform::Utilisation& now);

// The same as one JSON document, for scripts.
std::string info_json(const Capacity& capacity, const platform::HostCapacity& host,
                      const platform::Utilisation& now);

}  // namespace wp::report
