// NVIDIA GPUs: the driver's /proc/driver/nvidia/gpus (one directory per
// device, with its model and minor number), else the /dev/nvidiaN nodes;
// memory from nvidia-smi when it is installed; CUDA_VISIBLE_DEVICES narrows.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "platform/linux/host_internal.h"

namespace wp::platform::detail {
namespace {

// "Model: \t\t NVIDIA A100-SXM4-40GB" and "Device Minor: \t 0" in each information file.
std::vector<GpuDevice> from_proc(const std::filesystem::path& dir) {
  std::vector<GpuDevice> gpus;
  std::error_code error;
  std::filesystem::directory_iterator it(dir, error);
  if (error) return gpus;
  std::vector<std::filesystem::path> entries;
  for (const auto& entry : it)
    entries.push_back(entry.path());
  std::sort(entries.begin(), entries.end());  // bus order, for devices without a minor
  for (const auto& entry : entries) {
    auto text = read_text(entry / "information");
    if (!text) continue;
    GpuDevice gpu;
    gpu.index = static_cast<int>(gpus.size());
    if (auto minor = key_value(*text, "Device Minor")) {
      if (auto value = parse_u64(*minor); value && *value < 1024)
        gpu.index = static_cast<int>(*value);
    }
    gpu.name = key_value(*text, "Model").value_or("NVIDIA GPU");
    gpus.push_back(std::move(gpu));
  }
  return gpus;
}

std::vector<GpuDevice> from_dev(const std::filesystem::path& dev) {
  std::vector<GpuDevice> gpus;
  std::error_code error;
  std::filesystem::directory_iterator it(dev, error);
  if (error) return gpus;
  for (const auto& entry : it) {
    std::string name = entry.path().filename().string();
    if (name.rfind("nvidia", 0) != 0) continue;
    auto index = parse_u64(std::string_view(name).substr(6));  // nvidiactl, nvidia-uvm are not
    if (!index || *index >= 1024) continue;
    gpus.push_back({static_cast<int>(*index), "NVIDIA GPU (/dev/" + name + ")", std::nullopt});
  }
  return gpus;
}

bool program_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  for (std::string_view dir : split(path, ':')) {
    if (dir.empty()) continue;
    if (access((std::string(dir) + "/" + program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

// Only on the real machine: a fixture tree's GPUs are not the ones nvidia-smi sees.
void add_memory(std::vector<GpuDevice>& gpus) {
  if (!program_on_path("nvidia-smi")) return;
  auto closer = [](FILE* file) { pclose(file); };
  std::unique_ptr<FILE, decltype(closer)> pipe(
      popen("nvidia-smi --query-gpu=index,memory.total --format=csv,noheader,nounits 2>/dev/null",
            "r"),
      closer);
  if (!pipe) return;
  std::string output;
  char buffer[512];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe.get()))
    output.append(buffer, n);
  for (auto [index, bytes] : parse_nvidia_smi_memory(output)) {
    for (GpuDevice& gpu : gpus) {
      if (gpu.index == index) gpu.memory = bytes;
    }
  }
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// CUDA_VISIBLE_DEVICES lists device indices ("0,2"); "" hides every device.
// CUDA stops at the first entry it cannot parse, so do we.
std::string restrict_visible(std::vector<GpuDevice>& gpus, const std::string& visible) {
  size_t found = gpus.size();
  std::vector<GpuDevice> kept;
  bool uuids = false;
  for (std::string_view entry : split(visible, ',')) {
    entry = trim(entry);
    if (entry.empty()) break;
    if (!all_digits(entry)) {
      uuids = entry.rfind("GPU-", 0) == 0 || entry.rfind("MIG-", 0) == 0;
      break;
    }
    int index = static_cast<int>(parse_u64(entry).value_or(0));
    for (const GpuDevice& gpu : gpus) {
      bool seen = std::any_of(kept.begin(), kept.end(),
                              [&](const GpuDevice& k) { return k.index == index; });
      if (gpu.index == index && !seen) kept.push_back(gpu);
    }
  }
  if (uuids && kept.empty()) {
    // Matching UUIDs to devices needs nvidia-smi; keep what was found and say so.
    return fmt::format("CUDA_VISIBLE_DEVICES={} names devices by UUID; not applied ({} found)",
                       visible, found);
  }
  gpus = std::move(kept);
  return fmt::format("CUDA_VISIBLE_DEVICES={} (of {})", visible, found);
}

}  // namespace

std::vector<std::pair<int, uint64_t>> parse_nvidia_smi_memory(std::string_view text) {
  std::vector<std::pair<int, uint64_t>> out;
  for (std::string_view line : split(text, '\n')) {
    std::vector<std::string_view> parts = split(line, ',');
    if (parts.size() != 2) continue;
    auto index = parse_u64(parts[0]);
    auto mib = parse_u64(parts[1]);
    if (!index || !mib || *index >= 1024 || *mib > (uint64_t{1} << 40)) continue;
    out.emplace_back(static_cast<int>(*index), *mib * 1024 * 1024);
  }
  return out;
}

void probe_gpus(const HostRoots& roots, HostCapacity& host) {
  std::filesystem::path proc_dir = roots.proc / "driver/nvidia/gpus";
  std::error_code error;
  std::string where;
  if (std::filesystem::is_directory(proc_dir, error)) {
    host.gpus = from_proc(proc_dir);
    where = "/proc/driver/nvidia/gpus";
  } else {
    host.gpus = from_dev(roots.dev);
    where = "/dev";
  }
  std::sort(host.gpus.begin(), host.gpus.end(),
            [](const GpuDevice& a, const GpuDevice& b) { return a.index < b.index; });
  if (host.gpus.empty()) {
    host.gpu_source = "none detected";
    return;
  }
  if (is_real_machine(roots)) add_memory(host.gpus);
  host.gpu_source = fmt::format("{} NVIDIA GPU{} in {}", host.gpus.size(),
                                host.gpus.size() == 1 ? "" : "s", where);
  if (auto visible = env_value(roots, "CUDA_VISIBLE_DEVICES")) {
    host.gpu_source = restrict_visible(host.gpus, *visible);
  }
}

}  // namespace wp::platform::detail
