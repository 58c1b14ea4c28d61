#include "resources/capacity.h"

#include <fmt/format.h>

namespace wp {
namespace {

// Applies the cap that wins (flag over manifest) to one figure; a flag
// `as_given` replaces it even when larger.
template <typename T>
void apply_cap(T& figure, std::string& source, const std::optional<T>& manifest_cap,
               const std::optional<T>& flag_cap, const std::string& flag_name,
               std::string (*format)(T), bool as_given) {
  const std::optional<T>& cap = flag_cap ? flag_cap : manifest_cap;
  if (!cap) return;
  std::string origin = flag_cap ? flag_name : "[capacity] in the manifest";
  if (*cap < figure || (flag_cap && as_given)) {
    source = fmt::format("{} (machine: {})", origin, format(figure));
    figure = *cap;
  } else {
    source += fmt::format("; {} asks for {}, more than the machine has", origin, format(*cap));
  }
}

template <typename T>
std::string format_count(T n) {
  return fmt::format("{}", n);
}

// The kernel keeps no IOPS figure, so there is no machine figure to cap: a
// cap is taken as given. A calibrated figure is a queue-depth-1 floor, not
// what the device can do at most, so a cap above it is the user knowing
// better. With neither, I/O is not a limit.
void resolve_iops(Capacity& c, const CapacityCaps& manifest, const CapacityCaps& flags,
                  const std::optional<MeasuredIops>& measured) {
  const std::optional<Iops>& cap = flags.iops ? flags.iops : manifest.iops;
  if (cap) {
    std::string origin = flags.iops ? "--iops" : "[capacity] in the manifest";
    c.total.iops = *cap;
    c.iops_source = measured ? fmt::format("{} (calibrated: {})", origin, measured->value)
                             : fmt::format("{} (not calibrated)", origin);
  } else if (measured) {
    c.total.iops = measured->value;
    c.iops_source = measured->source;
  } else {
    c.total.iops = Resources::kUnlimited;
    c.iops_source = "not limited (no measured figure; cap with --iops)";
  }
}

}  // namespace

Capacity resolve_capacity(const platform::HostCapacity& host, const CapacityCaps& manifest,
                          const CapacityCaps& flags,
                          const std::optional<MeasuredIops>& measured_iops, bool flags_as_given) {
  Capacity c;
  c.total.cpu = host.cpu;
  c.cpu_source = host.cpu_source;
  c.total.memory = host.memory;
  c.memory_source = host.memory_source;
  resolve_iops(c, manifest, flags, measured_iops);
  c.total.gpu = static_cast<Gpus>(host.gpus.size());
  c.gpu_source = host.gpu_source;

  apply_cap(c.total.cpu, c.cpu_source, manifest.cpu, flags.cpu, std::string("--cpus"),
            &format_cores, flags_as_given);
  apply_cap(c.total.memory, c.memory_source, manifest.memory, flags.memory, std::string("--memory"),
            &format_bytes, flags_as_given);
  // No flag sets GPUs yet; the name is for when one does. A plan's GPUs are
  // the machine's devices, so none is planned that is not there.
  apply_cap(c.total.gpu, c.gpu_source, manifest.gpu, flags.gpu, std::string("--gpus"),
            &format_count<Gpus>, false);
  for (size_t i = 0; i < c.total.gpu; ++i)
    c.gpu_devices.push_back(host.gpus[i].index);
  return c;
}

}  // namespace wp
