// `wp calibrate`, and the lookup that turns its stored figures into IOPS
// capacity for `wp run`, `wp validate` and `wp info`.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "cli/common.h"
#include "cli/options.h"
#include "exec/output.h"
#include "platform/iops_probe.h"
#include "profile/store.h"
#include "report/json_writer.h"
#include "util/log.h"

namespace wp::cli {
namespace {

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// Whichever of reading and writing is slower bounds any mix of the two, so
// the capacity never counts on a job doing the cheaper kind.
Iops capacity_of(const profile::Calibration& c) {
  return static_cast<Iops>(std::max<int64_t>(std::min(c.read_iops, c.write_iops), 0));
}

std::string calibration_source(const profile::Calibration& c) {
  return fmt::format("wp calibrate of {} (device {}), {}: min(read {}, write {}), queue depth 1",
                     c.filesystem, c.device, c.measured_at, c.read_iops, c.write_iops);
}

Result<double> parse_seconds(const std::string& text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
      value < 0.01 || value > 3600) {
    return make_error("--seconds: '{}' is not a number of seconds from 0.01 to 3600; write e.g. 3",
                      text);
  }
  return value;
}

std::string calibration_json(const profile::Calibration& c, const platform::IopsMeasurement& m,
                             const std::string& db) {
  report::JsonWriter json;
  json.begin_object();
  json.key("iops").value(capacity_of(c));
  json.key("read_iops").value(c.read_iops);
  json.key("write_iops").value(c.write_iops);
  json.key("filesystem").value(m.filesystem);
  json.key("mount_point").value(m.mount_point);
  json.key("device").value(c.device);
  json.key("direct_io").value(m.direct_io);
  json.key("note").text_or_null(m.note);
  json.key("measured_at").value(c.measured_at);
  json.key("seconds").value(c.seconds);
  json.key("database").value(db);
  json.end_object();
  return json.str() + "\n";
}

}  // namespace

std::optional<MeasuredIops> stored_iops(const std::string& db_flag, DbUse use,
                                        const std::filesystem::path& dir) {
  auto log = log::get("cli");
  auto path = profile::resolve_db_path(db_flag);
  if (!path) {
    log->warn("{}; I/O is not limited", path.error().message);
    return std::nullopt;
  }
  // Looking a figure up must not leave a database behind: only calibrate creates one.
  std::error_code ec;
  if (!std::filesystem::exists(*path, ec)) {
    log->debug("no state database at {}; I/O is not limited", path->string());
    return std::nullopt;
  }
  auto device = platform::filesystem_device(dir.empty() ? "." : dir);
  if (!device) return std::nullopt;
  auto store = open_store(*path, use);
  if (!store) {
    log->warn("{}; I/O is not limited", store.error().message);
    return std::nullopt;
  }
  auto calibration = store->latest_calibration(*device);
  if (!calibration) {
    log->warn("{}; I/O is not limited", calibration.error().message);
    return std::nullopt;
  }
  if (!*calibration) return std::nullopt;
  return MeasuredIops{capacity_of(**calibration), calibration_source(**calibration)};
}

int calibrate_command(const CalibrateCommand& command) {
  auto log = log::get("cli");
  auto seconds = parse_seconds(command.seconds);
  if (!seconds) {
    log->error("{}", seconds.error().message);
    return kExitUsage;
  }
  auto path = profile::resolve_db_path(command.db);
  if (!path) {
    log->error("{}", path.error().message);
    return kExitUsage;
  }
  // Open first: a database that cannot be written is known before the probe.
  auto store = profile::Store::open(*path);
  if (!store) {
    log->error("{}", store.error().message);
    return kExitJobsFailed;
  }
  platform::IopsProbeOptions options;
  options.dir = command.dir.empty() ? "." : command.dir;
  options.duration = std::chrono::duration<double>(*seconds);
  log->info("probing {} for {:.1f}s (random 4 KiB reads, then writes, queue depth 1)",
            options.dir.string(), *seconds);
  auto measured = platform::probe_iops(options);
  if (!measured) {
    log->error("calibrate: {}", measured.error().message);
    return kExitJobsFailed;
  }
  if (!measured->note.empty()) log->warn("{}", measured->note);
  profile::Calibration c;
  c.filesystem = measured->mount_point.empty()
                     ? measured->filesystem
                     : fmt::format("{} at {}", measured->filesystem, measured->mount_point);
  c.device = measured->device;
  c.read_iops = std::llround(measured->read_iops);
  c.write_iops = std::llround(measured->write_iops);
  c.measured_at = utc_now();
  c.seconds = measured->seconds;
  if (auto added = store->add_calibration(c); !added) {
    log->error("{}", added.error().message);
    return kExitJobsFailed;
  }
  std::string text =
      command.json
          ? calibration_json(c, *measured, path->string())
          : fmt::format("iops {} (read {}, write {}) on {} {}{}, measured {:.1f}s; stored in {}\n",
                        capacity_of(c), c.read_iops, c.write_iops, measured->filesystem, c.device,
                        measured->mount_point.empty() ? "" : " at " + measured->mount_point,
                        c.seconds, path->string());
  return print_stdout(text, "") ? kExitOk : kExitJobsFailed;
}

}  // namespace wp::cli
