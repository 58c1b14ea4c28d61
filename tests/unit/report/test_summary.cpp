#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "report/json_writer.h"
#include "report/summary.h"

using namespace wp::report;

namespace {

RunReport report_of(size_t jobs) {
  RunReport report;
  report.run_id = "20261124-100000-1";
  report.manifest = "jobs.toml";
  report.run_dir = "/tmp/run";
  report.started = Clock::time_point(std::chrono::seconds(1'800'000'000));
  report.ended = report.started + std::chrono::seconds(5);
  report.learning = "off";
  for (size_t i = 0; i < jobs; ++i) {
    JobReport job;
    job.name = "job-" + std::to_string(i);
    job.status = i % 7 == 0 ? JobStatus::Failed : JobStatus::Ok;
    Attempt attempt;
    attempt.started = report.started;
    attempt.ended = report.started + std::chrono::milliseconds(i);
    attempt.exit_code = job.status == JobStatus::Ok ? 0 : 1;
    attempt.usage.method = "procfs";
    attempt.usage.peak_memory = i * 4096;
    attempt.stderr_log = "/tmp/run/" + job.name + ".err";
    job.attempts.push_back(attempt);
    report.jobs.push_back(job);
  }
  return report;
}

}  // namespace

TEST_CASE("the run summary streams the same document run_json builds", "[report]") {
  RunReport report = report_of(2000);
  std::string streamed;
  JsonWriter json([&](std::string_view piece) { streamed += piece; });
  write_run_json(json, report);
  std::string whole = run_json(report);
  REQUIRE(whole.size() > 2 * JsonWriter::kFlushSize);
  CHECK(streamed == whole);
}
