// `wp plan` through the real binary: the schedule of manifests whose answer
// can be worked out by hand, every strategy, where durations come from, the
// chart, that nothing is run or written; and `wp run`'s scheduling flags.
#include <algorithm>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "mini_json.h"
#include "util/text_width.h"
#include "wp_harness.h"

using namespace wpit;
using wp::text::display_width;

namespace {

RunResult wp_ok(const std::vector<std::string>& args) {
  RunResult r = run_wp(args);
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  return r;
}

std::string job(const std::string& name, const std::string& extra) {
  return "[[job]]\nname = \"" + name + "\"\ncommand = \"true\"\n" + extra;
}

// Two cores, three one-core jobs of 10s, 10s and 20s (their timeouts): the
// 20s job heads the queue (longest critical path) and starts at once next to
// a 10s one; the other 10s one follows it. 20s whatever the strategy, which
// is also the lower bound (40 core-seconds on 2 cores, and the longest job).
const char* const kThreeJobs =
    "version = 1\n"
    "[[job]]\nname = \"a\"\ncommand = \"true\"\ntimeout = \"10s\"\n"
    "[[job]]\nname = \"b\"\ncommand = \"true\"\ntimeout = \"10s\"\n"
    "[[job]]\nname = \"c\"\ncommand = \"true\"\ntimeout = \"20s\"\n";

std::vector<std::string> plan_args(const TempDir& dir, std::vector<std::string> extra) {
  std::vector<std::string> args{"plan", dir.str("jobs.toml"), "--cpus", "2", "--memory", "1GiB",
                                "--db", dir.str("wp.db")};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

const Json& plan_job(const Json& plan, const std::string& name) {
  for (const Json& j : plan["jobs"].as_array()) {
    if (j["name"].as_string() == name) return j;
  }
  throw std::runtime_error("no job " + name + " in the plan");
}

// A manifest in namespace plan-`space` (a history of its own): the job
// slow, 0.3 s of sleep with `slow_keys`, then `rest`.
std::string with_slow_job(const std::string& space, const std::string& slow_keys,
                          const std::string& rest) {
  return "version = 1\nnamespace = \"plan-" + space +
         "\"\n[[job]]\nname = \"slow\"\ncommand = \"sleep 0.3\"\n" + slow_keys + rest;
}

// Three successful runs of dir/jobs.toml: the fewest a prediction is made
// from.
void record_history(const TempDir& dir) {
  for (int i = 0; i < 3; ++i) {
    wp_ok({"run", "--cgroup", "off", "--db", dir.str("wp.db"), "--run-dir",
           dir.str("run" + std::to_string(i)), dir.str("jobs.toml")});
  }
}

}  // namespace

TEST_CASE("plan: the makespan and order of a manifest with timeouts, by every strategy",
          "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", kThreeJobs);
  for (const char* strategy : {"first-fit", "best-fit", "worst-fit", "alignment"}) {
    INFO(strategy);
    Json plan = parse_json(wp_ok(plan_args(dir, {"--json", "--strategy", strategy})).out);
    CHECK(plan["strategy"].as_string() == strategy);
    CHECK(plan["makespan"].as_number() == Approx(20));
    CHECK(plan["lower_bound"]["value"].as_number() == Approx(20));
    CHECK(plan["lower_bound"]["cpu"].as_number() == Approx(20));
    CHECK(plan["lower_bound"]["longest"].as_number() == Approx(20));
    CHECK(plan["ratio"].as_number() == Approx(1));
    CHECK(plan["never_started"].as_number() == 0);
    CHECK(plan["capacity"]["cpu"].as_number() == 2);
    CHECK(plan_job(plan, "c")["start"].as_number() == 0);
    CHECK(plan_job(plan, "c")["end"].as_number() == Approx(20));
    double a = plan_job(plan, "a")["start"].as_number();
    double b = plan_job(plan, "b")["start"].as_number();
    CHECK(std::min(a, b) == 0);
    CHECK(std::max(a, b) == Approx(10));
    CHECK(plan_job(plan, "a")["duration_source"].as_string() == "timeout");
    CHECK(plan["decisions"]["count"].as_number() >= 3);
    CHECK(plan["utilisation"]["cpu"].size() ==
          static_cast<size_t>(plan["utilisation"]["buckets"].as_number()));
  }
}

TEST_CASE("plan: a job waits for what it depends on", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", "version = 1\n" + job("build", "timeout = \"10s\"\n") +
                                    job("test", "timeout = \"5s\"\nafter = [\"build\"]\n") +
                                    job("lint", "timeout = \"3s\"\n"));
  Json plan = parse_json(wp_ok(plan_args(dir, {"--json"})).out);
  CHECK(plan["makespan"].as_number() == Approx(15));
  CHECK(plan["lower_bound"]["path"].as_number() == Approx(15));
  CHECK(plan_job(plan, "test")["start"].as_number() == Approx(10));
  CHECK(plan_job(plan, "build")["start"].as_number() == 0);
}

// A plan or a check runs nothing: it may be for a machine larger than this
// one (a CI runner), where `wp run` lowers but never raises its figures.
TEST_CASE("plan and validate: --cpus and --memory are for a machine larger than this one",
          "[integration]") {
  TempDir dir;
  // Sixteen jobs of 8 cores and 4 GiB for 10s: no test machine has
  // 128 cores, and on 64 cores and 32 GiB they go eight at a time.
  std::string jobs = "version = 1\n";
  for (int i = 0; i < 16; ++i) {
    jobs += job("j" + std::to_string(i), "cpu = 8\nmemory = \"4GiB\"\ntimeout = \"10s\"\n");
  }
  write_file(dir / "jobs.toml", jobs);
  Json plan = parse_json(wp_ok({"plan", dir.str("jobs.toml"), "--cpus", "64", "--memory", "32GiB",
                                "--db", dir.str("wp.db"), "--json"})
                             .out);
  CHECK(plan["capacity"]["cpu"].as_number() == 64);
  CHECK(plan["capacity"]["memory"].as_number() == 32.0 * 1024 * 1024 * 1024);
  CHECK(plan["makespan"].as_number() == Approx(20));
  CHECK(plan["lower_bound"]["cpu"].as_number() == Approx(20));
  CHECK(plan["never_started"].as_number() == 0);
  RunResult checked = run_wp({"validate", "--cpus", "64", "--memory", "32GiB", "--db",
                              dir.str("wp.db"), dir.str("jobs.toml")});
  INFO(checked.describe());
  CHECK(checked.exit_code == 0);

  // `wp run` with the same flags caps at this machine: the 8-core jobs do
  // not fit, and nothing runs.
  RunResult run = run_wp({"run", "--cpus", "64", "--memory", "32GiB", "--db", dir.str("wp.db"),
                          "--run-dir", dir.str("run"), dir.str("jobs.toml")});
  INFO(run.describe());
  if (std::thread::hardware_concurrency() < 8) {
    CHECK(run_wp({"validate", "--db", dir.str("wp.db"), dir.str("jobs.toml")}).exit_code == 2);
    CHECK(run.exit_code == 2);
    CHECK(run.err.find("but wp may use") != std::string::npos);
  }
}

TEST_CASE("plan --strategy all compares the four strategies", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", kThreeJobs);
  Json all = parse_json(wp_ok(plan_args(dir, {"--json", "--strategy", "all"})).out);
  REQUIRE(all["strategies"].size() == 4);
  std::set<std::string> names;
  for (const Json& plan : all["strategies"].as_array()) {
    names.insert(plan["strategy"].as_string());
    CHECK(plan["makespan"].as_number() == Approx(20));
  }
  CHECK(names == std::set<std::string>{"first-fit", "best-fit", "worst-fit", "alignment"});
  CHECK(names.count(all["best"].as_string()) == 1);

  RunResult text = wp_ok(plan_args(dir, {"--strategy", "all"}));
  for (const char* name : {"first-fit", "best-fit", "worst-fit", "alignment"})
    CHECK(contains(text.out, name));
  CHECK(contains(text.out, "default"));
  CHECK(contains(text.out, "best"));
}

TEST_CASE("plan: jobs without a prediction or a timeout run the default duration",
          "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", "version = 1\n" + job("timed", "timeout = \"10s\"\n") +
                                    job("open", "") + job("open-too", ""));
  Json plan = parse_json(wp_ok(plan_args(dir, {"--json", "--default-duration", "30s"})).out);
  CHECK(plan_job(plan, "timed")["duration_source"].as_string() == "timeout");
  CHECK(plan_job(plan, "open")["duration_source"].as_string() == "default");
  CHECK(plan_job(plan, "open")["duration"].as_number() == Approx(30));
  CHECK(plan["default_duration"].as_number() == Approx(30));

  RunResult text = wp_ok(plan_args(dir, {}));
  CHECK(contains(text.out, "2 of 3 jobs have no prediction or timeout: 1m assumed"));
}

TEST_CASE("plan: an invalid manifest is reported as by run, and exits 2", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "version = 1\n[[job]]\nname = \"x\"\ncommand = \"true\"\nmemroy = 1\n");
  RunResult r = run_wp(plan_args(dir, {}));
  INFO(r.describe());
  CHECK(r.exit_code == 2);
  CHECK(std::regex_search(r.err, std::regex(R"(jobs\.toml:5:[0-9]+: error: )")));
  CHECK(r.out.empty());

  RunResult json = run_wp(plan_args(dir, {"--json"}));
  CHECK(json.exit_code == 2);
  Json doc = parse_json(json.out);
  CHECK_FALSE(doc["valid"].as_bool());
  CHECK(doc["errors"].size() == 1);
}

TEST_CASE("plan --gantt draws one row per job, marked by where its time comes from",
          "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", "version = 1\n" + job("alpha", "timeout = \"10s\"\n") +
                                    job("beta", "timeout = \"20s\"\n") +
                                    job("gamma", "timeout = \"5s\"\n") +
                                    job("delta", "timeout = \"5s\"\nafter = [\"alpha\"]\n") +
                                    job("open", "after = [\"beta\"]\n"));
  RunResult r = wp_ok(plan_args(dir, {"--gantt", "--width", "72"}));
  INFO(r.out);
  std::vector<std::string> rows;
  for (const std::string& line : split_lines(r.out)) {
    if (std::regex_search(line, std::regex(R"(^(alpha|beta|gamma|delta) +[ =]*=)"))) {
      rows.push_back(line);
      CHECK(line.size() <= 72);
    }
  }
  // No history and no timeout: the default duration, drawn as a guess.
  CHECK(std::regex_search(r.out, std::regex(R"(\nopen +[ ?]*\? +1m20s\n)")));
  CHECK(contains(r.out, "= timeout  ? assumed\n"));
  CHECK_FALSE(contains(r.out, "# predicted"));
  CHECK(rows.size() == 4);
  // In start order: beta and alpha at once, beta first (it heads the
  // longer critical path, so the scheduler takes it first, whatever the
  // manifest's order), delta only once alpha has ended.
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].rfind("beta", 0) == 0);
  CHECK(rows[1].rfind("alpha", 0) == 0);
  CHECK(contains(r.out, "+---"));

  RunResult plain = wp_ok(plan_args(dir, {}));  // stdout is a pipe: no chart
  // No axis line (a utilisation strip may hold "+---" as levels).
  CHECK_FALSE(std::regex_search(plain.out, std::regex(R"((^|\n) +\+---)")));
  CHECK(std::regex_search(r.out, std::regex(R"(\n +\+---)")));
  CHECK(contains(plain.out, "makespan"));
}

TEST_CASE("plan --gantt lines up names of any script", "[integration]") {
  TempDir dir;
  std::string nihongo;
  for (int i = 0; i < 8; ++i)
    nihongo += "\u65e5\u672c\u8a9e";                          // 日本語
  const std::string half = "cpu = 0.5\ntimeout = \"10s\"\n";  // all three at once
  write_file(dir / "jobs.toml",
             "version = 1\n" + job(nihongo, half) + job("ab", half) + job("cafe\u0301", half));
  RunResult r = wp_ok(plan_args(dir, {"--gantt", "--width", "40"}));
  INFO(r.out);
  std::vector<std::string> rows;
  for (const std::string& line : split_lines(r.out)) {
    if (contains(line, "=") && contains(line, " 10.0s")) rows.push_back(line);
  }
  REQUIRE(rows.size() == 3);
  // All three run from 0 to 10 s: the bars start at one column and the rows
  // are as wide, however many bytes a name's characters take.
  for (const std::string& row : rows) {
    CHECK(display_width(row.substr(0, row.find('='))) ==
          display_width(rows[1].substr(0, rows[1].find('='))));
    CHECK(display_width(row) == display_width(rows[1]));
    CHECK(display_width(row) <= 40);
  }
  CHECK(rows[0].rfind(nihongo.substr(0, 3 * 6) + "  ", 0) == 0);  // cut between characters
}

namespace {

// The lines --width governs: the utilisation strips and the chart.
std::vector<std::string> drawn_lines(const std::string& out) {
  std::vector<std::string> lines = split_lines(out);
  auto header = std::find_if(lines.begin(), lines.end(), [](const std::string& line) {
    return line.rfind("utilisation ", 0) == 0;
  });
  REQUIRE(header != lines.end());
  return {header + 1, lines.end()};
}

size_t widest(const std::vector<std::string>& lines) {
  size_t most = 0;
  for (const std::string& line : lines)
    most = std::max(most, display_width(line));
  return most;
}

}  // namespace

TEST_CASE("plan: the chart and strips keep to the width, from --width or COLUMNS",
          "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "version = 1\n" + job("ab", "timeout = \"10s\"\n") +
                 job("a-rather-long-job-name", "timeout = \"90m\"\n") +
                 job("\u65e5\u672c\u8a9e\u65e5\u672c\u8a9e", "timeout = \"5s\"\n"));
  for (const char* width : {"20", "21", "33", "72"}) {
    INFO("--width " << width);
    RunResult r = wp_ok(plan_args(dir, {"--gantt", "--width", width}));
    INFO(r.out);
    std::vector<std::string> lines = drawn_lines(r.out);
    CHECK(lines.size() >= 9);  // strips, a blank, rows, axis, labels, legend
    CHECK(widest(lines) == std::stoul(width));
  }
  // A terminal width outside --width's range is held to it; one that is no
  // number is ignored.
  for (auto [columns, expected] :
       std::vector<std::pair<std::string, size_t>>{{"100000", 10000},
                                                   {"99999999999999999999999", 10000},
                                                   {"5", 20},
                                                   {"120", 120},
                                                   {"0", 80},
                                                   {"wide", 80}}) {
    INFO("COLUMNS=" << columns);
    RunOptions options;
    options.env = {{"COLUMNS", columns}};
    RunResult r = run_wp(plan_args(dir, {"--gantt"}), options);
    REQUIRE(r.exit_code == 0);
    CHECK(widest(drawn_lines(r.out)) == expected);
  }
  RunResult too_narrow = run_wp(plan_args(dir, {"--gantt", "--width", "19"}));
  CHECK(too_narrow.exit_code == 2);
}

TEST_CASE("plan --json: utilisation stays within 0 and 1 when the CPU is overcommitted",
          "[integration]") {
  // 2.4 cores declared on 2: the cores are full throughout, and the sum of a
  // full bucket once rounded past 1.
  TempDir dir;
  write_file(dir / "jobs.toml", "version = 1\n" + job("a", "cpu = 0.8\ntimeout = \"10s\"\n") +
                                    job("b", "cpu = 0.8\ntimeout = \"10s\"\n") +
                                    job("c", "cpu = 0.8\ntimeout = \"10s\"\n"));
  Json plan = parse_json(wp_ok(plan_args(dir, {"--json"})).out);
  REQUIRE(plan["utilisation"]["cpu"].size() == 50);
  for (const char* resource : {"cpu", "memory", "iops", "gpu", "cpu_used"}) {
    REQUIRE(plan["utilisation"][resource].size() == 50);
    for (const Json& share : plan["utilisation"][resource].as_array()) {
      CHECK(share.as_number() >= 0);
      CHECK(share.as_number() <= 1);
    }
  }
  CHECK(plan["utilisation"]["cpu"].as_array().front().as_number() == Approx(1));
  // No history: the jobs are taken to keep busy what they declare, out of
  // the machine's cores (--cpus 2 caps admission, not the cores they use),
  // so never more than they hold.
  for (size_t i = 0; i < 50; ++i) {
    CHECK(plan["utilisation"]["cpu_used"].as_array()[i].as_number() <=
          plan["utilisation"]["cpu"].as_array()[i].as_number());
  }
  CHECK(plan["utilisation"]["cpu_used"].as_array().front().as_number() > 0);

  // Shares are given to six decimals: sums of slices said 0.9999999999999992
  // for a full bucket of these.
  write_file(dir / "jobs.toml", "version = 1\n" + job("a", "cpu = 0.3\ntimeout = \"7s\"\n") +
                                    job("b", "cpu = 0.7\ntimeout = \"3s\"\n") +
                                    job("c", "cpu = 1.1\ntimeout = \"5s\"\n"));
  std::string text = wp_ok(plan_args(dir, {"--json"})).out;
  size_t from = text.find("\"utilisation\"");
  REQUIRE(from != std::string::npos);
  std::string utilisation = text.substr(from, text.find('}', from) - from);
  CHECK_FALSE(std::regex_search(utilisation, std::regex(R"([0-9]\.[0-9]{7,})")));
}

TEST_CASE("plan runs nothing and creates no run directory or database", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", "version = 1\n[[job]]\nname = \"x\"\nargv = " +
                                    job_argv({"--touch", dir.str("ran")}) + "\ntimeout = \"1s\"\n");
  RunResult r = wp_ok(plan_args(dir, {}));
  CHECK(contains(r.err, "no job history"));
  CHECK_FALSE(fs::exists(dir / "ran"));
  CHECK_FALSE(fs::exists(dir / ".wp"));
  CHECK_FALSE(fs::exists(dir / "wp.db"));
}

TEST_CASE("plan: history makes durations predicted", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", "version = 1\nnamespace = \"plan-" + unique_token() + "\"\n" +
                                    job("quick", "timeout = \"10m\"\n"));
  record_history(dir);
  Json plan = parse_json(wp_ok(plan_args(dir, {"--json"})).out);
  const Json& quick = plan_job(plan, "quick");
  CHECK(quick["duration_source"].as_string() == "predicted");
  CHECK(quick["duration"].as_number() < 10);
  CHECK(plan["makespan"].as_number() < 10);
}

TEST_CASE("plan: a job that runs out of time is retried, then fails, as a run takes it",
          "[integration]") {
  // slow takes 0.3 s (three runs of history say so); later its timeout is
  // cut to 0.1 s. With one retry 0.2 s after the first attempt, the plan
  // has it time out at 0.1 s and again at 0.4 s, and fail: after, which
  // needs it, is skipped. A run does the same.
  TempDir dir;
  std::string space = unique_token();
  auto manifest = [&](const std::string& slow) {
    return with_slow_job(space, slow,
                         job("after", "after = [\"slow\"]\n") + job("other", "priority = -1\n"));
  };
  write_file(dir / "jobs.toml", manifest("timeout = \"10m\"\n"));
  record_history(dir);
  write_file(dir / "jobs.toml", manifest("timeout = \"100ms\"\nretries = 1\n"));
  Json plan = parse_json(wp_ok(plan_args(dir, {"--json", "--retry-backoff", "200ms"})).out);
  const Json& slow = plan_job(plan, "slow");
  REQUIRE(slow["duration_source"].as_string() == "predicted");
  CHECK(slow["duration"].as_number() >= 0.3);
  const auto& attempts = slow["attempts"].as_array();
  REQUIRE(attempts.size() == 2);
  CHECK(attempts[0]["start"].as_number() == 0);
  CHECK(attempts[0]["end"].as_number() == Approx(0.1));
  CHECK(attempts[1]["start"].as_number() == Approx(0.3));
  CHECK(attempts[1]["end"].as_number() == Approx(0.4));
  CHECK(attempts[0]["timed_out"].as_bool());
  CHECK(attempts[1]["timed_out"].as_bool());
  CHECK(slow["start"].as_number() == 0);
  CHECK(slow["end"].as_number() == Approx(0.4));
  CHECK(slow["failed"].as_bool());
  CHECK(slow["skipped"].is_null());
  const Json& after = plan_job(plan, "after");
  CHECK(after["start"].is_null());
  CHECK(after["attempts"].as_array().empty());
  CHECK(after["skipped"].as_string() == "dependency 'slow' failed");
  CHECK_FALSE(plan_job(plan, "other")["failed"].as_bool());
  CHECK(plan["retries"].as_number() == 1);
  CHECK(plan["failed"].as_number() == 1);
  CHECK(plan["skipped"].as_number() == 1);
  CHECK(plan["never_started"].as_number() == 1);
  CHECK(plan["retry_backoff"].as_number() == Approx(0.2));
  CHECK(plan["makespan"].as_number() == Approx(0.4));

  std::string text = wp_ok(plan_args(dir, {"--retry-backoff", "200ms", "--gantt"})).out;
  CHECK(contains(text,
                 "retried       1 job (1 retry in all, after a timeout; --retry-backoff 200ms, "
                 "doubling): slow\n"));
  CHECK(contains(text, "failed        1 job (timed out with no retry left): slow\n"));
  CHECK(contains(text, "skipped       1 job (a job it needs fails"));
  CHECK(contains(text, "which counts the job that never starts"));
  CHECK(contains(text, "(dependency 'slow' failed)"));
  CHECK(contains(text, "! timed out"));
  // slow's row: both attempts, each ending in the timed-out mark.
  size_t row = text.find("\nslow ");
  REQUIRE(row != std::string::npos);
  std::string slow_row = text.substr(row + 1, text.find('\n', row + 1) - row - 1);
  INFO(slow_row);
  CHECK(std::count(slow_row.begin(), slow_row.end(), '!') == 2);
  CHECK(slow_row.find("! ") < slow_row.rfind('!'));  // a gap: the backoff

  // The run: slow times out twice and fails, after is skipped for it.
  RunResult ran =
      run_wp({"run", "--cgroup", "off", "--json", "--retry-backoff", "200ms", "--db",
              dir.str("wp.db"), "--run-dir", dir.str("run-timeout"), dir.str("jobs.toml")});
  Json summary = parse_json(ran.out);
  CHECK(job_named(summary, "slow")["status"].as_string() == "timed_out");
  CHECK(job_named(summary, "slow")["attempts"].as_array().size() == 2);
  CHECK(job_named(summary, "after")["status"].as_string() == "skipped");
  CHECK(job_named(summary, "after")["reason"].as_string() == after["skipped"].as_string());
  CHECK(job_named(summary, "other")["status"].as_string() == "ok");
}

TEST_CASE("plan: jobs are slowed by the CPU they use, not by what admission holds for them",
          "[integration]") {
  // 25 sleeps of 0.3 s, each declaring 0.1 cores and 16 MiB: all start at
  // once, 2.5 cores held on 2 (overcommit 1.25). Slowed by what is held,
  // each would take 0.375 s and run out of its 0.36 s; history says they
  // keep almost no core busy, and none does, as in a run.
  TempDir dir;
  std::string space = unique_token();
  auto manifest = [&](const std::string& timeout) {
    return "version = 1\nnamespace = \"plan-" + space +
           "\"\n[[job]]\nname = \"s-{i}\"\ncommand = \"sleep 0.3 # {i}\"\ntimeout = \"" + timeout +
           "\"\ncpu = 0.1\nmemory = \"16MiB\"\nmatrix = { i = [" +
           "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19," + "20,21,22,23,24,25] }\n";
  };
  write_file(dir / "jobs.toml", manifest("10m"));
  record_history(dir);
  write_file(dir / "jobs.toml", manifest("360ms"));
  Json plan = parse_json(wp_ok(plan_args(dir, {"--json"})).out);
  CHECK(plan["timed_out"].as_number() == 0);
  CHECK(plan["failed"].as_number() == 0);
  CHECK(plan["never_started"].as_number() == 0);
  CHECK(plan["makespan"].as_number() < 0.36);
  // 2.5 cores held of 2 (full), next to no core kept busy; the text shows both.
  CHECK(plan["utilisation"]["cpu"].as_array().front().as_number() == Approx(1));
  CHECK(plan["utilisation"]["cpu_used"].as_array().front().as_number() < 0.5);
  std::string text = wp_ok(plan_args(dir, {})).out;
  INFO(text);
  CHECK(std::regex_search(
      text, std::regex(R"(\n  cpu held  \[@+[^\]]*\] +\d+%\n  cpu used  \[[ .:-]+\] +\d+%\n)")));
  Json ran = parse_json(run_wp({"run", "--cgroup", "off", "--json", "--db", dir.str("wp.db"),
                                "--run-dir", dir.str("run-after"), dir.str("jobs.toml")})
                            .out);
  for (const Json& j : ran["jobs"].as_array())
    CHECK(j["status"].as_string() == "ok");
}

TEST_CASE("plan: after a failure nothing new starts, unless --keep-going, as in a run",
          "[integration]") {
  // slow (0.3 s by history, 0.1 s allowed, no retry) and gate (0.6 s)
  // start at once; other waits for gate. When slow fails, a run stops
  // starting jobs, and so does the plan: other is skipped when gate ends,
  // for the reason the run gives.
  TempDir dir;
  std::string space = unique_token();
  auto manifest = [&](const std::string& timeout) {
    return with_slow_job(space, "timeout = \"" + timeout + "\"\n",
                         "[[job]]\nname = \"gate\"\ncommand = \"sleep 0.6\"\n" +
                             job("other", "after = [\"gate\"]\n"));
  };
  write_file(dir / "jobs.toml", manifest("10m"));
  record_history(dir);
  write_file(dir / "jobs.toml", manifest("100ms"));
  auto planned = [&](std::vector<std::string> extra) {
    extra.push_back("--json");
    return parse_json(wp_ok(plan_args(dir, extra)).out);
  };
  Json stopped = planned({});
  CHECK(plan_job(stopped, "slow")["failed"].as_bool());
  const Json& other = plan_job(stopped, "other");
  CHECK(other["start"].is_null());
  CHECK(other["skipped"].as_string() ==
        "not started: job 'slow' failed (use --keep-going to continue)");
  CHECK_FALSE(stopped["keep_going"].as_bool());
  Json kept = planned({"--keep-going"});
  CHECK(kept["keep_going"].as_bool());
  CHECK(plan_job(kept, "other")["start"].as_number() >= 0.6);
  CHECK(plan_job(kept, "other")["skipped"].is_null());
  CHECK(kept["skipped"].as_number() == 0);

  auto run = [&](const std::string& run_dir, std::vector<std::string> extra) {
    std::vector<std::string> args{"run",  "--cgroup",       "off",       "--json",
                                  "--db", dir.str("wp.db"), "--run-dir", dir.str(run_dir)};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(dir.str("jobs.toml"));
    return parse_json(run_wp(args).out);
  };
  Json ran = run("run-stopped", {});
  CHECK(job_named(ran, "other")["status"].as_string() == "skipped");
  CHECK(job_named(ran, "other")["reason"].as_string() == other["skipped"].as_string());
  CHECK(job_named(run("run-kept", {"-k"}), "other")["status"].as_string() == "ok");
}

TEST_CASE("plan: --cpu-overcommit starts a fractional job beside full cores, and pays for it",
          "[integration]") {
  // Two cores: a and b take one each for 10 s (the default duration); c
  // declares half a core. Without overcommit c waits for one of them: 20 s.
  // With 1.25 (the default) all three start at once, 2.5 cores declared on
  // 2, so each runs at 2 / 2.5 of full speed and ends at 12.5 s, which is
  // also the CPU bound (25 / 2).
  TempDir dir;
  write_file(dir / "jobs.toml",
             "version = 1\n" + job("a", "") + job("b", "") + job("c", "cpu = 0.5\n"));
  auto args = [&](std::vector<std::string> extra) {
    extra.insert(extra.begin(), {"--default-duration", "10s"});
    return plan_args(dir, extra);
  };
  Json strict = parse_json(wp_ok(args({"--json", "--cpu-overcommit", "1"})).out);
  CHECK(strict["cpu_overcommit"].as_number() == 1);
  CHECK(plan_job(strict, "c")["start"].as_number() == Approx(10));
  CHECK(strict["makespan"].as_number() == Approx(20));
  Json shared = parse_json(wp_ok(args({"--json"})).out);
  CHECK(shared["cpu_overcommit"].as_number() == 1.25);
  for (const char* name : {"a", "b", "c"}) {
    CHECK(plan_job(shared, name)["start"].as_number() == 0);
    CHECK(plan_job(shared, name)["end"].as_number() == Approx(12.5));
    CHECK_FALSE(plan_job(shared, name)["timed_out"].as_bool());
  }
  CHECK(shared["makespan"].as_number() == Approx(12.5));
  CHECK(shared["ratio"].as_number() == Approx(1));
  CHECK(shared["timed_out"].as_number() == 0);
  // Never more than the cores busy, however much is declared.
  for (const Json& share : shared["utilisation"]["cpu"].as_array())
    CHECK(share.as_number() <= 1.0 + 1e-9);
  std::string text = wp_ok(args({"--cpu-overcommit", "1.5"})).out;
  CHECK(contains(text, "cpu overcommit 1.5"));

  // With timeouts of 11 s (their assumed durations), a and b take at most
  // 11 s, slowed or not: a run would stop them there. That is a bound on
  // their length, not a failure to report. c (no timeout) then has the cores
  // to itself: 10 - 11 * 0.8 = 1.2 s of work left, at full speed.
  write_file(dir / "jobs.toml", "version = 1\n" + job("a", "timeout = \"11s\"\n") +
                                    job("b", "timeout = \"11s\"\n") + job("c", "cpu = 0.5\n"));
  Json cut = parse_json(wp_ok(args({"--json"})).out);
  for (const char* name : {"a", "b"}) {
    CHECK(plan_job(cut, name)["duration"].as_number() == 11);
    CHECK(plan_job(cut, name)["end"].as_number() == Approx(11));
    CHECK_FALSE(plan_job(cut, name)["timed_out"].as_bool());
    CHECK(plan_job(cut, name)["cut_short"].as_bool());
  }
  CHECK_FALSE(plan_job(cut, "c")["cut_short"].as_bool());
  CHECK(plan_job(cut, "c")["end"].as_number() == Approx(12.2));
  CHECK(cut["timed_out"].as_number() == 0);
  // They did 8.8 s of the 11 s of work the bound counts (27 core-seconds
  // on 2 cores: 13.5 s): the plan ends before its bound, and says why.
  CHECK(cut["lower_bound"]["cpu"].as_number() == Approx(13.5));
  CHECK(cut["ratio"].as_number() < 1);
  CHECK(cut["cut_short"].as_number() == 2);
  std::string cut_text = wp_ok(args({})).out;
  CHECK_FALSE(contains(cut_text, "timed out"));
  CHECK(contains(
      cut_text,
      "cut short     2 jobs slowed by CPU overcommit to their timeout, their assumed run time"));
  CHECK(contains(wp_ok(args({"--strategy", "all"})).out, "2 cut short"));
}

TEST_CASE("run: --strategy and --aging choose the scheduler's policy", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", "version = 1\n" + job("one", "") + job("two", ""));
  wp_ok({"run", "--strategy", "best-fit", "--aging", "1m", "--run-dir", dir.str("run"),
         dir.str("jobs.toml")});
  for (const std::vector<std::string>& flag :
       std::vector<std::vector<std::string>>{{"--strategy", "bogus"},
                                             {"--aging", "soon"},
                                             {"--aging=-5s"},
                                             {"--aging", "0.4ms"},
                                             {"--cpu-overcommit", "0.5"},
                                             {"--cpu-overcommit", "lots"},
                                             {"--cpu-overcommit", "17"}}) {
    std::vector<std::string> args{"run", "--run-dir", dir.str("bad")};
    args.insert(args.end(), flag.begin(), flag.end());
    args.push_back(dir.str("jobs.toml"));
    RunResult r = run_wp(args);
    INFO(r.describe());
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "wp: " + flag[0].substr(0, flag[0].find('='))));
    CHECK_FALSE(fs::exists(dir / "bad"));
  }
  for (const char* bad : {"0", "0.2ms", "later"}) {
    RunResult r = run_wp(plan_args(dir, {"--default-duration", bad}));
    INFO(r.describe());
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "wp: --default-duration: "));
  }
}
