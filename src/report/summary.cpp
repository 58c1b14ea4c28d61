#include "report/summary.h"

#include <ctime>
#include <filesystem>

#include <fmt/format.h>

#include "platform/process.h"
#include "report/json_writer.h"

namespace wp::report {
namespace {

void write_signal(JsonWriter& json, std::string_view key, const std::optional<int>& signal) {
  json.key(key).text_or_null(signal ? platform::signal_name(*signal) : std::string());
}

void write_limits(JsonWriter& json, const Limits& l) {
  json.begin_object();
  json.key("memory").value(l.memory);
  json.key("cpu").value(l.cpu ? std::optional<double>(l.cpu->as_double()) : std::nullopt);
  json.key("iops").value(l.iops);
  json.end_object();
}

void write_attempt(JsonWriter& json, const Attempt& a) {
  json.begin_object();
  json.key("attempt").value(a.number);
  json.key("started").value(format_time(a.started));
  json.key("ended").value(format_time(a.ended));
  json.key("wall_seconds").value(a.wall_seconds());
  json.key("exit_code").value(a.exit_code);
  write_signal(json, "signal", a.signal);
  json.key("timed_out").value(a.timed_out);
  json.key("error").text_or_null(a.spawn_error);
  json.key("stdout").text_or_null(a.stdout_log.string());
  json.key("stderr").text_or_null(a.stderr_log.string());
  json.key("exceeded_memory").value(a.exceeded_memory());
  json.key("admitted");
  write_resources(json, a.admitted);
  json.key("memory_retry").value(a.memory_retry);
  json.key("requeued").value(a.requeued);
  json.key("suspensions").value(a.suspensions);
  json.key("usage");
  write_usage(json, a.usage);
  json.key("limits");
  write_limits(json, a.limits);
  json.end_object();
}

void write_job(JsonWriter& json, const JobReport& job) {
  std::optional<Attempt> first, last;
  if (!job.attempts.empty()) {
    first = job.attempts.front();
    last = job.attempts.size() == 1 ? first : job.attempts.back();
  }
  json.begin_object();
  json.key("name").value(job.name);
  json.key("status").value(to_string(job.status));
  json.key("reason").text_or_null(job.reason);
  json.key("exit_code").value(last ? last->exit_code : std::nullopt);
  write_signal(json, "signal", last ? last->signal : std::nullopt);
  json.key("started").text_or_null(first ? format_time(first->started) : std::string());
  json.key("ended").text_or_null(last ? format_time(last->ended) : std::string());
  json.key("wall_seconds")
      .value(last ? std::optional<double>(
                        std::chrono::duration<double>(last->ended - first->started).count())
                  : std::nullopt);
  json.key("request");
  write_resources(json, job.request);
  json.key("attempts").begin_array();
  for (const Attempt& a : job.attempts)
    write_attempt(json, a);
  json.end_array();
  json.end_object();
}

}  // namespace

void write_resources(JsonWriter& json, const Resources& r) {
  json.begin_object();
  json.key("cpu").value(r.cpu.as_double());
  json.key("memory").value(static_cast<uint64_t>(r.memory));
  json.key("iops").value(r.iops == Resources::kUnlimited ? std::nullopt
                                                         : std::optional<uint64_t>(r.iops));
  json.key("gpu").value(static_cast<uint64_t>(r.gpu));
  json.end_object();
}

void write_usage(JsonWriter& json, const Usage& u) {
  json.begin_object();
  json.key("method").text_or_null(u.method);
  json.key("peak_memory").value(u.peak_memory);
  json.key("cpu_seconds").value(u.cpu_seconds);
  json.key("user_seconds").value(u.user_seconds);
  json.key("system_seconds").value(u.system_seconds);
  json.key("average_cores").value(u.average_cores);
  json.key("peak_cores").value(u.peak_cores);
  json.key("read_ops").value(u.read_ops);
  json.key("write_ops").value(u.write_ops);
  json.key("read_bytes").value(u.read_bytes);
  json.key("write_bytes").value(u.write_bytes);
  json.key("read_calls").value(u.read_calls);
  json.key("write_calls").value(u.write_calls);
  json.key("oom_killed").value(u.oom_killed);
  json.end_object();
}

std::string display_path(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::path relative = std::filesystem::proximate(path, ec);
  if (ec || relative.string().rfind("../../", 0) == 0) return path.string();
  return relative.string();
}

std::string format_time(Clock::time_point time) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", stamp, ms % 1000);
}

std::string run_json(const RunReport& report) {
  JsonWriter json;
  write_run_json(json, report);
  return json.str();
}

void write_run_json(JsonWriter& json, const RunReport& report) {
  Counts c = report.counts();
  json.begin_object();
  json.key("wp_version").value(WP_VERSION);
  json.key("run_id").value(report.run_id);
  json.key("manifest").value(report.manifest.string());
  json.key("run_dir").value(report.run_dir.string());
  json.key("started").value(format_time(report.started));
  json.key("ended").value(format_time(report.ended));
  json.key("wall_seconds").value(report.wall_seconds());
  json.key("exit_code").value(report.exit_code());
  write_signal(json, "interrupted_by", report.interrupted_by);
  json.key("capacity");
  write_resources(json, report.capacity.total);
  json.key("measurement").value(report.measurement);
  json.key("enforcement").value(report.enforcement);
  json.key("learning").value(report.learning);
  json.key("regressions").begin_array();
  for (const Regression& r : report.regressions) {
    json.begin_object();
    json.key("job").value(r.job);
    json.key("resource").value(r.resource == "peak memory" ? "peak_memory" : "wall_seconds");
    json.key("value").value(r.value);
    json.key("median").value(r.median);
    json.key("samples").value(static_cast<uint64_t>(r.samples));
    json.key("message").value(r.describe());
    json.end_object();
  }
  json.end_array();
  json.key("memory_guard").begin_object();
  json.key("holds").value(static_cast<uint64_t>(report.pressure.holds));
  json.key("suspensions").value(static_cast<uint64_t>(report.pressure.suspensions));
  json.key("resumes").value(static_cast<uint64_t>(report.pressure.resumes));
  json.key("requeues").value(static_cast<uint64_t>(report.pressure.requeues));
  json.end_object();
  json.key("counts").begin_object();
  json.key("total").value(static_cast<uint64_t>(report.jobs.size()));
  json.key("ok").value(static_cast<uint64_t>(c.ok));
  json.key("failed").value(static_cast<uint64_t>(c.failed));
  json.key("timed_out").value(static_cast<uint64_t>(c.timed_out));
  json.key("skipped").value(static_cast<uint64_t>(c.skipped));
  json.key("interrupted").value(static_cast<uint64_t>(c.interrupted));
  json.end_object();
  json.key("jobs").begin_array();
  for (const JobReport& job : report.jobs)
    write_job(json, job);
  json.end_array();
  json.end_object();
  json.finish();
}

std::string run_text(const RunReport& report) {
  Counts c = report.counts();
  std::string parts = fmt::format("{} ok", c.ok);
  if (c.failed) parts += fmt::format(", {} failed", c.failed);
  if (c.timed_out) parts += fmt::format(", {} timed out", c.timed_out);
  if (c.skipped) parts += fmt::format(", {} skipped", c.skipped);
  if (c.interrupted) parts += fmt::format(", {} interrupted", c.interrupted);
  std::string out = fmt::format("wp: {} {} in {}: {}", report.jobs.size(),
                                report.jobs.size() == 1 ? "job" : "jobs",
                                format_seconds(report.wall_seconds()), parts);
  if (report.interrupted_by) {
    out += fmt::format(" (interrupted by {})", platform::signal_name(*report.interrupted_by));
  }
  out += '\n';
  for (const JobReport& job : report.jobs) {
    if (job.status == JobStatus::Ok) continue;
    std::string what = job.reason;
    std::string log;
    if (!job.attempts.empty()) {
      Attempt last = job.attempts.back();
      if (what.empty()) what = last.describe();
      if (job.attempts.size() > 1) what += fmt::format(" ({} attempts)", job.attempts.size());
      if (!last.main_log().empty()) log = "  " + display_path(last.main_log());
    }
    out += fmt::format("wp:   {:<11} {}: {}{}\n", to_string(job.status), job.name, what, log);
  }
  const PressureCounts& p = report.pressure;
  if (p.holds + p.suspensions + p.requeues > 0) {
    out += fmt::format(
        "wp: memory pressure: admission paused {} time(s), {} suspension(s), {} resume(s), {} "
        "job(s) requeued\n",
        p.holds, p.suspensions, p.resumes, p.requeues);
  }
  for (const Regression& r : report.regressions)
    out += fmt::format("wp: regression: {}\n", r.describe());
  out += fmt::format("wp: logs in {}\n", display_path(report.run_dir));
  return out;
}

std::string validation_json(const std::string& manifest, const manifest::Diagnostics& errors,
                            size_t job_count) {
  JsonWriter json;
  json.begin_object();
  json.key("manifest").value(manifest);
  json.key("valid").value(errors.empty());
  json.key("jobs").value(errors.empty() ? std::optional<uint64_t>(job_count) : std::nullopt);
  json.key("errors").begin_array();
  for (const manifest::Diagnostic& d : errors) {
    json.begin_object();
    json.key("file").value(d.file);
    json.key("line").value(static_cast<int64_t>(d.pos.line));
    json.key("column").value(static_cast<int64_t>(d.pos.column));
    json.key("message").value(d.message);
    json.end_object();
  }
  json.end_array();
  json.end_object();
  return json.str();
}

}  // namespace wp::report
