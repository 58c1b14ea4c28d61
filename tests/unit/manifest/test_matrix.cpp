// Matrix expansion: order, substitution, and what members share.
#include <cstdlib>
#include <string>

#include <catch2/catch.hpp>

#include "manifest/internal.h"
#include "manifest/manifest.h"

using namespace wp;
using namespace wp::manifest;

namespace {

Manifest load_ok(std::string_view text) {
  LoadResult result = load_string(text, "/m/jobs.toml");
  std::string messages;
  for (const Diagnostic& d : result.errors)
    messages += d.format() + "\n";
  INFO(messages);
  REQUIRE(result.manifest);
  return std::move(*result.manifest);
}

std::vector<std::string> names(const Manifest& m) {
  std::vector<std::string> out;
  for (const Job& job : m.jobs)
    out.push_back(job.name);
  return out;
}

}  // namespace

TEST_CASE("a matrix expands to the cartesian product, first key slowest", "[manifest][matrix]") {
  // toml++ iterates keys sorted, so `os` comes before `py` whatever the order written.
  Manifest m = load_ok(R"(
[[job]]
name = "before"
command = "true"
[[job]]
name = "test-{os}-py{py}"
command = "run"
matrix = { py = ["3.11", "3.12"], os = ["linux", "mac", "bsd"] }
[[job]]
name = "after"
command = "true"
)");
  CHECK(names(m) == std::vector<std::string>{"before", "test-linux-py3.11", "test-linux-py3.12",
                                             "test-mac-py3.11", "test-mac-py3.12",
                                             "test-bsd-py3.11", "test-bsd-py3.12", "after"});
  const Job& member = m.jobs[3];
  CHECK(member.family == "test-{os}-py{py}");
  CHECK(member.matrix == NamedValues{{"os", "mac"}, {"py", "3.11"}});
}

TEST_CASE("matrix values replace {key} everywhere the spec lists", "[manifest][matrix]") {
  Manifest m = load_ok(R"(
[defaults]
env = { FROM_DEFAULTS = "d-{shard}" }

[[job]]
name = "prep-{shard}"
command = "true"
matrix = { shard = [1, 2] }

[[job]]
name = "test-{shard}"
command = "make test SHARD={shard} {not_a_key} ${HOME} {}"
env = { SHARD = "{shard}", FIXED = "x" }
cwd = "shards/{shard}"
inputs = ["data/{shard}/*.csv"]
tags = ["{shard}"]
after = ["prep-{shard}"]
matrix = { shard = [1, 2] }

[[job]]
name = "run-{flag}-{ratio}"
argv = ["tool", "--flag={flag}", "--ratio={ratio}"]
matrix = { flag = [true, false], ratio = [0.5] }
)");
  REQUIRE(m.jobs.size() == 6);
  const Job& t2 = m.jobs[3];
  CHECK(t2.name == "test-2");
  CHECK(t2.command == "make test SHARD=2 {not_a_key} ${HOME} {}");
  CHECK(t2.env == NamedValues{{"FIXED", "x"}, {"FROM_DEFAULTS", "d-2"}, {"SHARD", "2"}});
  CHECK(std::filesystem::path(t2.cwd.str()) == std::filesystem::path("/m/shards/2"));
  CHECK(t2.inputs == std::vector<std::string>{"data/2/*.csv"});
  CHECK(t2.after == std::vector<size_t>{1});  // prep-2

  CHECK(m.jobs[4].name == "run-true-0.5");
  CHECK(m.jobs[4].argv == std::vector<std::string>{"tool", "--flag=true", "--ratio=0.5"});
  CHECK(m.jobs[5].name == "run-false-0.5");
}

TEST_CASE("matrix members keep the template's positions", "[manifest][matrix]") {
  Manifest m = load_ok(
      "version = 1\n\n  [[job]]\nname = \"t-{n}\"\ncommand = \"true\"\nmatrix = { n = [1, 2] }\n");
  REQUIRE(m.jobs.size() == 2);
  for (const Job& job : m.jobs) {
    CHECK(job.pos.line == 4);
    CHECK(job.pos.column == 8);
    // The [[job]] header, where CI annotations point.
    CHECK(job.table_pos.line == 3);
    CHECK(job.table_pos.column == 3);
  }
}

TEST_CASE("a member error is reported once at the template", "[manifest][matrix]") {
  LoadResult result = load_string(R"([[job]]
name = "t-{n}"
command = "true"
after = ["missing"]
matrix = { n = [1, 2, 3] }
)",
                                  "jobs.toml");
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].pos.line == 4);
  CHECK(result.errors[0].message == "job 't-{n}': after: unknown job 'missing'");

  // An entry that differs by member names the members and what they miss,
  // still once; never suggesting a job of the table itself.
  result = load_string(R"([[job]]
name = "t-{n}"
command = "true"
after = ["t-{n}{n}"]
matrix = { n = [1, 2] }
)",
                       "jobs.toml");
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].pos.line == 4);
  CHECK(result.errors[0].pos.column == 10);
  CHECK(result.errors[0].message ==
        "jobs 't-1' and 't-2' (2 jobs from this table): after: unknown jobs 't-11' and 't-22'");

  // Only the members that miss are named; one member is named as one.
  result = load_string(R"([[job]]
name = "c-{n}"
command = "true"
matrix = { n = [1, 2] }
[[job]]
name = "t-{n}"
command = "true"
after = ["c-{n}"]
matrix = { n = [1, 2, 3] }
)",
                       "jobs.toml");
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].message == "job 't-3': after: unknown job 'c-3'; did you mean 'c-1'?");
}

TEST_CASE("a matrix of 100000 members loads, even when each names a missing job",
          "[manifest][matrix]") {
  // Each unknown name is compared with every job's name: once a member, that
  // was 10^10 comparisons.
  std::string values = "[";
  for (int i = 0; i < 100'000; ++i)
    values += std::to_string(i) + ",";
  values += "]";
  LoadResult result = load_string(
      "[[job]]\nname = \"t-{n}\"\ncommand = \"true\"\nafter = "
      "[\"tt-{n}\", \"missing\"]\nmatrix = { n = " +
          values + " }\n",
      "jobs.toml");
  REQUIRE(result.manifest);
  CHECK(result.manifest->jobs.size() == 100'000);
  // One error an entry, however many members share it.
  REQUIRE(result.errors.size() == 2);
  CHECK(result.errors[0].message ==
        "jobs 't-0' ... 't-99999' (100000 jobs from this table): after: unknown jobs 'tt-0' ... "
        "'tt-99999'");
  CHECK(result.errors[1].message == "job 't-{n}': after: unknown job 'missing'");
}

TEST_CASE("names a matrix repeats are one error for the table", "[manifest][matrix]") {
  LoadResult result = load_string(R"([[job]]
name = "t-{a}"
command = "true"
matrix = { a = [1, 2, 3], b = ["x", "y"] }
[[job]]
name = "u-{a}"
command = "true"
matrix = { a = [1, 2, 3] }
[[job]]
name = "u-{a}"
command = "true"
matrix = { a = [1, 2, 3] }
)",
                                  "jobs.toml");
  REQUIRE(result.errors.size() == 2);
  CHECK(result.errors[0].pos.line == 2);
  CHECK(result.errors[0].message ==
        "duplicate job names 't-1' ... 't-3' (3 jobs from matrix expansion of 't-{a}'); add {b} to "
        "the name");
  CHECK(result.errors[1].pos.line == 10);
  CHECK(result.errors[1].message ==
        "duplicate job names 'u-1' ... 'u-3' (3 jobs from matrix expansion of 'u-{a}'); the names "
        "are already used at line 6; rename one of them");
}

TEST_CASE("members that each depend on themselves are one error", "[manifest][matrix]") {
  LoadResult result = load_string(R"([[job]]
name = "t-{a}"
command = "true"
after = ["t-{a}"]
matrix = { a = [1, 2, 3] }
)",
                                  "jobs.toml");
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].pos.line == 4);
  CHECK(result.errors[0].pos.column == 10);
  CHECK(result.errors[0].message ==
        "jobs 't-1' ... 't-3' (3 jobs from this table): after: each job depends on itself "
        "(dependency cycle: t-1 -> t-1); remove 't-{a}' from after");
}

TEST_CASE("matrix floats are substituted in plain decimal", "[manifest][matrix]") {
  Manifest m = load_ok(R"(
[[job]]
name = "f-{v}"
argv = ["tool", "{v}"]
env = { V = "{v}" }
matrix = { v = [1e20, 0.5, 1e-7, -3.25, 2.0, 0.1, 1.7976931348623157e308, 5e-324, 123456789012345678, -9223372036854775808, 0x10] }
)");
  CHECK(names(m) == std::vector<std::string>{
                        "f-100000000000000000000.0",
                        "f-0.5",
                        "f-0.0000001",
                        "f--3.25",
                        "f-2.0",
                        "f-0.1",
                        "f-" + std::string("17976931348623157") + std::string(292, '0') + ".0",
                        "f-0." + std::string(323, '0') + "5",
                        "f-123456789012345678",
                        "f--9223372036854775808",
                        "f-16",
                    });
  CHECK(m.jobs[0].argv == std::vector<std::string>{"tool", "100000000000000000000.0"});
  CHECK(m.jobs[2].env == NamedValues{{"V", "0.0000001"}});
  // The text reads back as the same number.
  REQUIRE(m.jobs[6].matrix.size() == 1);
  REQUIRE(m.jobs[7].matrix.size() == 1);
  CHECK(std::strtod(m.jobs[6].matrix[0].second.c_str(), nullptr) == 1.7976931348623157e308);
  CHECK(std::strtod(m.jobs[7].matrix[0].second.c_str(), nullptr) == 5e-324);
}

TEST_CASE("an empty expanded name is an error", "[manifest][matrix]") {
  LoadResult result = load_string(R"([[job]]
name = "{v}"
command = "true"
matrix = { v = ["", "x"] }
)",
                                  "jobs.toml");
  REQUIRE(result.errors.size() == 1);
  CHECK_THAT(result.errors[0].message, Catch::Contains("matrix expansion gives an empty name"));
}

TEST_CASE("an argv[0] emptied by matrix expansion is refused once, naming the value",
          "[manifest][matrix]") {
  LoadResult result = load_string(R"([[job]]
name = "x-{tool}-{n}"
argv = ["{tool}", "--shard", "{n}"]
matrix = { tool = ["", "true"], n = [1, 2, 3] }
)",
                                  "jobs.toml");
  REQUIRE(result.errors.size() == 1);
  const Diagnostic& error = result.errors[0];
  CHECK(error.format() ==
        "jobs.toml:3:9: error: job 'x-{tool}-{n}': argv: matrix expansion gives an empty program "
        "name argv[0] for tool = \"\"; use other matrix values");
}

TEST_CASE("an argv[0] emptied by two matrix keys names both", "[manifest][matrix]") {
  LoadResult result = load_string(R"([[job]]
name = "{a}{b}-{n}"
argv = ["{a}{b}", "{n}"]
matrix = { a = ["", "x"], b = ["", "y"], n = [1, 2] }
)",
                                  "jobs.toml");
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].pos.line == 3);
  CHECK(result.errors[0].pos.column == 9);
  CHECK(result.errors[0].message ==
        "job '{a}{b}-{n}': argv: matrix expansion gives an empty program name argv[0] for "
        "{ a = \"\", b = \"\" }; use other matrix values");
}

TEST_CASE("a string command emptied by matrix expansion names the value", "[manifest][matrix]") {
  LoadResult result = load_string(R"([[job]]
name = "t-{n}-{tool}"
command = "{tool}"
matrix = { tool = ["", "make"], n = [1, 2, 3] }
)",
                                  "jobs.toml");
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].format() ==
        "jobs.toml:3:11: error: job 't-{n}-{tool}': command: matrix expansion gives an empty "
        "command for tool = \"\"; use other matrix values");
}

TEST_CASE("past three values emptying a key, the rest are counted", "[manifest][matrix]") {
  LoadResult result = load_string(R"([[job]]
name = "t-{a}-{b}"
command = "{a}{b}"
matrix = { a = ["", " ", "  "], b = ["", " ", "x"] }
)",
                                  "jobs.toml");
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].message ==
        "job 't-{a}-{b}': command: matrix expansion gives an empty command for "
        "{ a = \"\", b = \"\" }, only whitespace for { a = \"\", b = \" \" } or "
        "{ a = \" \", b = \"\" } (and 3 more values); use other matrix values");
}

TEST_CASE("a profile emptied or given a control character by a matrix is refused",
          "[manifest][matrix]") {
  LoadResult result = load_string(R"([[job]]
name = "t-{p}"
command = "true"
profile = "{p}"
matrix = { p = ["", "ok", "a\u0085"] }
)",
                                  "jobs.toml");
  REQUIRE(result.errors.size() == 2);
  CHECK(result.errors[0].pos.line == 2);
  CHECK(result.errors[0].message ==
        "job 't-{p}': name: matrix expansion gives a name with the control character U+0085 for "
        "p = \"a\\u0085\"; use other matrix values");
  CHECK(result.errors[1].pos.line == 4);
  CHECK(result.errors[1].pos.column == 11);
  CHECK(result.errors[1].message ==
        "job 't-{p}': profile: matrix expansion gives an empty profile for p = \"\", a profile "
        "with the control character U+0085 for p = \"a\\u0085\"; use other matrix values");
}

TEST_CASE("a C1 control character from a matrix value is refused in a name", "[manifest][matrix]") {
  LoadResult result = load_string(R"([[job]]
name = "t-{v}-{n}"
command = "true"
matrix = { v = ["ok", "\u009b31m"], n = [1, 2] }
)",
                                  "jobs.toml");
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].pos.line == 2);
  CHECK(result.errors[0].pos.column == 8);
  CHECK(result.errors[0].message ==
        "job 't-{v}-{n}': name: matrix expansion gives a name with the control character U+009B "
        "for v = \"\\u009B31m\"; use other matrix values");
}

TEST_CASE("substitute replaces only matrix keys", "[manifest][matrix]") {
  using detail::substitute;
  NamedValues values{{"a", "1"}, {"b", "{a}"}};
  CHECK(substitute("x{a}y{b}z", values) == "x1y{a}z");  // one pass: values are not rescanned
  CHECK(substitute("{{a}}", values) == "{1}");
  CHECK(substitute("{c} {a", values) == "{c} {a");
  CHECK(substitute("", values).empty());
  CHECK(substitute("}{a}{", values) == "}1{");
}

TEST_CASE("a matrix of more than 100000 members is refused", "[manifest][matrix]") {
  // 317 * 317 = 100489: just over the limit, with no single axis over it.
  std::string values = "[";
  for (int i = 0; i < 317; ++i)
    values += std::to_string(i) + ",";
  values += "]";
  LoadResult result =
      load_string("[[job]]\nname = \"t-{a}-{b}\"\ncommand = \"true\"\nmatrix = { a = " + values +
                      ", b = " + values + " }\n",
                  "jobs.toml");
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].pos.line == 4);
  CHECK(result.errors[0].pos.column == 10);
  CHECK(result.errors[0].message ==
        "job 't-{a}-{b}': matrix: expands to more than 100000 jobs; use fewer values");
}
