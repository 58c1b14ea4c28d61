#include "report/info.h"

#include <fmt/format.h>

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

}  // namespace

std::string info_text(const Capacity& capacity, const platform::HostCapacity& host) {
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
  out +=
      fmt::format("{:<10}{}\n", "container",
                  host.container.empty() ? std::string("none detected")
                                         : host.container + " (" + host.container_evidence + ")");
  out += fmt::format("{:<10}{} CPUs, {} memory\n", "machine", host.host_cpus.millis() / 1000,
                     format_bytes(host.host_memory));
  return out;
}

std::string info_json(const Capacity& capacity, const platform::HostCapacity& host) {
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
  json.end_object();
  json.key("container").begin_object();
  json.key("kind").text_or_null(host.container);
  json.key("evidence").text_or_null(host.container_evidence);
  json.end_object();
  json.end_object();
  return json.str();
}

}  // namespace wp::report
