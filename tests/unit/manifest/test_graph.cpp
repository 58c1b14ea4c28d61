// `after`: names, families, unknown names, cycles.
#include <string>

#include <catch2/catch.hpp>

#include "manifest/internal.h"
#include "manifest/manifest.h"

using namespace wp::manifest;

namespace {

LoadResult load(std::string_view text) {
  return load_string(text, "jobs.toml");
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
  CHECK(nearest("afterwards", keys) == std::nullopt);
  CHECK(nearest("xyz", keys) == std::nullopt);
  CHECK(nearest("x", {"y"}) == std::nullopt);
  CHECK(nearest("anything", {}) == std::nullopt);
}
