// A manifest's [[job]] tables parsed a piece at a time: where the text is
// cut, where it is not sure and gives up, and that a manifest loaded in
// pieces is the manifest loaded whole, diagnostics and positions included.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <catch2/catch.hpp>

#include "manifest/internal.h"
#include "manifest/manifest.h"

namespace fs = std::filesystem;
using namespace wp::manifest;
using detail::split_jobs;

namespace {

const fs::path kPath = "/srv/project/jobs.toml";

// Everything a loaded manifest says, one line a job, and every diagnostic.
std::string describe(const LoadResult& result) {
  std::string out;
  for (const Diagnostic& d : result.errors)
    out += d.format() + "\n";
  if (!result.manifest) return out + "(no manifest)\n";
  const Manifest& m = *result.manifest;
  out += fmt::format("version {} namespace '{}' capacity {}/{}/{}/{}\n", m.version, m.space,
                     m.capacity.cpu ? m.capacity.cpu->millis() : -1, m.capacity.memory.value_or(0),
                     m.capacity.iops.value_or(0), m.capacity.gpu.value_or(0));
  for (const Job& j : m.jobs) {
    out += fmt::format(
        "{} ({}) {} cmd '{}' argv {} cpu {} mem {} iops {} gpu {} after {} prio {} timeout {} "
        "retries {} env {} cwd {} inputs {} profile '{}' at {}:{} table {}:{} from "
        "{}:{}:{}\n",
        j.name, j.family, j.matrix, j.command, j.argv, j.request.cpu.millis(), j.request.memory,
        j.request.iops, j.request.gpu, j.after, j.priority, j.timeout ? j.timeout->count() : -1,
        j.retries, j.env, j.cwd.str(), j.inputs, j.profile, j.pos.line, j.pos.column,
        j.table_pos.line, j.table_pos.column, static_cast<int>(j.request_from.memory.from),
        j.request_from.memory.pos.line, j.request_from.memory.pos.column);
  }
  return out;
}

// Loaded whole, in pieces of one table, and as wp loads it: all the same.
std::string same_every_way(const std::string& text) {
  const std::string whole = describe(detail::load_text(text, kPath, 0));
  CHECK(describe(detail::load_text(text, kPath, 1)) == whole);
  CHECK(describe(load_string(text, kPath)) == whole);
  return whole;
}

std::vector<std::string> piece_texts(const detail::SplitText& split) {
  std::vector<std::string> out;
  for (const detail::JobPiece& piece : split.pieces)
    out.emplace_back(piece.text);
  return out;
}

}  // namespace

TEST_CASE("the [[job]] tables are cut out with their sub-tables, the rest keeps its lines",
          "[manifest][split]") {
  const std::string text =
      "version = 1\n"                  // 1
      "[defaults]\ncpu = 2\n"          // 2-3
      "[[job]]\nname = \"a\"\n"        // 4-5
      "[job.env]\nX = \"1\"\n"         // 6-7
      "[[job]]\nname = \"b\"\n"        // 8-9
      "[capacity]\nmemory = \"1G\"\n"  // 10-11
      "  [[ job ]] # the last\nname = \"c\"";
  SECTION("in pieces of one table") {
    auto split = split_jobs(text, 1);
    REQUIRE(split);
    CHECK(split->tables == 3);
    CHECK(piece_texts(*split) ==
          std::vector<std::string>{"[[job]]\nname = \"a\"\n[job.env]\nX = \"1\"\n",
                                   "[[job]]\nname = \"b\"\n",
                                   "  [[ job ]] # the last\nname = \"c\""});
    CHECK(split->pieces[0].first_line == 4);
    CHECK(split->pieces[1].first_line == 8);
    CHECK(split->pieces[2].first_line == 12);
    CHECK(split->rest == "version = 1\n[defaults]\ncpu = 2\n[capacity]\nmemory = \"1G\"\n");
    // Its lines 1-3 are the file's 1-3, and its 4-5 the file's 10-11.
    CHECK(split->rest_lines.file_line(3) == 3);
    CHECK(split->rest_lines.file_line(4) == 10);
    CHECK(split->rest_lines.file_line(5) == 11);
  }
  SECTION("a piece is cut only before a [[job]] header, once it has its bytes") {
    auto split = split_jobs(text, 40);
    REQUIRE(split);
    REQUIRE(split->pieces.size() == 2);  // [capacity] ends the first
    CHECK(split->pieces[0].tables == 2);
    CHECK(split->pieces[1].tables == 1);
  }
}

TEST_CASE("a header inside a string, an array or a comment is not a cut", "[manifest][split]") {
  const std::string text = R"([[job]]
name = "a"
command = """
[[job]]
[defaults] \""" still in
"""
argv_note = '''
[[job]]
'''
tags = [
  ["job"],
[["job"]],
  "]", # ]] [
]
#[[job]]
quoted = "[[job]]"
[[job]]
name = "b"
)";
  auto split = split_jobs(text, 1);
  REQUIRE(split);
  CHECK(split->tables == 2);
  REQUIRE(split->pieces.size() == 2);
  CHECK(split->pieces[1].first_line == 17);
  same_every_way(text);
}

TEST_CASE("a text with a doubt is not split", "[manifest][split]") {
  for (const char* text : {
           "[job.env]\nX = \"1\"\n[[job]]\nname = \"a\"\n",       // sub-table before its job
           "[[job]]\nname = \"a\"\n[x]\n[job.env]\nX = \"1\"\n",  // after another table
           "[job]\nname = \"a\"\n",                               // not an array of tables
           "[[\"j\\u006fb\"]]\nname = \"a\"\n",                   // an escape could spell job
           "[[job]]\ncommand = \"\"\"\nnever closed\n",           // an open string
           "[[job]]\ncommand = \"one line\nname = \"a\"\n",       // a newline in a basic string
           "[[job]]\ntags = [\"a\",\n",                           // an open array
           "[[job]]\ntags = ]\n",                                 // a close with nothing open
           "[[job]] name = \"a\"\n",                              // a key after the header
       }) {
    INFO(text);
    CHECK_FALSE(split_jobs(text, 1));
  }
}

TEST_CASE("CRLF line ends and a byte order mark are cut like the rest", "[manifest][split]") {
  const std::string text = "\xEF\xBB\xBF[[job]]\r\nname = \"a\"\r\n[[job]]\r\nname = \"b\"\r\n";
  auto split = split_jobs(text, 1);
  REQUIRE(split);
  REQUIRE(split->pieces.size() == 2);
  CHECK(split->pieces[0].text == "\xEF\xBB\xBF[[job]]\r\nname = \"a\"\r\n");
  CHECK(split->pieces[1].first_line == 3);
  CHECK(split->rest.empty());
  same_every_way(text + "command = \"true\"\r\n");
}

TEST_CASE("a manifest loaded in pieces is the manifest loaded whole", "[manifest][split]") {
  SECTION("every manifest of the corpus") {
    size_t files = 0;
    for (const char* dir : {"good", "bad"}) {
      for (const auto& entry :
           fs::directory_iterator(fs::path(WP_TEST_DATA_DIR) / "manifests" / dir)) {
        std::ifstream in(entry.path());
        std::stringstream text;
        text << in.rdbuf();
        INFO(entry.path().string());
        same_every_way(text.str());
        ++files;
      }
    }
    CHECK(files >= 50);
  }
  SECTION("tables with sub-tables, strings that look like headers, errors in later pieces") {
    std::string whole = same_every_way(R"(namespace = "n"
[defaults]
memory = "1GiB"
[[job]]
name = "a"
command = """
[[job]]
name = "not a job"
"""
[job.env]
X = "1"
[[job]]
name = "b-{i}"
matrix = { i = [1, 2] }
command = "echo {i}"
after = ["a"]
memory = "2GiB"
[capacity]
cpu = 4
[[job]]
name = "c"
comand = "typo"
after = ["nope"]
)");
    CHECK_THAT(whole, Catch::Contains("jobs.toml:22:1: error:"));        // comand
    CHECK_THAT(whole, Catch::Contains("jobs.toml:23:10: error:"));       // nope
    CHECK_THAT(whole, Catch::Contains("b-2 (b-{i}) [(\"i\", \"2\")]"));  // expanded
  }
  SECTION("invalid TOML in a piece is reported as the whole file's") {
    const std::string text = "[[job]]\nname = \"a\"\ncommand = \"x\"\n[[job]]\nname = = 1\n";
    std::string whole = same_every_way(text);
    CHECK_THAT(whole, Catch::StartsWith("/srv/project/jobs.toml:5:"));
    CHECK_THAT(whole, Catch::Contains("invalid TOML"));
  }
  SECTION("a key `job` beside the [[job]] tables") {
    std::string whole = same_every_way("job = 1\n[[job]]\nname = \"a\"\ncommand = \"x\"\n");
    CHECK_THAT(whole, Catch::Contains("invalid TOML"));
  }
}

TEST_CASE("manifests made of random fragments load the same in pieces as whole",
          "[manifest][split]") {
  // Fragments that put header-like lines where they are not headers, sub-
  // tables, other tables between jobs, and now and then a fault.
  const std::vector<std::string> job_lines{
      "name = \"j{n}\"\n",
      "command = \"echo {n}\"\n",
      "command = \"\"\"\n[[job]]\nname = \"x\"\n\"\"\"\n",
      "command = '''\n[defaults]\n'''\n",
      "argv = [\n  \"echo\",\n[[\"job\"]],\n]\n",
      "tags = [\"[[job]]\", '''\n]]''', # [[job]]\n]\n",
      "# [[job]]\n",
      "after = [\"j1\"]\n",
      "memory = \"{n}MiB\"\n",
      "[job.env]\nA = \"{n}\"\n",
      "matrix = { i = [1, 2] }\nname = \"m{n}-{i}\"\n",
      "cpu = = 1\n",
      "comand = \"typo\"\n",
      "command = \"\"\"never closed\n",
  };
  const std::vector<std::string> other_tables{
      "[defaults]\ncpu = 0.5\n", "[capacity]\nmemory = \"4GiB\"\n", "namespace = \"n\"\n",
      "[unknown]\nx = 1\n", "job = 1\n"};
  std::minstd_rand random(20261125);
  int cut_and_valid = 0;  // rounds that are TOML and were cut: loaded in pieces
  auto pick = [&](size_t size) { return static_cast<size_t>(random() % size); };
  for (int round = 0; round < 1000; ++round) {
    std::string text;
    const size_t tables = 1 + pick(8);
    for (size_t n = 1; n <= tables; ++n) {
      if (pick(6) == 0) text += other_tables[pick(other_tables.size())];
      text += pick(2) == 0 ? "[[job]]\n" : "  [[ job ]]  # the {n}th\r\n";
      for (size_t line = pick(5); line > 0; --line)
        text += job_lines[pick(job_lines.size() - (pick(10) == 0 ? 0 : 3))];
      const std::string number = std::to_string(n);
      for (size_t at; (at = text.find("{n}")) != std::string::npos;)
        text.replace(at, 3, number);
    }
    INFO("round " << round << ":\n" << text);
    const std::string whole = describe(detail::load_text(text, kPath, 0));
    CHECK(describe(detail::load_text(text, kPath, 1)) == whole);
    CHECK(describe(detail::load_text(text, kPath, 40)) == whole);
    auto split = split_jobs(text, 1);
    if (split && split->pieces.size() > 1 && whole.find("invalid TOML") == std::string::npos) {
      ++cut_and_valid;
    }
  }
  CHECK(cut_and_valid >= 200);
}

TEST_CASE("any run of header, string and bracket fragments loads the same in pieces as whole",
          "[manifest][split]") {
  // Lines in any order, most of them not TOML where they land: headers of
  // every spelling, strings ending in runs of quotes or escapes, strings and
  // arrays left open, stray bytes.
  const std::vector<std::string> fragments{"[[job]]\n",
                                           "[[ job ]]\n",
                                           "[[\"job\"]]\n",
                                           "[['job']]\n",
                                           "[[job]]\r\n",
                                           "[[job]] # \"\"\"\n",
                                           "\t[[job]]\n",
                                           "[job.env]\n",
                                           "[ job . env ]\n",
                                           "[[job.x]]\n",
                                           "[job]\n",
                                           "[\"job\"]\n",
                                           "[defaults]\n",
                                           "[capacity]\n",
                                           "[other]\n",
                                           "[other.job]\n",
                                           "[x.\"job\"]\n",
                                           "[[\"j\\u006fb\"]]\n",
                                           "name = \"a{n}\"\n",
                                           "command = \"echo {n}\"\n",
                                           "cpu = 1\n",
                                           "command = \"\"\"\n[[job]]\n\"\"\"\n",
                                           "command = \"\"\"a\"\"\"\"\n",
                                           "command = \"\"\"a\"\"\"\"\"\n",
                                           "command = \"\"\"\"\"\"\n",
                                           "command = \"\"\"\\\n  [[job]]\"\"\"\n",
                                           "command = \"\"\"\\\"\"\"\"\n",
                                           "command = \"\"\"x\\\\\"\"\"\n",
                                           "command = '''\n[[job]]\n'''\n",
                                           "command = ''''a''''\n",
                                           "command = \"a\\\"b\"\n",
                                           "command = \"a\\\\\"\n",
                                           "command = 'a\\'\n",
                                           "tags = [\n\"a\",\n[[job]]\n]\n",
                                           "tags = [ # ]\n[[job]]\n]\n",
                                           "tags = [\"]\"]\n",
                                           "env = { A = \"[\" }\n",
                                           "# [[job]] '''\n",
                                           "job = 1\n",
                                           "job.x = 1\n",
                                           "\"job\" = 1\n",
                                           "matrix = { i = [1, 2] }\n",
                                           "after = [\"a1\"]\n",
                                           "\n",
                                           "\r\n",
                                           "x = \"\"\"open\n",
                                           "x = [\n",
                                           "]\n",
                                           "\"\"\"\n",
                                           "'''\n",
                                           "x = \"a\n",
                                           "\r",
                                           std::string(1, '\0'),
                                           "\xff",
                                           "\xEF\xBB\xBF",
                                           "x = \"\"\"\r\n\\\r\n[[job]]\"\"\"\n",
                                           "[[job]]x\n",
                                           "[a]\n[a]\n"};
  std::minstd_rand random(1125);
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    for (size_t n = 1 + random() % 14; n > 0; --n) {
      std::string fragment = fragments[random() % fragments.size()];
      for (size_t at; (at = fragment.find("{n}")) != std::string::npos;)
        fragment.replace(at, 3, std::to_string(n));
      text += fragment;
    }
    INFO("round " << round << ":\n" << text);
    const std::string whole = describe(detail::load_text(text, kPath, 0));
    REQUIRE(describe(detail::load_text(text, kPath, 1)) == whole);
    REQUIRE(describe(detail::load_text(text, kPath, 7)) == whole);
  }
}
