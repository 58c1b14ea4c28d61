// Dependencies (`after`), failure propagation and --keep-going.
#include <signal.h>

#include <catch2/catch.hpp>

#include "wp_harness.h"

using namespace wpit;

namespace {

std::string job(const std::string& name, const std::vector<std::string>& args,
                const std::string& extra = "") {
  return "[[job]]\nname = \"" + name +
         "\"\ncpu = 0.5\nmemory = \"16MiB\"\nargv = " + job_argv(args) + "\n" + extra;
}

// A job that takes a whole core: on `--cpus 2` a third one waits.
std::string core_job(const std::string& name, const std::vector<std::string>& args) {
  return "[[job]]\nname = \"" + name + "\"\ncpu = 1\nargv = " + job_argv(args) + "\n";
}

// `job` never started: skipped for the failure of `failed`.
void check_skipped_for(const Json& summary, const std::string& job, const std::string& failed) {
  const Json& skipped = job_named(summary, job);
  CHECK(skipped["status"].as_string() == "skipped");
  REQUIRE(skipped["reason"].is_string());
  CHECK(contains(skipped["reason"].as_string(), failed));
}

// A zombie: ended, not yet reaped by its parent.
bool zombie(pid_t pid) {
  std::string text = read_proc_file("/proc/" + std::to_string(pid) + "/stat");
  size_t close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() && text[close + 2] == 'Z';
}

}  // namespace

TEST_CASE("after: a dependent starts only after each of its dependencies ended", "[integration]") {
  TempDir dir;
  const std::string rec = dir.str("record");
  auto recorded = [&](const std::string& name, const std::string& ms) {
    return std::vector<std::string>{"--name", name, "--record", rec, "--sleep-ms", ms};
  };
  // gen-{i} is a matrix family; "use" depends on the whole family by its
  // template name and on "slow", which is listed after it.
  write_file(dir / "jobs.toml",
             job("use", recorded("use", "10"), "after = [\"gen-{i}\", \"slow\"]\n") +
                 "[[job]]\nname = \"gen-{i}\"\ncpu = 0.5\nmemory = \"16MiB\"\n"
                 "matrix = { i = [1, 2] }\nargv = " +
                 job_argv({"--name", "gen-{i}", "--record", rec, "--sleep-ms", "200"}) + "\n" +
                 job("slow", recorded("slow", "400")) +
                 job("last", recorded("last", "10"), "after = [\"use\"]\n"));
  RunResult r = run_wp({"run", "--cpus", "2", dir.str("jobs.toml")});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  std::vector<Record> records = read_records(rec);
  REQUIRE(records.size() == 5);
  const Record* use = find_record(records, "use");
  const Record* last = find_record(records, "last");
  REQUIRE((use && last));
  for (const char* dependency : {"gen-1", "gen-2", "slow"}) {
    const Record* d = find_record(records, dependency);
    REQUIRE(d != nullptr);
    INFO(dependency << " ended at " << d->end_ns << ", use started at " << use->start_ns);
    CHECK(d->end_ns <= use->start_ns);
  }
  CHECK(use->end_ns <= last->start_ns);
  // The log tells it in that order too: a dependency's "ok" line comes
  // before its dependent's "start" line.
  auto line_at = [&r](const std::string& line) {
    size_t at = r.err.find("wp: " + line);
    INFO("looking for 'wp: " << line << "'");
    CHECK(at != std::string::npos);
    return at;
  };
  for (const char* dependency : {"gen-1", "gen-2", "slow"}) {
    CHECK(line_at(std::string("ok ") + dependency) < line_at("start use"));
  }
  CHECK(line_at("ok use") < line_at("start last"));
}

TEST_CASE("after: a failed dependency skips its dependents, transitively, with a reason",
          "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             job("broken", {"--exit", "1"}) +
                 job("child", {"--touch", dir.str("child")}, "after = [\"broken\"]\n") +
                 job("grandchild", {"--touch", dir.str("grandchild")}, "after = [\"child\"]\n") +
                 job("bystander", {"--touch", dir.str("bystander")}));
  RunResult r = run_wp({"run", "--json", "--keep-going", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  CHECK_FALSE(fs::exists(dir / "child"));
  CHECK_FALSE(fs::exists(dir / "grandchild"));
  CHECK(fs::exists(dir / "bystander"));

  Json summary = parse_json(r.out);
  CHECK(job_named(summary, "broken")["status"].as_string() == "failed");
  CHECK(job_named(summary, "bystander")["status"].as_string() == "ok");
  const Json& child = job_named(summary, "child");
  CHECK(child["status"].as_string() == "skipped");
  REQUIRE(child["reason"].is_string());
  CHECK(contains(child["reason"].as_string(), "dependency"));
  CHECK(contains(child["reason"].as_string(), "broken"));
  const Json& grandchild = job_named(summary, "grandchild");
  CHECK(grandchild["status"].as_string() == "skipped");
  REQUIRE(grandchild["reason"].is_string());
  // Naming the direct dependency or the root cause are both fine.
  CHECK(contains(grandchild["reason"].as_string(), "dependency"));
  const bool names_a_cause = contains(grandchild["reason"].as_string(), "child") ||
                             contains(grandchild["reason"].as_string(), "broken");
  CHECK(names_a_cause);
  CHECK(summary["counts"]["skipped"].as_int() == 2);
  CHECK(summary["counts"]["failed"].as_int() == 1);
  CHECK(summary["counts"]["ok"].as_int() == 1);
  // The human summary on stderr also says so.
  CHECK(contains(r.err, "2 skipped"));
  CHECK(contains(r.err, "skipped"));
}

TEST_CASE("keep-going: independent jobs still start after a failure", "[integration]") {
  TempDir dir;
  // One core and one-core jobs: strictly one after another, in manifest order.
  std::string manifest;
  manifest += "[[job]]\nname = \"fails\"\ncpu = 1\nargv = " + job_argv({"--exit", "1"}) + "\n";
  for (const char* name : {"later-1", "later-2"}) {
    manifest += "[[job]]\nname = \"" + std::string(name) +
                "\"\ncpu = 1\nargv = " + job_argv({"--touch", dir.str(name)}) + "\n";
  }
  write_file(dir / "jobs.toml", manifest);
  RunResult r = run_wp({"run", "--cpus", "1", "--keep-going", "--json", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  CHECK(fs::exists(dir / "later-1"));
  CHECK(fs::exists(dir / "later-2"));
  Json summary = parse_json(r.out);
  CHECK(job_named(summary, "later-1")["status"].as_string() == "ok");
  CHECK(job_named(summary, "later-2")["status"].as_string() == "ok");
}

TEST_CASE("without keep-going no new job starts after a failure but running ones finish",
          "[integration]") {
  SKIP_WITH_FEWER_CPUS(2);
  TempDir dir;
  // Two cores: "fails" and "running" start together; "queued" waits for a
  // core, which frees only when "fails" has failed.
  write_file(dir / "jobs.toml", core_job("fails", {"--sleep-ms", "100", "--exit", "1"}) +
                                    core_job("running", {"--touch", dir.str("running-started"),
                                                         "--sleep-ms", "1500"}) +
                                    core_job("queued", {"--touch", dir.str("queued")}));
  RunResult r = run_wp({"run", "--cpus", "2", "--json", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  CHECK_FALSE(fs::exists(dir / "queued"));
  Json summary = parse_json(r.out);
  INFO(summary.dump());
  CHECK(job_named(summary, "fails")["status"].as_string() == "failed");
  CHECK(job_named(summary, "running")["status"].as_string() == "ok");
  check_skipped_for(summary, "queued", "fails");
}

TEST_CASE("without keep-going a failure stops the run though a success ends with it",
          "[integration]") {
  SKIP_WITH_FEWER_CPUS(2);
  TempDir dir;
  // "fails" and "succeeds" run on the two cores and end while wp is stopped,
  // so that one turn of its loop reaps both. The success frees a core for
  // "queued", but the failure in the same turn must stop the run first.
  auto ending = [&dir](const std::string& name, const std::string& code) {
    return core_job(name,
                    {"--touch", dir.str(name + ".pid"), "--sleep-ms", "1500", "--exit", code});
  };
  write_file(dir / "jobs.toml", ending("fails", "1") + ending("succeeds", "0") +
                                    core_job("queued", {"--touch", dir.str("queued")}));
  WpProcess wp({"run", "--cpus", "2", "--json", dir.str("jobs.toml")});
  REQUIRE(wp.wait_until(
      [&] { return fs::exists(dir / "fails.pid") && fs::exists(dir / "succeeds.pid"); },
      milliseconds(10'000)));
  wp.send(SIGSTOP);
  pid_t fails = pid_from_file(dir / "fails.pid");
  pid_t succeeds = pid_from_file(dir / "succeeds.pid");
  bool both_ended =
      wp.wait_until([&] { return zombie(fails) && zombie(succeeds); }, milliseconds(10'000));
  wp.send(SIGCONT);
  REQUIRE(both_ended);
  RunResult r = wp.finish(milliseconds(20'000));
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  CHECK_FALSE(fs::exists(dir / "queued"));
  Json summary = parse_json(r.out);
  CHECK(job_named(summary, "fails")["status"].as_string() == "failed");
  CHECK(job_named(summary, "succeeds")["status"].as_string() == "ok");
  check_skipped_for(summary, "queued", "fails");
}
