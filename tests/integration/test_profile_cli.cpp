// `wp profile` through the real binary, on a database the test fills with a
// fixed synthetic history (through the store, as `wp run` would): list,
// show, history and its filters and formats, export and import, forget, and
// the errors of each.
#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "mini_json.h"
#include "profile/store.h"
#include "report/summary.h"
#include "wp_harness.h"

using namespace wpit;
using wp::profile::AttemptRecord;

namespace {

constexpr uint64_t kMiB = uint64_t{1024} * 1024;
const char* const kCsvManifest = "/work/ci, nightly/jobs.toml";

AttemptRecord base_attempt(const std::string& space, const std::string& name, int run,
                           const std::string& started) {
  AttemptRecord a;
  a.uid = "run" + std::to_string(run) + "/" + space + "/" + name + "/1";
  a.key = {space, name};
  a.job = name;
  a.fingerprint = "0123456789abcdef";
  a.command = "make " + name;
  a.run_uuid = "run" + std::to_string(run);
  a.manifest = "/work/ci/jobs.toml";
  a.started = started;
  a.exit_code = 0;
  a.wall_seconds = 100 + run;
  a.declared.cpu = wp::Cores::from_double(2);
  a.declared.memory = 2048 * kMiB;
  a.admitted = a.declared;
  a.usage.method = "cgroup v2";
  a.usage.peak_memory = (1000 + 8 * static_cast<uint64_t>(run)) * kMiB;
  a.usage.cpu_seconds = 150.25 + run;
  a.usage.user_seconds = 140.0;
  a.usage.system_seconds = 10.25 + run;
  a.usage.average_cores = 1.25;
  a.usage.peak_cores = 1.5 + 0.05 * run;
  a.usage.read_ops = 1000 + static_cast<uint64_t>(run);
  a.usage.write_ops = 500;
  a.usage.read_bytes = 4096 * 1000;
  a.usage.write_bytes = 4096 * 500;
  return a;
}

// `compile` in ns-a: ten runs from 2026-11-10 to 2026-11-19, with an OOM
// kill, a failure, a SIGKILL, a timeout and a retry among them, and memory
// predictions from the sixth run on (one of them too low).
std::vector<AttemptRecord> compile_history() {
  std::vector<AttemptRecord> history;
  for (int i = 0; i < 10; ++i) {
    AttemptRecord a =
        base_attempt("ns-a", "compile", i, fmt::format("2026-11-{}T08:00:00.000Z", 10 + i));
    a.family = "compile-{arch}";
    a.input_bytes = 1'000'000ULL * static_cast<uint64_t>(i + 1);
    if (i == 3) {
      a.exit_code.reset();
      a.signal = 9;
      a.usage.oom_killed = true;
    }
    if (i == 4) a.exit_code = 2;
    if (i == 5) {
      a.number = 2;
      a.uid = "run4/ns-a/compile/2";
      a.run_uuid = "run4";
    }
    if (i == 6) {
      a.exit_code.reset();
      a.signal = 9;
    }
    if (i == 7) {
      a.exit_code.reset();
      a.signal = 15;
      a.timed_out = true;
    }
    if (i >= 5) {
      double factor = i == 8 ? 0.9 : 1.1;
      a.predicted.memory =
          static_cast<uint64_t>(static_cast<double>(*a.usage.peak_memory) * factor);
      a.predicted.wall_seconds = a.wall_seconds * 1.05;
      a.predicted.cores = 1.75;
    }
    if (i == 9) a.manifest = kCsvManifest;
    history.push_back(a);
  }
  return history;
}

// `lint` in two namespaces, so that the bare name is ambiguous.
std::vector<AttemptRecord> lint_history(const std::string& space) {
  std::vector<AttemptRecord> history;
  for (int i = 0; i < 3; ++i)
    history.push_back(
        base_attempt(space, "lint", 20 + i, fmt::format("2026-11-{}T09:00:00.000Z", 20 + i)));
  return history;
}

// `recent` in ns-a: runs 10 days, 3 days and 1 hour ago, for --since DURATION.
std::vector<AttemptRecord> recent_history() {
  using namespace std::chrono;
  auto now = wp::report::Clock::now();
  std::vector<AttemptRecord> history;
  int run = 30;
  for (auto ago : {hours(240), hours(72), hours(1)})
    history.push_back(base_attempt("ns-a", "recent", run++, wp::report::format_time(now - ago)));
  return history;
}

void populate(const std::string& db) {
  auto store = wp::profile::Store::open(db);
  REQUIRE(store);
  std::vector<AttemptRecord> all = compile_history();
  for (const auto& more : {lint_history("ns-a"), lint_history("ns-b"), recent_history()})
    all.insert(all.end(), more.begin(), more.end());
  for (const AttemptRecord& a : all) {
    auto added = store->add_attempt(a);
    REQUIRE(added);
    REQUIRE(*added);
  }
}

RunResult wp_ok(const std::vector<std::string>& args) {
  RunResult r = run_wp(args);
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  return r;
}

// The data lines of a table (its header dropped).
std::vector<std::string> rows_of(const std::string& out) {
  std::vector<std::string> lines = split_lines(out);
  if (!lines.empty()) lines.erase(lines.begin());
  return lines;
}

std::string line_starting(const std::string& out, std::string_view prefix) {
  for (const std::string& line : split_lines(out))
    if (line.rfind(prefix, 0) == 0) return line;
  return {};
}

}  // namespace

TEST_CASE("profile list: a line per profile with its predictions", "[integration]") {
  TempDir dir;
  std::string db = dir.str("wp.db");
  RunResult empty = wp_ok({"profile", "list", "--db", db});
  CHECK(empty.out.empty());
  CHECK(contains(empty.err, "no profiles in " + db));
  CHECK(!fs::exists(db));  // looking does not create a database

  populate(db);
  RunResult r = wp_ok({"profile", "list", "--db", db});
  INFO(r.out);
  std::vector<std::string> lines = split_lines(r.out);
  REQUIRE(lines.size() == 5);  // header, compile, lint x2, recent
  CHECK(contains(lines[0], "NAME"));
  CHECK(contains(lines[0], "MEMORY"));
  std::string compile = line_starting(r.out, "compile ");
  REQUIRE(!compile.empty());
  CHECK(contains(compile, "ns-a"));
  CHECK(contains(compile, "2026-11-19 08:00:00"));
  CHECK(std::regex_search(compile, std::regex(R"(ns-a .* [0-9.]+ [MG]iB )")));  // a prediction
  CHECK(contains(compile, "%"));                                                // its confidence
  // Columns line up: NAMESPACE starts at the same place on every line.
  size_t column = lines[0].find("NAMESPACE");
  for (size_t i = 1; i < lines.size(); ++i)
    CHECK(lines[i].substr(column, 3) == "ns-");

  RunResult only_b = wp_ok({"profile", "list", "--db", db, "--namespace", "ns-b"});
  CHECK(rows_of(only_b.out).size() == 1);

  Json doc = parse_json(wp_ok({"profile", "list", "--db", db, "--json"}).out);
  CHECK(doc["database"].as_string() == db);
  const Json& profiles = doc["profiles"];
  REQUIRE(profiles.size() == 4);
  const Json& first = profiles[0];  // ordered by namespace, then name
  CHECK(first["name"].as_string() == "compile");
  CHECK(first["runs"].as_number() == 9);
  CHECK(first["attempts"].as_number() == 10);
  CHECK(first["predicted"]["memory"].as_number() > 1000 * static_cast<double>(kMiB));
  CHECK(first["predicted"]["wall_seconds"].as_number() > 0);
  CHECK(first["confidence"].as_number() > 0);
  CHECK(first["confidence"].as_number() <= 1);
  CHECK(first["memory_accuracy"].is_number());
  CHECK(profiles[1]["memory_accuracy"].is_null());  // lint never had a prediction
}

TEST_CASE("profile show: identity, aggregates, predictions and accuracy", "[integration]") {
  TempDir dir;
  std::string db = dir.str("wp.db");
  populate(db);
  RunResult r = wp_ok({"profile", "show", "compile", "--db", db});
  INFO(r.out);
  CHECK(contains(r.out, "ns-a"));
  CHECK(contains(r.out, "compile-{arch}"));
  CHECK(contains(r.out, "make compile"));
  CHECK(contains(r.out, "0123456789abcdef"));
  CHECK(contains(r.out, "2026-11-10 08:00:00"));
  CHECK(std::regex_search(r.out, std::regex(R"(OOM kills +1)")));
  CHECK(std::regex_search(r.out, std::regex(R"(runs +9)")));
  CHECK(std::regex_search(r.out, std::regex(R"(max memory +1 GiB)")));  // 1072 MiB
  CHECK(std::regex_search(r.out,
                          std::regex(R"(\n +memory +[0-9.]+ [MG]iB +[0-9.]+ [MG]iB +)"
                                     R"((recent-max|p95|mean\+2sd|ewma|input-fit) +[0-9]+%)")));
  CHECK(contains(r.out, "accuracy"));

  Json doc = parse_json(wp_ok({"profile", "show", "compile", "--db", db, "--json"}).out);
  CHECK(doc["namespace"].as_string() == "ns-a");
  CHECK(doc["attempts"].as_number() == 10);
  CHECK(doc["ok"].as_number() == 6);
  CHECK(doc["oom_kills"].as_number() == 1);
  CHECK(doc["max_memory"].as_number() == 1072 * static_cast<double>(kMiB));
  const Json& memory = doc["resources"]["memory"];
  CHECK(memory["prediction"]["value"].as_number() > 0);
  CHECK(memory["prediction"]["upper"].as_number() >= memory["prediction"]["value"].as_number());
  CHECK(memory["prediction"]["samples"].as_number() >= 3);
  CHECK(memory["accuracy"]["predicted"].as_number() >= 3);
  CHECK(memory["accuracy"]["under"].as_number() >= 1);  // the 0.9x one
  CHECK(memory["accuracy"]["hit_rate"].as_number() > 0);
  CHECK(memory["accuracy"]["mean_abs_error"].as_number() > 0);
  CHECK(doc["resources"]["iops"]["accuracy"]["hit_rate"].is_null());
}

TEST_CASE("profile show: ambiguous and unknown names exit 2", "[integration]") {
  TempDir dir;
  std::string db = dir.str("wp.db");
  populate(db);
  RunResult ambiguous = run_wp({"profile", "show", "lint", "--db", db});
  INFO(ambiguous.describe());
  CHECK(ambiguous.exit_code == 2);
  CHECK(contains(ambiguous.err, "wp: "));
  CHECK(contains(ambiguous.err, "'ns-a'"));
  CHECK(contains(ambiguous.err, "'ns-b'"));
  CHECK(contains(ambiguous.err, "--namespace"));
  wp_ok({"profile", "show", "lint", "--db", db, "--namespace", "ns-b"});

  RunResult typo = run_wp({"profile", "show", "compil", "--db", db});
  INFO(typo.describe());
  CHECK(typo.exit_code == 2);
  CHECK(contains(typo.err, "no profile named 'compil' in " + db));
  CHECK(contains(typo.err, "did you mean 'compile'?"));

  RunResult other_space =
      run_wp({"profile", "history", "compile", "--db", db, "--namespace", "ns-b"});
  CHECK(other_space.exit_code == 2);
  CHECK(contains(other_space.err, "it is in namespace 'ns-a'"));
}

TEST_CASE("profile history: every attempt, filtered by --limit and --since", "[integration]") {
  TempDir dir;
  std::string db = dir.str("wp.db");
  populate(db);
  RunResult r = wp_ok({"profile", "history", "compile", "--db", db});
  INFO(r.out);
  std::vector<std::string> rows = rows_of(r.out);
  REQUIRE(rows.size() == 10);
  CHECK(rows.front().rfind("2026-11-10 08:00:00", 0) == 0);  // oldest first
  CHECK(rows.back().rfind("2026-11-19 08:00:00", 0) == 0);
  CHECK(contains(rows[0], "2 GiB"));     // declared
  CHECK(contains(rows[0], "1000 MiB"));  // used
  CHECK(contains(rows[0], " ok "));
  CHECK(contains(rows[3], "OOM"));
  CHECK(contains(rows[4], "exit 2"));
  CHECK(contains(rows[6], "SIGKILL"));
  CHECK(contains(rows[7], "timeout"));

  std::vector<std::string> newest =
      rows_of(wp_ok({"profile", "history", "compile", "--db", db, "--limit", "3"}).out);
  REQUIRE(newest.size() == 3);
  CHECK(newest.front().rfind("2026-11-17", 0) == 0);

  CHECK(rows_of(wp_ok({"profile", "history", "compile", "--db", db, "--since", "2026-11-15"}).out)
            .size() == 5);
  CHECK(rows_of(
            wp_ok({"profile", "history", "compile", "--db", db, "--since", "2026-11-15T08:00:00Z"})
                .out)
            .size() == 5);
  CHECK(
      rows_of(wp_ok({"profile", "history", "compile", "--db", db, "--since", "2026-11-15T08:00:01"})
                  .out)
          .size() == 4);
  CHECK(rows_of(wp_ok({"profile", "history", "recent", "--db", db, "--since", "7d"}).out).size() ==
        2);
  CHECK(rows_of(wp_ok({"profile", "history", "recent", "--db", db, "--since", "12h"}).out).size() ==
        1);

  RunResult bad_since =
      run_wp({"profile", "history", "compile", "--db", db, "--since", "yesterday"});
  CHECK(bad_since.exit_code == 2);
  CHECK(contains(bad_since.err, "--since: 'yesterday'"));
}

TEST_CASE("profile history --csv and --json", "[integration]") {
  TempDir dir;
  std::string db = dir.str("wp.db");
  populate(db);
  RunResult csv = wp_ok({"profile", "history", "compile", "--db", db, "--csv"});
  std::vector<std::string> lines = split_lines(csv.out);
  REQUIRE(lines.size() == 11);
  CHECK(lines[0].rfind("started,manifest,job,attempt,", 0) == 0);
  CHECK(contains(lines[10], "\"/work/ci, nightly/jobs.toml\""));  // RFC 4180 quoting
  CHECK(contains(lines[1], "/work/ci/jobs.toml,compile,1,2147483648,,1048576000,"));

  Json attempts = parse_json(wp_ok({"profile", "history", "compile", "--db", db, "--json"}).out);
  REQUIRE(attempts.size() == 10);
  const Json& first = attempts[0];
  CHECK(first["uid"].as_string() == "run0/ns-a/compile/1");
  CHECK(first["namespace"].as_string() == "ns-a");
  CHECK(first["started"].as_string() == "2026-11-10T08:00:00.000Z");
  CHECK(first["predicted"]["memory"].is_null());
  CHECK(first["signal"].is_null());
  CHECK(first["input_bytes"].as_number() == 1'000'000);
  CHECK(first["declared"]["memory"].as_number() == 2048 * static_cast<double>(kMiB));
  CHECK(first["declared"]["cpu"].as_number() == 2);
  CHECK(first["usage"]["peak_memory"].as_number() == 1000 * static_cast<double>(kMiB));
  CHECK(first["usage"]["oom_killed"].as_bool() == false);
  CHECK(attempts[3]["usage"]["oom_killed"].as_bool());
  CHECK(attempts[3]["exit_code"].is_null());
  CHECK(attempts[3]["signal"].as_number() == 9);
  CHECK(attempts[5]["number"].as_number() == 2);
  CHECK(attempts[9]["predicted"]["memory"].is_number());

  RunResult both = run_wp({"profile", "history", "compile", "--db", db, "--csv", "--json"});
  CHECK(both.exit_code == 2);
}

TEST_CASE("profile export and import: a round trip keeps every field", "[integration]") {
  TempDir dir;
  std::string source = dir.str("source.db");
  std::string copy = dir.str("copy.db");
  std::string file = dir.str("profiles.json");
  populate(source);
  RunResult exported = wp_ok({"profile", "export", file, "--db", source});
  CHECK(contains(exported.out, "exported 19 attempts of 4 profiles"));
  Json doc = parse_json(read_file(file));
  CHECK(doc["format"].as_string() == "wp-profiles");
  CHECK(doc["version"].as_number() == 1);
  CHECK(doc["exported_at"].is_string());
  CHECK(doc["attempts"].size() == 19);
  // To stdout, the document is all there is.
  CHECK(parse_json(wp_ok({"profile", "export", "--db", source}).out)["attempts"].size() == 19);

  RunResult imported = wp_ok({"profile", "import", file, "--db", copy});
  CHECK(contains(
      imported.out,
      "imported 19 attempts (0 already present or older than the kept history) into 4 profiles"));
  for (const auto& [space, name] : std::vector<std::pair<std::string, std::string>>{
           {"ns-a", "compile"}, {"ns-a", "lint"}, {"ns-b", "lint"}, {"ns-a", "recent"}}) {
    std::vector<std::string> args{"profile", "history", name,  "--namespace",
                                  space,     "--json",  "--db"};
    args.push_back(source);
    std::string before = wp_ok(args).out;
    args.back() = copy;
    CHECK(wp_ok(args).out == before);
  }
  // The aggregates are rebuilt from the same attempts.
  auto show = [](const std::string& db) {
    Json d = parse_json(wp_ok({"profile", "show", "compile", "--db", db, "--json"}).out);
    return d["runs"].dump() + d["ok"].dump() + d["oom_kills"].dump() + d["max_memory"].dump() +
           d["first_seen"].dump() + d["last_seen"].dump() + d["resources"].dump();
  };
  CHECK(show(copy) == show(source));

  // Importing it again adds nothing.
  Json again = parse_json(wp_ok({"profile", "import", file, "--db", copy, "--json"}).out);
  CHECK(again["imported"].as_number() == 0);
  CHECK(again["present"].as_number() == 19);
  CHECK(parse_json(wp_ok({"profile", "show", "compile", "--db", copy, "--json"}).out)["attempts"]
            .as_number() == 10);

  // --namespace carries one project only.
  std::string part = dir.str("part.db");
  RunResult only_b = wp_ok({"profile", "import", file, "--db", part, "--namespace", "ns-b"});
  CHECK(contains(
      only_b.out,
      "imported 3 attempts (0 already present or older than the kept history) into 1 profile"));
}

TEST_CASE("profile import: a bad document exits 2 and names the file", "[integration]") {
  TempDir dir;
  std::string db = dir.str("wp.db");
  auto import = [&](const std::string& name, const std::string& content) {
    write_file(dir / name, content);
    RunResult r = run_wp({"profile", "import", dir.str(name), "--db", db});
    INFO(r.describe());
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "wp: " + dir.str(name)));
    return r.err;
  };
  CHECK(contains(import("bad.json", "{\"format\": \"wp-profiles\", "), "not valid JSON"));
  CHECK(contains(import("other.json", R"({"format": "other", "version": 1, "attempts": []})"),
                 "not a wp profile export"));
  CHECK(
      contains(import("future.json", R"({"format": "wp-profiles", "version": 2, "attempts": []})"),
               "version 2"));
  std::string missing =
      import("missing.json",
             R"({"format": "wp-profiles", "version": 1, "attempts": [)"
             R"({"uid": "r/a/1", "namespace": "n", "name": "a", "job": "a", "run_uuid": "r",)"
             R"( "number": 1, "started": "2026-11-20T00:00:00.000Z", "wall_seconds": 1},)"
             R"({"namespace": "n", "name": "b", "job": "b", "run_uuid": "r", "number": 1,)"
             R"( "started": "2026-11-20T00:00:00.000Z", "wall_seconds": 1}]})");
  CHECK(contains(missing, "attempts[1]: missing field 'uid'"));
  std::string mistyped =
      import("mistyped.json",
             R"({"format": "wp-profiles", "version": 1, "attempts": [)"
             R"({"uid": "r/a/1", "namespace": "n", "name": "a", "job": "a", "run_uuid": "r",)"
             R"( "number": "one", "started": "2026-11-20T00:00:00.000Z", "wall_seconds": 1}]})");
  CHECK(contains(mistyped, "attempts[0]: field 'number' must be an integer, not a string"));
  CHECK(!fs::exists(db));  // nothing was written

  RunResult absent = run_wp({"profile", "import", dir.str("absent.json"), "--db", db});
  CHECK(absent.exit_code == 2);
  CHECK(contains(absent.err, "absent.json"));
}

TEST_CASE("profile forget: one profile, or every one", "[integration]") {
  TempDir dir;
  std::string db = dir.str("wp.db");
  populate(db);
  RunResult neither = run_wp({"profile", "forget", "--db", db});
  CHECK(neither.exit_code == 2);
  RunResult both = run_wp({"profile", "forget", "compile", "--all", "--db", db});
  CHECK(both.exit_code == 2);
  RunResult ambiguous = run_wp({"profile", "forget", "lint", "--db", db});
  CHECK(ambiguous.exit_code == 2);
  CHECK(contains(ambiguous.err, "--namespace"));

  RunResult one = wp_ok({"profile", "forget", "compile", "--db", db});
  CHECK(contains(one.out, "removed 1 profile (10 stored attempts)"));
  CHECK(line_starting(wp_ok({"profile", "list", "--db", db}).out, "compile ").empty());
  CHECK(run_wp({"profile", "show", "compile", "--db", db}).exit_code == 2);

  Json lint_b = parse_json(
      wp_ok({"profile", "forget", "lint", "--namespace", "ns-b", "--db", db, "--json"}).out);
  CHECK(lint_b["profiles"].as_number() == 1);
  CHECK(lint_b["attempts"].as_number() == 3);

  RunResult all = wp_ok({"profile", "forget", "--all", "--db", db});
  CHECK(contains(all.out, "removed 2 profiles (6 stored attempts)"));
  RunResult empty = wp_ok({"profile", "list", "--db", db});
  CHECK(empty.out.empty());
  CHECK(contains(empty.err, "no profiles in"));
}

TEST_CASE("profile show: a changed command predicts from the earlier one at half confidence",
          "[integration]") {
  TempDir dir;
  std::string db = dir.str("wp.db");
  {
    auto store = wp::profile::Store::open(db);
    REQUIRE(store);
    for (int i = 0; i < 6; ++i) {
      AttemptRecord a =
          base_attempt("ns", "build", i, fmt::format("2026-11-{}T08:00:00.000Z", 10 + i));
      if (i == 5) a.fingerprint = "fedcba9876543210";  // the newest: a new command
      REQUIRE(store->add_attempt(a));
    }
  }
  Json changed = parse_json(wp_ok({"profile", "show", "build", "--db", db, "--json"}).out);
  CHECK(changed["fingerprint"].as_string() == "fedcba9876543210");
  CHECK(changed["earlier_command"].as_bool());
  const Json& prediction = changed["resources"]["memory"]["prediction"];
  REQUIRE(prediction.is_object());
  CHECK(prediction["confidence"].as_number() <= 0.5);
  CHECK(contains(wp_ok({"profile", "show", "build", "--db", db}).out, "half confidence"));
}

TEST_CASE("profile and plan: a database of an older schema is left as it is", "[integration]") {
  TempDir dir;
  std::string db = dir.str("wp.db");
  populate(db);
  {
    auto store = wp::profile::Store::open(db);
    REQUIRE(store);
    REQUIRE(store->database().exec("PRAGMA user_version=3"));
  }
  const std::string before = read_file(db);
  std::string manifest = dir.str("jobs.toml");
  write_file(manifest, "[[job]]\nname = \"compile\"\ncommand = \"true\"\n");

  RunResult list = run_wp({"profile", "list", "--db", db});
  INFO(list.describe());
  CHECK(list.exit_code == 1);
  CHECK(contains(list.err, "schema version 3 is older than this wp's"));
  CHECK(contains(list.err, "the next `wp run` brings it up to date"));

  RunResult plan = wp_ok({"plan", "--db", db, manifest});
  INFO(plan.describe());
  CHECK(contains(plan.err, "job history not used: state database " + db));
  CHECK(contains(plan.out, "1 assumed"));

  CHECK(read_file(db) == before);
}
