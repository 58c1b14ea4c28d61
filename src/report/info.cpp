#include "report/info.h"

#include <fmt/format.h>

#include "platform/sampler.h"
#include "report/json_writer.h"

namespace wp::report {
namespace {

std::string gpu_list(const platform::HostCapacity& host) {
  std::string out;
  for (const platform::GpuDevice& gpu : host.gpus) {
    out += fmt::format("\n          #{} {}{}", gpu.index, gpu.name,
                       gpu.memory ? " (" + format_bytes(*gpu.memory) + ")" : std::string());
  }
  return out;
}

std::string iops_text(Iops iops) {
  return iops == Resources::kUnlimited ? std::string("unlimited") : fmt::format("{}", iops);
}

void write_figure(JsonWriter& json, std::string_view key, const std::optional<double>& value,
                  const std::string& source) {
  json.key(key).begin_object();
  json.key("value").value(value);
  json.key("source").value(source);
  json.end_object();
}

constexpr std::string_view kUnknown = "unknown";

std::string pressure_text(const platform::Pressure& pressure) {
  return fmt::format("some {:.2f}%, full {:.2f}%", pressure.some_avg10, pressure.full_avg10);
}

std::string memory_pressure_text(const platform::Utilisation& now) {
  if (!now.memory_pressure && !now.cgroup_memory_pressure) return "unknown (no PSI)";
  std::string out = now.memory_pressure ? pressure_text(*now.memory_pressure) + " (avg10)"
                                        : std::string("machine unknown (no PSI)");
  if (now.cgroup_memory_pressure) {
    out += "; this cgroup " + pressure_text(*now.cgroup_memory_pressure);
  }
  return out;
}

std::string rate_bytes_text(const std::optional<double>& rate) {
  if (!rate) return std::string(kUnknown);
  return format_bytes(static_cast<Bytes>(*rate + 0.5)) + "/s";
}

// What the machine is doing now: the machine's figures, not wp's share.
std::string now_text(const platform::Utilisation& now, const platform::HostCapacity& host) {
  std::string out = "now\n";
  auto line = [&out](std::string_view label, const std::string& text) {
    out += fmt::format("  {:<18}{}\n", label, text);
  };
  line("cpu use", now.cpu_use ? fmt::format("{:.0f}% of the machine's {} CPUs", *now.cpu_use * 100,
                                            host.host_cpus.millis() / 1000)
                              : std::string(kUnknown));
  line("memory available",
       now.memory_available ? format_bytes(*now.memory_available) : std::string(kUnknown));
  line("cgroup headroom",
       now.cgroup_memory_headroom
           ? format_bytes(*now.cgroup_memory_headroom) + " below the tightest cgroup limit"
           : std::string("no cgroup memory limit, or unknown"));
  line("memory pressure", memory_pressure_text(now));
  line("disk", now.disk_ops_per_second ? fmt::format("{:.0f} ops/s", *now.disk_ops_per_second)
                                       : std::string(kUnknown));
  line("network", rate_bytes_text(now.network_bytes_per_second));
  return out;
}

void write_pressure(JsonWriter& json, std::string_view key,
                    const std::optional<platform::Pressure>& pressure) {
  json.key(key);
  if (!pressure) {
    json.null();
    return;
  }
  json.begin_object();
  json.key("some_avg10").value(pressure->some_avg10);
  json.key("full_avg10").value(pressure->full_avg10);
  json.end_object();
}

void write_now(JsonWriter& json, const platform::Utilisation& now) {
  json.key("now").begin_object();
  json.key("cpu_use").value(now.cpu_use);
  json.key("memory_available")
      .value(now.memory_available ? std::optional<uint64_t>(*now.memory_available) : std::nullopt);
  json.key("cgroup_memory_headroom")
      .value(now.cgroup_memory_headroom ? std::optional<uint64_t>(*now.cgroup_memory_headroom)
                                        : std::nullopt);
  write_pressure(json, "memory_pressure", now.memory_pressure);
  write_pressure(json, "cgroup_memory_pressure", now.cgroup_memory_pressure);
  json.key("disk_ops_per_second").value(now.disk_ops_per_second);
  json.key("network_bytes_per_second").value(now.network_bytes_per_second);
  json.end_object();
}

}  // namespace

std::string info_text(const Capacity& capacity, const platform::HostCapacity& host,
                      const platform::Utilisation& now) {
  const Resources& total = capacity.total;
  std::string out;
  out += fmt::format("{:<10}{:<14}{}\n", "cpu", format_cores(total.cpu), capacity.cpu_source);
  out +=
      fmt::format("{:<10}{:<14}{}\n", "memory", format_bytes(total.memory), capacity.memory_source);
  out += fmt::format("{:<10}{:<14}{}\n", "iops", iops_text(total.iops), capacity.iops_source);
  out += fmt::format("{:<10}{:<14}{}{}\n", "gpu", fmt::format("{}", total.gpu), capacity.gpu_source,
                     gpu_list(host));
  out += fmt::format("{:<10}{}", "cgroup", host.cgroup.layout);
  if (!host.cgroup.path.empty()) out += fmt::format(", this process in {}", host.cgroup.path);
  out += '\n';
  if (host.cgroup.version == 1 && !host.cgroup.favordynmods) {
    // The one tuning that changes how fast jobs start here: see wp-run(1).
    out += fmt::format("{:<10}{}\n", "",
                       "favordynmods off: every job start takes a machine-wide lock (see "
                       "wp-run(1), MEASUREMENT)");
  }
  out +=
      fmt::format("{:<10}{}\n", "container",
                  host.container.empty() ? std::string("none detected")
                                         : host.container + " (" + host.container_evidence + ")");
  out += fmt::format("{:<10}{} CPUs, {} memory\n", "machine", host.host_cpus.millis() / 1000,
                     format_bytes(host.host_memory));
  out += now_text(now, host);
  return out;
}

std::string info_json(const Capacity& capacity, const platform::HostCapacity& host,
                      const platform::Utilisation& now) {
  const Resources& total = capacity.total;
  JsonWriter json;
  json.begin_object();
  json.key("wp_version").value(WP_VERSION);
  json.key("capacity").begin_object();
  write_figure(json, "cpu", total.cpu.as_double(), capacity.cpu_source);
  write_figure(json, "memory", static_cast<double>(total.memory), capacity.memory_source);
  write_figure(json, "iops",
               total.iops == Resources::kUnlimited
                   ? std::nullopt
                   : std::optional<double>(static_cast<double>(total.iops)),
               capacity.iops_source);
  write_figure(json, "gpu", static_cast<double>(total.gpu), capacity.gpu_source);
  json.end_object();
  json.key("gpus").begin_array();
  for (const platform::GpuDevice& gpu : host.gpus) {
    json.begin_object();
    json.key("index").value(gpu.index);
    json.key("name").value(gpu.name);
    json.key("memory").value(gpu.memory ? std::optional<uint64_t>(*gpu.memory) : std::nullopt);
    json.end_object();
  }
  json.end_array();
  json.key("machine").begin_object();
  json.key("cpus").value(host.host_cpus.as_double());
  json.key("memory").value(static_cast<uint64_t>(host.host_memory));
  json.end_object();
  json.key("cgroup").begin_object();
  json.key("version").value(host.cgroup.version);
  json.key("layout").value(host.cgroup.layout);
  json.key("path").text_or_null(host.cgroup.path);
  json.key("favordynmods").value(host.cgroup.favordynmods);
  json.end_object();
  json.key("container").begin_object();
  json.key("kind").text_or_null(host.container);
  json.key("evidence").text_or_null(host.container_evidence);
  json.end_object();
  write_now(json, now);
  json.end_object();
  return json.str();
}

}  // namespace wp::report
