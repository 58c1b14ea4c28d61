// Loading single manifests: defaults, types, units, paths, positions, and the
// capacity check.
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "manifest/manifest.h"

namespace fs = std::filesystem;
using namespace wp;
using namespace wp::manifest;
using namespace std::chrono_literals;

namespace {

const fs::path kPath = "/srv/project/jobs.toml";

Manifest load_ok(std::string_view text, const fs::path& path = kPath) {
  LoadResult result = load_string(text, path);
  std::string messages;
  for (const Diagnostic& d : result.errors)
    messages += d.format() + "\n";
  INFO(messages);
  REQUIRE(result.errors.empty());
  REQUIRE(result.manifest);
  return std::move(*result.manifest);
}

Diagnostics load_errors(std::string_view text) {
  LoadResult result = load_string(text, kPath);
  CHECK_FALSE(result.errors.empty());
  return result.errors;
}

}  // namespace

TEST_CASE("a job without settings gets the built-in defaults", "[manifest][load]") {
  Manifest m = load_ok(R"(
[[job]]
name = "hello"
command = "echo hello"
)");
  CHECK(m.path == kPath);
  CHECK(m.version == 1);
  REQUIRE(m.jobs.size() == 1);
  const Job& job = m.jobs[0];
  CHECK(job.name == "hello");
  CHECK(job.family.empty());  // not a matrix member
  CHECK(job.matrix.empty());
  CHECK(job.command == "echo hello");
  CHECK(job.argv.empty());
  CHECK(job.request.cpu == Cores::from_millis(1000));
  CHECK(job.request.memory == kDefaultMemory);
  CHECK(job.request.memory == 256ull << 20);
  CHECK(job.request.iops == 0);
  CHECK(job.request.gpu == 0);
  CHECK(job.priority == 0);
  CHECK(job.retries == 0);
  CHECK_FALSE(job.timeout);
  CHECK(job.env.empty());
  CHECK(fs::path(job.cwd.str()) == fs::path("/srv/project"));
  CHECK(job.after.empty());
  CHECK_FALSE(m.capacity.cpu);
  CHECK_FALSE(m.capacity.memory);
}

TEST_CASE("[defaults] fill what a job does not set", "[manifest][load]") {
  Manifest m = load_ok(R"(
[defaults]
cpu = 0.5
memory = "1GiB"
iops = 100
gpu = 1
timeout = "10m"
retries = 2
priority = -3
env = { LANG = "C", CI = true, LEVEL = 3, RATIO = 0.25 }
cwd = "work"

[[job]]
name = "inherits"
command = "true"

[[job]]
name = "overrides"
command = "true"
cpu = 3
memory = "2GB"
iops = 0
gpu = 0
timeout = 30
retries = 0
priority = 7
env = { LANG = "en_US.UTF-8", EXTRA = "x" }
cwd = "/abs/dir"
)");
  REQUIRE(m.jobs.size() == 2);
  const Job& a = m.jobs[0];
  CHECK(a.request.cpu == Cores::from_millis(500));
  CHECK(a.request.memory == 1ull << 30);
  CHECK(a.request.iops == 100);
  CHECK(a.request.gpu == 1);
  CHECK(a.timeout == std::chrono::milliseconds(10min));
  CHECK(a.retries == 2);
  CHECK(a.priority == -3);
  // Sorted by name.
  CHECK(a.env == NamedValues{{"CI", "true"}, {"LANG", "C"}, {"LEVEL", "3"}, {"RATIO", "0.25"}});
  CHECK(fs::path(a.cwd.str()) == fs::path("/srv/project/work"));

  const Job& b = m.jobs[1];
  CHECK(b.request.cpu == Cores::from_millis(3000));
  CHECK(b.request.memory == 2'000'000'000ull);
  CHECK(b.request.iops == 0);
  CHECK(b.request.gpu == 0);
  CHECK(b.timeout == std::chrono::milliseconds(30s));
  CHECK(b.retries == 0);
  CHECK(b.priority == 7);
  // The job's env is merged over [defaults].env, key by key.
  CHECK(b.env == NamedValues{{"CI", "true"},
                             {"EXTRA", "x"},
                             {"LANG", "en_US.UTF-8"},
                             {"LEVEL", "3"},
                             {"RATIO", "0.25"}});
  CHECK(fs::path(b.cwd.str()) == fs::path("/abs/dir"));
}

TEST_CASE("values take every documented form", "[manifest][load]") {
  Manifest m = load_ok(R"(
[[job]]
name = "a"
argv = ["make", "-j", "4"]
cpu = 0.25
memory = 1048576
iops = 2.0
timeout = "1h30m"
inputs = ["src/**/*.cpp"]
tags = ["slow", "nightly"]

[[job]]
name = "b"
command = "true"
cpu = 1.0005
memory = "1.5gb"
timeout = 0.5
env = { WHOLE = 2.0 }
)");
  const Job& a = m.jobs[0];
  CHECK(a.argv == std::vector<std::string>{"make", "-j", "4"});
  CHECK(a.command.empty());
  CHECK(a.request.cpu == Cores::from_millis(250));
  CHECK(a.request.memory == 1048576);
  CHECK(a.request.iops == 2);
  CHECK(a.timeout == std::chrono::milliseconds(90min));
  CHECK(a.inputs == std::vector<std::string>{"src/**/*.cpp"});
  const Job& b = m.jobs[1];
  CHECK(b.request.cpu == Cores::from_millis(1001));  // nearest milli-core
  CHECK(b.request.memory == 1'500'000'000ull);
  CHECK(b.timeout == std::chrono::milliseconds(500));
  CHECK(b.env == NamedValues{{"WHOLE", "2.0"}});
}

TEST_CASE("[capacity] and version are read", "[manifest][load]") {
  Manifest m = load_ok(R"(
version = 1
[capacity]
cpu = 2.5
memory = "8GiB"
iops = 0
gpu = 2
)");
  CHECK(m.jobs.empty());
  CHECK(m.capacity.cpu == Cores::from_millis(2500));
  CHECK(m.capacity.memory == 8ull << 30);
  CHECK(m.capacity.iops == Iops{0});
  CHECK(m.capacity.gpu == Gpus{2});
}

TEST_CASE("cwd is anchored at the manifest's directory", "[manifest][load]") {
  const char* text = R"(
[[job]]
name = "a"
command = "true"
cwd = "sub/../other/"
[[job]]
name = "b"
command = "true"
cwd = "."
)";
  Manifest m = load_ok(text);
  CHECK(fs::path(m.jobs[0].cwd.str()) == fs::path("/srv/project/other"));
  CHECK(fs::path(m.jobs[1].cwd.str()) == fs::path("/srv/project"));

  // A relative manifest path is made absolute against the working directory.
  Manifest relative = load_ok(text, "dir/jobs.toml");
  CHECK(fs::path(relative.jobs[0].cwd.str()) ==
        (fs::current_path() / "dir/other").lexically_normal());
  CHECK(fs::path(relative.jobs[1].cwd.str()).is_absolute());
  CHECK(relative.path == fs::path("dir/jobs.toml"));
}

TEST_CASE("jobs that write the same cwd share one copy of it", "[manifest][load]") {
  Manifest m = load_ok(R"(
[defaults]
cwd = "work"
[[job]]
name = "a"
command = "true"
[[job]]
name = "t-{i}"
matrix = { i = [1, 2] }
command = "true"
[[job]]
name = "s-{i}"
matrix = { i = [1, 2] }
command = "true"
cwd = "shard-{i}"
)");
  REQUIRE(m.jobs.size() == 5);
  for (size_t i : {1, 2})
    CHECK(&m.jobs[i].cwd.str() == &m.jobs[0].cwd.str());
  CHECK(m.jobs[0].cwd.str() == "/srv/project/work");
  CHECK(m.jobs[3].cwd.str() == "/srv/project/shard-1");
  CHECK(m.jobs[4].cwd.str() == "/srv/project/shard-2");
}

TEST_CASE("a job's position is its name's value", "[manifest][load]") {
  Manifest m = load_ok("[[job]]\ncommand = \"true\"\n  name   = \"a\"\n");
  CHECK(m.jobs[0].pos.line == 3);
  CHECK(m.jobs[0].pos.column == 12);
}

TEST_CASE("a syntax error is the only diagnostic", "[manifest][load]") {
  Diagnostics errors = load_errors("bogus = 1\n[[job]]\nname = \"a\nversion = 3\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].file == kPath.string());
  CHECK(errors[0].pos.line == 3);
  CHECK_THAT(errors[0].message, Catch::StartsWith("invalid TOML: "));
}

TEST_CASE("problems are reported with file, position and advice", "[manifest][load]") {
  Diagnostics errors = load_errors(R"([[job]]
name = "build"
command = "make"
memory = "2GBs"
cpu = -1
)");
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].format() ==
        "/srv/project/jobs.toml:4:10: error: job 'build': memory: unknown unit 'GBs' in '2GBs'; "
        "use B, KiB, MiB, GiB, TiB, KB, MB, GB, TB");
  CHECK(errors[1].format() ==
        "/srv/project/jobs.toml:5:7: error: job 'build': cpu: must be greater than 0, got -1; "
        "write e.g. cpu = 0.5 or cpu = 2");
}

TEST_CASE("tags are checked though wp keeps none", "[manifest][load]") {
  Diagnostics errors = load_errors(R"([[job]]
name = "a"
command = "true"
tags = "slow"
[[job]]
name = "b"
command = "true"
tags = ["slow", 3]
)");
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].format() ==
        "/srv/project/jobs.toml:4:8: error: job 'a': tags: expected an array of strings, got a "
        "string");
  CHECK(errors[1].format() ==
        "/srv/project/jobs.toml:8:17: error: job 'b': tags[1]: expected a string, got an "
        "integer");
}

TEST_CASE("unknown keys suggest the nearest valid key", "[manifest][load]") {
  Diagnostics errors = load_errors(R"([[job]]
name = "a"
command = "true"
retires = 2
colour = "red"
)");
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].message == "job 'a': unknown key 'retires'; did you mean 'retries'?");
  CHECK_THAT(errors[1].message,
             Catch::StartsWith("job 'a': unknown key 'colour'; valid keys are name, command"));
}

TEST_CASE("Diagnostic::format without a position", "[manifest][load]") {
  CHECK(Diagnostic{"jobs.toml", {}, "cannot read"}.format() == "jobs.toml: error: cannot read");
  CHECK(Diagnostic{"jobs.toml", {12, 10}, "x"}.format() == "jobs.toml:12:10: error: x");
  CHECK(Diagnostic{"", {}, "x"}.format() == "error: x");
}

TEST_CASE("check_fits names every job that can never start", "[manifest][fits]") {
  Manifest m = load_ok(R"(
[[job]]
name = "small"
command = "true"
iops = 5000
[[job]]
name = "big"
command = "true"
memory = "64GiB"
cpu = 8
gpu = 1
)");
  Resources capacity;
  capacity.cpu = Cores::from_millis(4000);
  capacity.memory = static_cast<Bytes>(23.1 * (1ull << 30));
  capacity.iops = Resources::kUnlimited;
  capacity.gpu = 0;
  Diagnostics errors = check_fits(m, capacity);
  REQUIRE(errors.size() == 3);
  // Each at the key that asks for too much: cpu, memory, gpu.
  const std::vector<uint32_t> lines{10, 9, 11};
  for (size_t i = 0; i < errors.size(); ++i) {
    CHECK(errors[i].file == kPath.string());
    CHECK(errors[i].pos.line == lines[i]);
    CHECK(errors[i].pos.column == 1);
  }
  CHECK(errors[2].message ==
        "job 'big' needs 1 GPU but wp may use 0; lower the job's gpu, run where more GPUs are "
        "available, or raise [capacity] gpu if it caps them below the machine");
  // The advice on cores and memory: `wp run` takes --cpus and --memory as
  // caps below the machine; wp plan and wp validate as the machine to check
  // against, even a larger one.
  for (bool as_given : {false, true}) {
    errors = check_fits(m, capacity, as_given);
    REQUIRE(errors.size() == 3);
    CHECK(errors[0].message ==
          "job 'big' needs cpu 8 cores but wp may use at most 4 cores; lower the job's cpu, " +
              std::string(as_given ? "or name a larger machine with --cpus"
                                   : "or raise --cpus / [capacity] if they cap it below the "
                                     "machine"));
    CHECK(errors[1].message ==
          "job 'big' needs memory 64 GiB but wp may use at most 23.1 GiB; lower the job's "
          "memory, " +
              std::string(as_given ? "or name a larger machine with --memory"
                                   : "or raise --memory / [capacity] if they cap it below the "
                                     "machine"));
  }

  capacity.iops = 1000;
  capacity.cpu = Cores::from_millis(8000);
  capacity.memory = 64ull << 30;
  capacity.gpu = 1;
  errors = check_fits(m, capacity);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].pos.line == 5);
  CHECK(errors[0].message ==
        "job 'small' needs iops 5000 but wp may use at most 1000; lower the job's iops, or raise "
        "the --iops / [capacity] cap that sets it");
  capacity.iops = 5000;
  CHECK(check_fits(m, capacity).empty());
}

TEST_CASE("namespace and profile name a job's history", "[manifest][load]") {
  Manifest m = load_ok(R"(
namespace = "team-a/app"
[[job]]
name = "test-{shard}"
matrix = { shard = [1, 2] }
profile = "tests"
command = "true"
[[job]]
name = "lint"
profile = "lint-{x}"
command = "true"
)");
  CHECK(m.space == "team-a/app");
  REQUIRE(m.jobs.size() == 3);
  CHECK(m.jobs[0].profile == "tests");
  CHECK(m.jobs[1].profile == "tests");
  // Braces not naming a matrix key are left alone, as everywhere.
  CHECK(m.jobs[2].profile == "lint-{x}");
  CHECK(load_ok("[[job]]\nname = \"a\"\ncommand = \"true\"\n").space.empty());
}

namespace {

// 4 cores, 16 GiB, unlimited IOPS, no GPU.
Resources small_machine() {
  Resources capacity;
  capacity.cpu = Cores::from_millis(4000);
  capacity.memory = 16ull << 30;
  capacity.iops = Resources::kUnlimited;
  capacity.gpu = 0;
  return capacity;
}

// "[[job]]" with a matrix of `members` values of `a`, then `rest`.
std::string matrix_table(int members, std::string_view rest) {
  std::string values;
  for (int i = 0; i < members; ++i)
    values += std::to_string(i) + ",";
  return "[[job]]\nname = \"t-{a}\"\ncommand = \"true\"\nmatrix = { a = [" + values + "] }\n" +
         std::string(rest);
}

}  // namespace

TEST_CASE("check_fits reports a matrix table's request once, at its key", "[manifest][fits]") {
  LoadResult result =
      load_string(matrix_table(5000, "memory = \"1TiB\"\nafter = [\"nope\"]\n"), kPath);
  REQUIRE(result.manifest);
  // The unknown `after` entry is the family's one error too.
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].message == "job 't-{a}': after: unknown job 'nope'");
  Diagnostics errors = check_fits(*result.manifest, small_machine());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].pos.line == 5);
  CHECK(errors[0].pos.column == 1);
  CHECK(errors[0].message ==
        "jobs 't-0' ... 't-4999' (5000 jobs from this table) need memory 1 TiB but wp may use "
        "at most 16 GiB; lower the table's memory, or raise --memory / [capacity] if they cap it "
        "below the machine");
}

TEST_CASE("check_fits blames [defaults] for what jobs take from it", "[manifest][fits]") {
  Manifest m = load_ok(R"(
[defaults]
cpu = 2
memory = "500GiB"
[[job]]
name = "a"
command = "true"
[[job]]
name = "b-{i}"
matrix = { i = [1, 2, 3] }
command = "true"
[[job]]
name = "small"
command = "true"
memory = "1GiB"
)");
  Diagnostics errors = check_fits(m, small_machine());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].pos.line == 4);
  CHECK(errors[0].pos.column == 1);
  CHECK(errors[0].message ==
        "jobs 'a' ... 'b-3' (4 jobs with memory from [defaults]) need memory 500 GiB but wp may "
        "use at most 16 GiB; lower [defaults] memory or set memory in those jobs, or raise "
        "--memory / [capacity] if they cap it below the machine");

  // One job taking it is named as one; [defaults] cpu still fits.
  m = load_ok("[defaults]\nmemory = \"500GiB\"\n[[job]]\nname = \"a\"\ncommand = \"true\"\n");
  errors = check_fits(m, small_machine());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].pos.line == 2);
  CHECK(errors[0].message ==
        "job 'a' (with memory from [defaults]) needs memory 500 GiB but wp may use at most 16 "
        "GiB; lower [defaults] memory or set memory in the job, or raise --memory / [capacity] if "
        "they cap it below the machine");
}

TEST_CASE("check_fits reports a built-in default too large once a table, at its name",
          "[manifest][fits]") {
  Manifest m = load_ok(matrix_table(3, "") + "[[job]]\nname = \"one\"\ncommand = \"true\"\n");
  Resources capacity = small_machine();
  capacity.cpu = Cores::from_millis(500);
  Diagnostics errors = check_fits(m, capacity);
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].pos.line == 2);
  CHECK(errors[0].pos.column == 8);
  CHECK(errors[0].message ==
        "jobs 't-0' ... 't-2' (3 jobs from this table with the built-in cpu) need cpu 1 core but "
        "wp may use at most 0.5 cores; set a lower cpu in this table or in [defaults], or raise "
        "--cpus / [capacity] if they cap it below the machine");
  CHECK(errors[1].pos.line == 6);
  CHECK(errors[1].message ==
        "job 'one' (with the built-in cpu) needs cpu 1 core but wp may use at most 0.5 cores; set "
        "a lower cpu in the job or in [defaults], or raise --cpus / [capacity] if they cap it "
        "below the machine");
}

TEST_CASE("a job's request remembers where it was set", "[manifest][load]") {
  Manifest m = load_ok(R"(
[defaults]
memory = "1GiB"
[[job]]
name = "a"
command = "true"
  cpu = 2
)");
  using From = RequestSource::From;
  const RequestSources& from = m.jobs[0].request_from;
  CHECK(from.cpu.from == From::job);
  CHECK(from.cpu.pos.line == 7);
  CHECK(from.cpu.pos.column == 3);
  CHECK(from.memory.from == From::defaults);
  CHECK(from.memory.pos.line == 3);
  CHECK(from.iops.from == From::builtin);
  CHECK(from.gpu.from == From::builtin);
}

TEST_CASE("a command of only whitespace is rejected like an empty one", "[manifest][load]") {
  for (std::string_view blank : {"   ", "\\t", " \\n "}) {
    INFO(blank);
    Diagnostics errors =
        load_errors("[[job]]\nname = \"a\"\ncommand = \"" + std::string(blank) + "\"\n");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].pos.line == 3);
    CHECK(errors[0].pos.column == 11);
    CHECK(errors[0].message == "job 'a': command: is only whitespace; give the command to run");
  }
  Diagnostics errors = load_errors("[[job]]\nname = \"a\"\ncommand = \"\"\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message == "job 'a': command: is empty; give the command to run");
  load_ok("[[job]]\nname = \"a\"\ncommand = \" true \"\n");
}

TEST_CASE("a command emptied by matrix expansion is rejected once", "[manifest][load]") {
  Diagnostics errors = load_errors(
      "[[job]]\nname = \"t-{c}-{n}\"\ncommand = \"{c}\"\n"
      "matrix = { c = [\"true\", \" \", \"\", \"  \"], n = [1, 2] }\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].pos.line == 3);
  CHECK(errors[0].pos.column == 11);
  CHECK(errors[0].message ==
        "job 't-{c}-{n}': command: matrix expansion gives only whitespace for c = \" \" or "
        "c = \"  \", an empty command for c = \"\"; use other matrix values");
}

TEST_CASE("profile and namespace reject DEL like other control characters", "[manifest][load]") {
  Diagnostics errors = load_errors(
      "namespace = \"a\\u007F\"\n[[job]]\nname = \"a\"\ncommand = \"true\"\nprofile = "
      "\"p\\u007F\"\n");
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].pos.line == 1);
  CHECK(errors[0].pos.column == 13);
  CHECK(errors[0].message ==
        "namespace: must be non-empty text without control characters; it contains U+007F");
  CHECK(errors[1].pos.line == 5);
  CHECK(errors[1].pos.column == 11);
  CHECK(errors[1].message ==
        "job 'a': profile: must be non-empty text without control characters; it contains U+007F");
  // Text beyond ASCII is not a control character.
  Manifest m = load_ok(
      "namespace = \"équipe\"\n[[job]]\nname = \"a\"\ncommand = \"true\"\nprofile = \"tésts\"\n");
  CHECK(m.jobs[0].profile == "tésts");
}

TEST_CASE("C1 control characters are refused in name, namespace and profile", "[manifest][load]") {
  // U+0085 escaped, U+009F and U+0080 as the UTF-8 bytes themselves.
  Diagnostics errors = load_errors(
      "namespace = \"team\\u0085\"\n[[job]]\nname = \"a\xC2\x9F\"\ncommand = \"true\"\n"
      "profile = \"\xC2\x80p\"\n");
  REQUIRE(errors.size() == 3);
  CHECK(errors[0].pos.line == 1);
  CHECK(errors[0].pos.column == 13);
  CHECK(errors[0].message ==
        "namespace: must be non-empty text without control characters; it contains U+0085");
  CHECK(errors[1].pos.line == 3);
  CHECK(errors[1].pos.column == 8);
  CHECK(errors[1].message ==
        "job #1: name: contains a control character (U+009F); use printable characters only");
  CHECK(errors[2].pos.line == 5);
  CHECK(errors[2].pos.column == 11);
  CHECK(errors[2].message ==
        "job #1: profile: must be non-empty text without control characters; it contains U+0080");
  // Either side of C1: U+007E and U+00A0 (no-break space) are text; so is
  // U+0105, whose second UTF-8 byte (0x85) is in C1's range.
  Manifest m = load_ok(
      "namespace = \"a~\"\n[[job]]\nname = \"a\\u00A0b\"\ncommand = \"true\"\n"
      "profile = \"\\u0105\"\n");
  CHECK(m.space == "a~");
  CHECK(m.jobs[0].name ==
        "a\xC2\xA0"
        "b");
  CHECK(m.jobs[0].profile == "\xC4\x85");
}
