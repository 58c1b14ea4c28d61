// Many small jobs at once: wp must not run out of descriptors, lose exits or
// output, or oversubscribe when hundreds of jobs are in flight.
#include <catch2/catch.hpp>

#include "wp_harness.h"

using namespace wpit;

TEST_CASE("scale: 300 tiny jobs, up to 250 at once, all succeed with their output",
          "[integration]") {
  TempDir dir;
  const std::string rec = dir.str("record");
  constexpr int kJobs = 300;
  // 0.01 core each on 2 cores, which the default CPU overcommit (1.25)
  // makes 2.5: where the launches keep up, 250 sleep at once.
  constexpr int kMost = 250;
  write_file(
      dir / "jobs.toml",
      "[defaults]\ncpu = 0.01\nmemory = \"32MiB\"\n"
      "[[job]]\nname = \"t-{i}\"\nmatrix = { i = [" +
          [] {
            std::string values;
            for (int i = 0; i < kJobs; ++i)
              values += (i ? ", " : "") + std::to_string(i);
            return values;
          }() +
          "] }\nargv = " +
          job_argv({"--record", rec, "--sleep-ms", "300", "--stdout", "done-{i}"}) + "\n");
  RunResult r = run_wp({"run", "--cpus", "2", "--json", dir.str("jobs.toml")},
                       RunOptions{{}, milliseconds(60'000), {}});
  INFO(r.describe().substr(0, 3000));
  REQUIRE(r.exit_code == 0);
  Json summary = parse_json(r.out);
  CHECK(summary["counts"]["ok"].as_int() == kJobs);
  std::vector<Record> records = read_records(rec);
  REQUIRE(records.size() == kJobs);
  int most = 0;
  for (const auto& started : records) {
    int running = 0;
    for (const auto& other : records) {
      if (other.start_ns <= started.start_ns && started.start_ns < other.end_ns) ++running;
    }
    most = std::max(most, running);
  }
  CHECK(most <= kMost);
  CHECK(most >= 10);
  for (int i = 0; i < kJobs; i += 37) {
    CHECK(has_line(r.err, "[t-" + std::to_string(i) + "] done-" + std::to_string(i)));
  }
}
