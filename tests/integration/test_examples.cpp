// The manifests of examples/ do what their comments say: each runs (or, for
// the one that needs GPUs, is planned on a recorded GPU machine) and leaves
// the results it promises.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "mini_json.h"
#include "wp_harness.h"

using namespace wpit;

namespace {

const fs::path kExamples = fs::path(WP_SOURCE_DIR) / "examples";
// 16 cores, 48 GiB available, 2 NVIDIA GPUs.
const fs::path kGpuHost = fs::path(WP_TEST_DATA_DIR) / "hosts" / "gpu_workstation";

// The examples this file exercises; a new example must be added here.
const std::set<std::string> kTested{"quickstart.toml", "pipeline.toml", "ci-shards.toml",
                                    "data-pipeline.toml", "ml-training.toml"};

// `wp run` of an example with its run directory and database in `dir`, so
// that neither the source tree nor the user's history is touched.
RunResult run_example(const TempDir& dir, const std::string& name, const RunOptions& options = {}) {
  RunOptions with_time = options;
  with_time.timeout = std::chrono::seconds(120);
  return run_wp(
      {"run", "--run-dir", dir.str("run"), "--db", dir.str("wp.db"), (kExamples / name).string()},
      with_time);
}

}  // namespace

TEST_CASE("examples: every example is exercised by a test", "[integration][examples]") {
  std::set<std::string> found;
  for (const auto& entry : fs::directory_iterator(kExamples)) {
    if (entry.path().extension() == ".toml") found.insert(entry.path().filename().string());
  }
  CHECK(found == kTested);
}

TEST_CASE("examples: each starts with a #:schema comment editors resolve",
          "[integration][examples]") {
  for (const std::string& name : kTested) {
    INFO(name);
    std::string first = split_lines(read_file(kExamples / name)).front();
    REQUIRE(first.rfind("#:schema ", 0) == 0);
    // Relative to the example's directory, as Taplo resolves it.
    CHECK(fs::exists(kExamples / first.substr(9)));
  }
}

TEST_CASE("examples: quickstart.toml runs", "[integration][examples]") {
  TempDir dir;
  RunResult r = run_example(dir, "quickstart.toml");
  INFO(r.describe());
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "200000 numbers"));
}

TEST_CASE("examples: pipeline.toml runs, its flaky job on the second attempt",
          "[integration][examples]") {
  TempDir dir;
  RunResult r = run_example(dir, "pipeline.toml");
  INFO(r.describe());
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "both archives round-trip"));
  CHECK(contains(r.out, "attempt 2 of flaky"));
}

TEST_CASE("examples: ci-shards.toml tests in four shards after lint and build",
          "[integration][examples]") {
  TempDir dir;
  RunResult r = run_example(dir, "ci-shards.toml");
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "9 tests passed in 4 shards"));
  for (int shard = 0; shard < 4; ++shard) {
    std::string log = read_file(dir / "run" / ("shard-" + std::to_string(shard) + ".log"));
    INFO("shard " << shard << ":\n" << log);
    CHECK(contains(log, "\nOK"));
  }
  CHECK(fs::exists(dir / "run" / "wordstats.zip"));
  CHECK_FALSE(fs::exists(kExamples / "ci-project" / "__pycache__"));
}

TEST_CASE("examples: data-pipeline.toml aggregates every station and month",
          "[integration][examples]") {
  TempDir dir;
  RunResult r = run_example(dir, "data-pipeline.toml");
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> report = split_lines(read_file(dir / "run" / "report.csv"));
  REQUIRE(report.size() == 1 + 12 * 4);  // header, 12 stations x 4 months
  CHECK(report[0] == "station,month,readings,mean,min,max");
  CHECK(report[1].rfind("Aberdeen,01,672,", 0) == 0);  // 28 days x 24 hours
  CHECK(contains(r.out, "48 station-months"));
}

TEST_CASE("examples: ml-training.toml plans two training runs at a time on two GPUs",
          "[integration][examples]") {
  RunOptions on_gpu_host;
  on_gpu_host.env = {{"WP_HOST_ROOT", kGpuHost.string()}};
  TempDir dir;
  RunResult r = run_wp(
      {"plan", "--json", "--db", dir.str("wp.db"), (kExamples / "ml-training.toml").string()},
      on_gpu_host);
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  Json plan = parse_json(r.out);
  CHECK(plan["never_started"].as_int() == 0);
  const Json& jobs = plan["jobs"];
  REQUIRE(jobs.size() == 7);  // 2 feature splits, 4 training runs, evaluate
  std::vector<std::pair<double, double>> training;
  for (const Json& job : jobs.as_array()) {
    if (job["name"].as_string().rfind("train-", 0) == 0) {
      training.emplace_back(job["start"].as_number(), job["end"].as_number());
    }
  }
  REQUIRE(training.size() == 4);
  // At each training run's start, how many are running: never more than the GPUs.
  size_t most = 0;
  for (const auto& [start, end] : training) {
    size_t running = static_cast<size_t>(
        std::count_if(training.begin(), training.end(), [start = start](const auto& other) {
          return other.first <= start && start < other.second;
        }));
    most = std::max(most, running);
  }
  CHECK(most == 2);
}

TEST_CASE("examples: ml-training.toml runs on a recorded GPU machine", "[integration][examples]") {
  // Its steps need python3, not a GPU: wp assigns the recorded devices.
  RunOptions on_gpu_host;
  on_gpu_host.env = {{"WP_HOST_ROOT", kGpuHost.string()}};
  TempDir dir;
  RunResult r = run_example(dir, "ml-training.toml", on_gpu_host);
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.err + r.out, "on GPU 0"));
  CHECK(contains(r.out, "model-quadratic-"));
  CHECK(contains(r.out, "validation MSE"));
}
