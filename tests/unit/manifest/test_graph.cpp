// `after`: names, families, unknown names, cycles.
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "manifest/internal.h"
#include "manifest/manifest.h"

using namespace wp::manifest;

namespace {

LoadResult load(std::string_view text) {
  return load_string(text, "jobs.toml");
}

// c0 after c1 after c2 ... after c{n-1}, and c{n-1} after c0 when `closed`.
std::string chain(size_t n, bool closed) {
  std::string text;
  text.reserve(n * 48);
  for (size_t i = 0; i < n; ++i) {
    text += "[[job]]\nname = \"c" + std::to_string(i) + "\"\ncommand = \"true\"\n";
    if (i + 1 < n) text += "after = [\"c" + std::to_string(i + 1) + "\"]\n";
    if (i + 1 == n && closed) text += "after = [\"c0\"]\n";
  }
  return text;
}

}  // namespace

TEST_CASE("after resolves names to indices, in order, without repeats", "[manifest][graph]") {
  LoadResult result = load(R"(
[[job]]
name = "package"
command = "true"
after = ["test", "build", "test"]
[[job]]
name = "build"
command = "true"
[[job]]
name = "test"
command = "true"
after = ["build"]
)");
  REQUIRE(result.manifest);
  const auto& jobs = result.manifest->jobs;
  CHECK(jobs[0].after == std::vector<size_t>{2, 1});
  CHECK(jobs[1].after.empty());
  CHECK(jobs[2].after == std::vector<size_t>{1});
}

TEST_CASE("a family's template name means every member", "[manifest][graph]") {
  LoadResult result = load(R"(
[[job]]
name = "test-{os}-{n}"
command = "true"
matrix = { os = ["linux", "mac"], n = [1, 2] }
[[job]]
name = "report"
command = "true"
after = ["test-{os}-{n}", "test-linux-1"]
)");
  REQUIRE(result.manifest);
  CHECK(result.manifest->jobs[4].after == std::vector<size_t>{0, 1, 2, 3});
}

TEST_CASE("unknown names in after suggest the nearest job", "[manifest][graph]") {
  LoadResult result = load(R"([[job]]
name = "build"
command = "true"
[[job]]
name = "test"
command = "true"
after = ["buidl", "deploy-everything"]
)");
  REQUIRE(result.errors.size() == 2);
  CHECK(result.errors[0].pos.line == 7);
  CHECK(result.errors[0].pos.column == 10);
  CHECK(result.errors[0].message ==
        "job 'test': after: unknown job 'buidl'; did you mean 'build'?");
  CHECK(result.errors[1].pos.column == 19);
  CHECK(result.errors[1].message == "job 'test': after: unknown job 'deploy-everything'");
}

TEST_CASE("a suggestion never names the job that asks", "[manifest][graph]") {
  // p-riscv is the nearest name to c-riscv, but p-riscv after p-riscv is a cycle.
  LoadResult result = load(R"([[job]]
name = "c-{arch}"
command = "true"
matrix = { arch = ["x86", "arm"] }
[[job]]
name = "p-{arch}"
command = "true"
after = ["c-{arch}"]
matrix = { arch = ["x86", "arm", "riscv"] }
[[job]]
name = "solo"
command = "true"
after = ["sol"]
)");
  REQUIRE(result.errors.size() == 2);
  CHECK(result.errors[0].pos.line == 8);
  CHECK(result.errors[0].message == "job 'p-riscv': after: unknown job 'c-riscv'");
  CHECK(result.errors[1].message == "job 'solo': after: unknown job 'sol'");

  // Another job of that name is still suggested.
  result = load(R"([[job]]
name = "p-riscv"
command = "true"
[[job]]
name = "q-riscv"
command = "true"
after = ["c-riscv"]
)");
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].message ==
        "job 'q-riscv': after: unknown job 'c-riscv'; did you mean 'p-riscv'?");
}

TEST_CASE("a cycle is printed from its first job", "[manifest][graph]") {
  LoadResult result = load(R"([[job]]
name = "x"
command = "true"
[[job]]
name = "a"
command = "true"
after = ["x", "b"]
[[job]]
name = "b"
command = "true"
after = ["a"]
)");
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].pos.line == 7);
  CHECK(result.errors[0].pos.column == 15);
  CHECK(result.errors[0].message ==
        "dependency cycle: a -> b -> a; remove one of these `after` entries");
}

TEST_CASE("separate cycles are each reported", "[manifest][graph]") {
  LoadResult result = load(R"([[job]]
name = "a"
command = "true"
after = ["b"]
[[job]]
name = "b"
command = "true"
after = ["a"]
[[job]]
name = "c"
command = "true"
after = ["d"]
[[job]]
name = "d"
command = "true"
after = ["c"]
)");
  REQUIRE(result.errors.size() == 2);
  CHECK_THAT(result.errors[0].message, Catch::StartsWith("dependency cycle: a -> b -> a"));
  CHECK_THAT(result.errors[1].message, Catch::StartsWith("dependency cycle: c -> d -> c"));
}

TEST_CASE("a long dependency chain does not exhaust the stack", "[manifest][graph]") {
  LoadResult result = load(chain(200'000, false));
  CHECK(result.errors.empty());
  REQUIRE(result.manifest);
  REQUIRE(result.manifest->jobs.size() == 200'000);
  CHECK(result.manifest->jobs[0].after == std::vector<size_t>{1});
  CHECK(result.manifest->jobs[199'999].after.empty());
}

TEST_CASE("a long cycle is reported with its first jobs and its length", "[manifest][graph]") {
  LoadResult result = load(chain(100'000, true));
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].pos.line == 4);
  CHECK(result.errors[0].pos.column == 10);
  CHECK(result.errors[0].message ==
        "dependency cycle of 100000 jobs: c0 -> c1 -> c2 -> c3 -> c4 -> c5 -> c6 -> c7 -> ... "
        "(99992 more) -> c0; remove one of these `after` entries");
}

TEST_CASE("a cycle of up to 10 jobs lists every job", "[manifest][graph]") {
  LoadResult result = load(chain(10, true));
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].message ==
        "dependency cycle: c0 -> c1 -> c2 -> c3 -> c4 -> c5 -> c6 -> c7 -> c8 -> c9 -> c0; "
        "remove one of these `after` entries");

  result = load(chain(11, true));
  REQUIRE(result.errors.size() == 1);
  CHECK_THAT(result.errors[0].message,
             Catch::StartsWith("dependency cycle of 11 jobs: c0 -> c1 -> c2 -> c3 -> c4 -> c5 -> "
                               "c6 -> c7 -> ... (3 more) -> c0;"));
}

TEST_CASE("a diamond is not a cycle", "[manifest][graph]") {
  LoadResult result = load(R"(
[[job]]
name = "top"
command = "true"
[[job]]
name = "left"
command = "true"
after = ["top"]
[[job]]
name = "right"
command = "true"
after = ["top"]
[[job]]
name = "bottom"
command = "true"
after = ["left", "right"]
)");
  CHECK(result.errors.empty());
  REQUIRE(result.manifest);
}

TEST_CASE("nearest finds plausible typos only", "[manifest][suggest]") {
  using detail::nearest;
  std::vector<std::string> keys{"name", "command", "argv", "cpu", "memory", "retries", "after"};
  CHECK(nearest("comand", keys) == "command");
  CHECK(nearest("memroy", keys) == "memory");
  CHECK(nearest("retires", keys) == "retries");
  CHECK(nearest("cpus", keys) == "cpu");
  CHECK(nearest("CPU", keys) == "cpu");
  CHECK(nearest("wardrobe", keys) == std::nullopt);
  CHECK(nearest("xyz", keys) == std::nullopt);
  CHECK(nearest("x", {"y"}) == std::nullopt);
  CHECK(nearest("anything", {}) == std::nullopt);
}

namespace {

const std::vector<std::string> kJobKeys{"name", "command", "argv",     "cpu",     "memory",  "iops",
                                        "gpu",  "after",   "priority", "timeout", "retries", "env",
                                        "cwd",  "matrix",  "inputs",   "tags"};

}  // namespace

TEST_CASE("nearest maps other tools' keys to ours", "[manifest][suggest]") {
  using detail::nearest;
  const std::vector<std::pair<std::string, std::string>> habits{
      {"cmd", "command"},
      {"run", "command"},
      {"script", "command"},
      {"shell", "command"},
      {"retry", "retries"},
      {"attempts", "retries"},
      {"depends_on", "after"},
      {"depends", "after"},
      {"deps", "after"},
      {"needs", "after"},
      {"requires", "after"},
      {"dependencies", "after"},
      {"args", "argv"},
      {"mem", "memory"},
      {"cpus", "cpu"},
      {"cores", "cpu"},
      {"threads", "cpu"},
      {"gpus", "gpu"},
      {"environment", "env"},
      {"workdir", "cwd"},
      {"dir", "cwd"},
      {"directory", "cwd"},
      {"working_directory", "cwd"},
      {"time_limit", "timeout"},
      {"walltime", "timeout"},
      {"depends-on", "after"},
      {"Depends_On", "after"},
  };
  for (const auto& [habit, key] : habits) {
    INFO(habit);
    CHECK(nearest(habit, kJobKeys) == key);
  }
}

TEST_CASE("an alias applies only where its key is valid", "[manifest][suggest]") {
  using detail::nearest;
  const std::vector<std::string> defaults{"cpu",     "memory",   "iops", "gpu", "timeout",
                                          "retries", "priority", "env",  "cwd"};
  CHECK(nearest("needs", defaults) == std::nullopt);
  CHECK(nearest("cmd", defaults) == "cwd");  // no command here: the typo rule decides
  CHECK(nearest("retry", defaults) == "retries");
}

TEST_CASE("nearest takes a unique prefix either way", "[manifest][suggest]") {
  using detail::nearest;
  CHECK(nearest("prio", kJobKeys) == "priority");
  CHECK(nearest("timeouts", kJobKeys) == "timeout");
  CHECK(nearest("inputs_extra", kJobKeys) == "inputs");
  CHECK(nearest("ma", {"matrix", "mapper"}) == std::nullopt);   // too short
  CHECK(nearest("mat", {"matrix", "matter"}) == std::nullopt);  // not unique
  CHECK(nearest("build-docs-html", {"build", "build-docs"}) == "build-docs");
}

TEST_CASE("unknown keys from other tools get our key", "[manifest][suggest]") {
  LoadResult result = load(R"([[job]]
name = "a"
cmd = "true"
retry = 2
depends_on = ["b"]
)");
  REQUIRE(result.errors.size() == 3);
  CHECK(result.errors[0].message == "job 'a': unknown key 'cmd'; did you mean 'command'?");
  CHECK(result.errors[1].message == "job 'a': unknown key 'retry'; did you mean 'retries'?");
  CHECK(result.errors[2].message == "job 'a': unknown key 'depends_on'; did you mean 'after'?");
}
