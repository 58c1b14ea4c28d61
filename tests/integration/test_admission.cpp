// Admission: jobs run together as long as their declared resources fit, and
// never beyond the capacity. Checked from what the jobs themselves recorded:
// a job's recorded [start, end] lies inside the time wp holds its resources,
// so any overlap we see is an overlap wp allowed.
#include <algorithm>
#include <cstdint>

#include <catch2/catch.hpp>

#include "wp_harness.h"

using namespace wpit;

namespace {

struct Declared {
  std::string name;
  int64_t cpu_milli = 0;
  int64_t memory = 0;
  int64_t iops = 0;
};

struct Load {
  int64_t cpu_milli = 0;
  int64_t memory = 0;
  int64_t iops = 0;
  int jobs = 0;
};

constexpr int64_t kMiB = 1024 * 1024;

// The load at the instant `at`: every job whose recorded interval contains it.
Load load_at(long long at, const std::vector<Record>& records,
             const std::vector<Declared>& declared) {
  Load load;
  for (const auto& record : records) {
    if (record.start_ns > at || at >= record.end_ns) continue;
    auto it = std::find_if(declared.begin(), declared.end(),
                           [&](const Declared& d) { return d.name == record.name; });
    REQUIRE(it != declared.end());
    load.cpu_milli += it->cpu_milli;
    load.memory += it->memory;
    load.iops += it->iops;
    ++load.jobs;
  }
  return load;
}

std::string format_records(const std::vector<Record>& records) {
  if (records.empty()) return "(no records)";
  long long origin = records.front().start_ns;
  for (const auto& r : records)
    origin = std::min(origin, r.start_ns);
  std::string text;
  for (const auto& r : records) {
    text += r.name + " " + std::to_string((r.start_ns - origin) / 1'000'000) + "ms.." +
            std::to_string((r.end_ns - origin) / 1'000'000) + "ms\n";
  }
  return text;
}

std::string cpu_text(int64_t milli) {
  return std::to_string(milli / 1000) + "." + std::to_string((milli % 1000) / 100);
}

}  // namespace

TEST_CASE("admission: mixed cpu and memory jobs never exceed --cpus/--memory yet run concurrently",
          "[integration]") {
  // Every strategy keeps the invariants; half the jobs declare a timeout, so
  // reservations and backfill by expected end are in play too.
  std::string strategy =
      GENERATE(as<std::string>{}, "first-fit", "best-fit", "worst-fit", "alignment");
  // CPU may be overcommitted by the factor asked for, memory never.
  std::string overcommit = GENERATE(as<std::string>{}, "1", "1.25");
  int64_t cpu_limit = overcommit == "1" ? 2000 : 2500;
  CAPTURE(strategy, overcommit);
  SKIP_WITH_FEWER_CPUS(2);
  TempDir dir;
  const std::string record = dir.str("record");
  // (cpu, MiB) pairs chosen so both dimensions bind at different times under
  // 2 cores and 1 GiB: e.g. 0.5 + 0.5 cores with 600 + 500 MiB does not fit.
  const std::vector<std::pair<double, int64_t>> shapes = {
      {0.5, 600}, {1.0, 256}, {1.5, 300}, {0.5, 500}, {1.0, 512}, {0.5, 200},
      {1.5, 128}, {0.5, 384}, {1.0, 700}, {0.5, 256}, {1.0, 100}, {0.5, 450}};
  std::vector<Declared> declared;
  std::string manifest = "version = 1\n";
  for (size_t i = 0; i < shapes.size(); ++i) {
    std::string name = "j" + std::to_string(i);
    auto [cpu, mib] = shapes[i];
    declared.push_back({name, static_cast<int64_t>(cpu * 1000), mib * kMiB, 0});
    manifest += "[[job]]\nname = \"" + name + "\"\n";
    manifest +=
        "argv = " + job_argv({"--name", name, "--record", record, "--sleep-ms", "300"}) + "\n";
    manifest += "cpu = " + std::string(cpu == 0.5 ? "0.5" : cpu == 1.0 ? "1" : "1.5") + "\n";
    manifest += "memory = \"" + std::to_string(mib) + "MiB\"\n";
    if (i % 2 == 0) manifest += "timeout = \"" + std::to_string(1 + i % 3) + "s\"\n";
  }
  write_file(dir / "jobs.toml", manifest);

  RunResult r = run_wp({"run", "--cpus", "2", "--memory", "1GiB", "--strategy", strategy,
                        "--cpu-overcommit", overcommit, dir.str("jobs.toml")});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  std::vector<Record> records = read_records(record);
  INFO(format_records(records));
  REQUIRE(records.size() == shapes.size());
  for (const Declared& d : declared) {  // each exactly once
    CHECK(std::count_if(records.begin(), records.end(),
                        [&](const Record& rec) { return rec.name == d.name; }) == 1);
  }

  int most_concurrent = 0;
  for (const auto& started : records) {
    Load load = load_at(started.start_ns, records, declared);
    INFO("at the start of " << started.name << ": " << load.jobs << " jobs, cpu "
                            << cpu_text(load.cpu_milli) << ", memory " << load.memory / kMiB
                            << " MiB");
    CHECK(load.cpu_milli <= cpu_limit);
    CHECK(load.memory <= 1024 * kMiB);
    most_concurrent = std::max(most_concurrent, load.jobs);
  }
  // A runner that runs one job at a time would pass the checks above.
  CHECK(most_concurrent >= 2);
}

TEST_CASE("admission: --iops caps the summed iops of running jobs", "[integration]") {
  TempDir dir;
  const std::string record = dir.str("record");
  const std::vector<int64_t> iops = {60, 50, 40, 30, 70, 20, 50, 10};
  std::vector<Declared> declared;
  std::string manifest;
  for (size_t i = 0; i < iops.size(); ++i) {
    std::string name = "io" + std::to_string(i);
    declared.push_back({name, 100, 16 * kMiB, iops[i]});
    manifest += "[[job]]\nname = \"" + name + "\"\n";
    manifest +=
        "argv = " + job_argv({"--name", name, "--record", record, "--sleep-ms", "300"}) + "\n";
    manifest += "cpu = 0.1\nmemory = \"16MiB\"\niops = " + std::to_string(iops[i]) + "\n";
  }
  write_file(dir / "jobs.toml", manifest);

  RunResult r = run_wp({"run", "--iops", "100", dir.str("jobs.toml")});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  std::vector<Record> records = read_records(record);
  INFO(format_records(records));
  REQUIRE(records.size() == iops.size());
  int most_concurrent = 0;
  for (const auto& started : records) {
    Load load = load_at(started.start_ns, records, declared);
    INFO("at the start of " << started.name << ": " << load.jobs << " jobs, iops " << load.iops);
    CHECK(load.iops <= 100);
    most_concurrent = std::max(most_concurrent, load.jobs);
  }
  CHECK(most_concurrent >= 2);
}

TEST_CASE("admission: [capacity] in the manifest limits jobs, and --cpus replaces it",
          "[integration]") {
  SKIP_WITH_FEWER_CPUS(2);
  TempDir dir;
  const std::string record = dir.str("record");
  std::string manifest = "[capacity]\ncpu = 1\n";
  for (int i = 0; i < 3; ++i) {
    std::string name = "c" + std::to_string(i);
    manifest += "[[job]]\nname = \"" + name + "\"\ncpu = 1\nmemory = \"16MiB\"\n";
    manifest +=
        "argv = " + job_argv({"--name", name, "--record", record, "--sleep-ms", "400"}) + "\n";
  }
  write_file(dir / "jobs.toml", manifest);
  std::vector<Declared> declared;
  for (int i = 0; i < 3; ++i)
    declared.push_back({"c" + std::to_string(i), 1000, 16 * kMiB, 0});

  SECTION("the manifest's cpu = 1 runs one job at a time") {
    RunResult r = run_wp({"run", dir.str("jobs.toml")});
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    std::vector<Record> records = read_records(record);
    INFO(format_records(records));
    REQUIRE(records.size() == 3);
    for (const auto& started : records)
      CHECK(load_at(started.start_ns, records, declared).jobs == 1);
  }
  SECTION("--cpus 2 on the command line wins over the manifest") {
    RunResult r = run_wp({"run", "--cpus", "2", dir.str("jobs.toml")});
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    std::vector<Record> records = read_records(record);
    INFO(format_records(records));
    REQUIRE(records.size() == 3);
    int most_concurrent = 0;
    for (const auto& started : records) {
      Load load = load_at(started.start_ns, records, declared);
      CHECK(load.cpu_milli <= 2000);
      most_concurrent = std::max(most_concurrent, load.jobs);
    }
    CHECK(most_concurrent == 2);
  }
}

TEST_CASE("admission: a higher priority job starts first when only one fits", "[integration]") {
  TempDir dir;
  const std::string record = dir.str("record");
  std::string manifest;
  for (const auto& [name, priority] :
       std::vector<std::pair<std::string, int>>{{"low", 0}, {"mid", 5}, {"high", 10}}) {
    manifest += "[[job]]\nname = \"" + name + "\"\ncpu = 1\nmemory = \"16MiB\"\n";
    manifest += "priority = " + std::to_string(priority) + "\n";
    manifest +=
        "argv = " + job_argv({"--name", name, "--record", record, "--sleep-ms", "50"}) + "\n";
  }
  write_file(dir / "jobs.toml", manifest);
  RunResult r = run_wp({"run", "--cpus", "1", dir.str("jobs.toml")});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  std::vector<Record> records = read_records(record);
  INFO(format_records(records));
  REQUIRE(records.size() == 3);
  const Record* low = find_record(records, "low");
  const Record* mid = find_record(records, "mid");
  const Record* high = find_record(records, "high");
  REQUIRE((low && mid && high));
  CHECK(high->end_ns <= mid->start_ns);
  CHECK(mid->end_ns <= low->start_ns);
}

TEST_CASE("admission: capacity flags are reported and cannot raise the machine's figures",
          "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", "[[job]]\nname = \"defaults\"\ncommand = \"true\"\n");
  SECTION("flags below the machine are taken as given") {
    if (online_cpus() < 2) return;
    RunResult r = run_wp({"run", "--json", "--cpus", "1.5", "--memory", "1GiB", "--iops", "300",
                          dir.str("jobs.toml")});
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    Json summary = parse_json(r.out);
    CHECK(summary["capacity"]["cpu"].as_number() == 1.5);
    CHECK(summary["capacity"]["memory"].as_int() == 1024L * kMiB);
    CHECK(summary["capacity"]["iops"].as_int() == 300);
    // Job defaults from the spec: 1 core, 256 MiB, no iops, no gpu.
    const Json& request = job_named(summary, "defaults")["request"];
    CHECK(request["cpu"].as_number() == 1.0);
    CHECK(request["memory"].as_int() == 256L * kMiB);
    CHECK(request["iops"].as_int() == 0);
    CHECK(request["gpu"].as_int() == 0);
  }
  SECTION("--cpus above the machine is capped to the machine") {
    RunResult r = run_wp({"run", "--json", "--cpus", "4096", dir.str("jobs.toml")});
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    Json summary = parse_json(r.out);
    CHECK(summary["capacity"]["cpu"].as_number() == static_cast<double>(online_cpus()));
    CHECK(summary["capacity"]["iops"].is_null());
  }
}
