// The manifests under tests/data/manifests: every bad one must fail with
// exactly the diagnostics its `# expect: LINE:COLUMN: message` lines name,
// every good one must load.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "manifest/manifest.h"

namespace fs = std::filesystem;
using wp::manifest::load_file;

namespace {

struct Expectation {
  uint32_t line;
  uint32_t column;
  std::string substring;
};

std::vector<Expectation> read_expectations(const fs::path& path) {
  static const std::regex kExpect(R"(^#\s*expect:\s*(\d+):(\d+):\s*(.*)$)");
  std::vector<Expectation> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::smatch match;
    if (!std::regex_match(line, match, kExpect)) continue;
    out.push_back({static_cast<uint32_t>(std::stoul(match[1])),
                   static_cast<uint32_t>(std::stoul(match[2])), match[3]});
  }
  return out;
}

std::vector<fs::path> manifests_in(const fs::path& dir) {
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".toml") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::string all_messages(const wp::manifest::Diagnostics& errors) {
  std::string out;
  for (const auto& error : errors)
    out += error.format() + "\n";
  return out;
}

const fs::path kManifests = fs::path(WP_TEST_DATA_DIR) / "manifests";

}  // namespace

TEST_CASE("every bad manifest fails with the diagnostics it expects", "[manifest][corpus]") {
  std::vector<fs::path> paths = manifests_in(kManifests / "bad");
  REQUIRE(paths.size() >= 25);
  for (const fs::path& path : paths) {
    std::vector<Expectation> expected = read_expectations(path);
    auto result = load_file(path);
    INFO(path.filename().string() << ":\n" << all_messages(result.errors));
    REQUIRE_FALSE(expected.empty());

    std::set<std::pair<uint32_t, uint32_t>> want, got;
    for (const auto& e : expected)
      want.emplace(e.line, e.column);
    for (const auto& d : result.errors) {
      got.emplace(d.pos.line, d.pos.column);
      CHECK(d.file == path.string());
    }
    CHECK(got == want);
    for (const auto& e : expected) {
      INFO("expected " << e.line << ":" << e.column << ": " << e.substring);
      CHECK(std::any_of(result.errors.begin(), result.errors.end(), [&](const auto& d) {
        return d.pos.line == e.line && d.pos.column == e.column &&
               d.message.find(e.substring) != std::string::npos;
      }));
    }
  }
}

TEST_CASE("diagnostics come in file order", "[manifest][corpus]") {
  auto result = load_file(kManifests / "bad" / "several_errors.toml");
  REQUIRE(result.errors.size() == 6);
  CHECK(std::is_sorted(result.errors.begin(), result.errors.end(), [](auto& a, auto& b) {
    return std::tie(a.pos.line, a.pos.column) < std::tie(b.pos.line, b.pos.column);
  }));
}

TEST_CASE("every good manifest loads", "[manifest][corpus]") {
  const std::map<std::string, size_t> expected_jobs{
      {"minimal.toml", 1},  {"defaults.toml", 3}, {"matrix.toml", 9},
      {"pipeline.toml", 4}, {"numbers.toml", 3},
  };
  std::vector<fs::path> paths = manifests_in(kManifests / "good");
  REQUIRE(paths.size() == expected_jobs.size());
  for (const fs::path& path : paths) {
    auto result = load_file(path);
    INFO(path.filename().string() << ":\n" << all_messages(result.errors));
    REQUIRE(result.errors.empty());
    REQUIRE(result.manifest);
    REQUIRE(expected_jobs.count(path.filename().string()) == 1);
    CHECK(result.manifest->jobs.size() == expected_jobs.at(path.filename().string()));
    CHECK(result.manifest->path == path);
  }
}

TEST_CASE("a file that cannot be read is one diagnostic without a position", "[manifest][corpus]") {
  auto missing = load_file(kManifests / "no-such-file.toml");
  REQUIRE(missing.errors.size() == 1);
  CHECK_FALSE(missing.manifest);
  CHECK(missing.errors[0].pos.line == 0);
  CHECK_THAT(missing.errors[0].message, Catch::Contains("cannot read"));

  auto directory = load_file(kManifests);
  REQUIRE(directory.errors.size() == 1);
  CHECK_THAT(directory.errors[0].message, Catch::Contains("directory"));
}
