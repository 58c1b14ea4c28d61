// The man pages against the binary, for every command from one place: each
// command --help lists has its page, each option it lists is in that page,
// and `wp --version` says which build it is.
#include <cstdio>
#include <regex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "wp_harness.h"

using namespace wpit;

namespace {

RunResult help_of(const std::vector<std::string>& command) {
  std::vector<std::string> args = command;
  args.push_back("--help");
  RunResult r = run_wp(args);
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  return r;
}

// The commands a --help lists under Subcommands (CLI11's layout: a header
// line, then one indented line a command, up to a blank line).
std::vector<std::string> subcommands_in(const std::string& help) {
  std::vector<std::string> names;
  bool in_section = false;
  for (const std::string& line : split_lines(help)) {
    if (line.rfind("Subcommands:", 0) == 0) {
      in_section = true;
    } else if (in_section && line.find_first_not_of(' ') == std::string::npos) {
      break;
    } else if (in_section) {
      std::smatch name;
      if (std::regex_search(line, name, std::regex(R"(^ +([a-z][a-z-]*))")))
        names.push_back(name[1]);
    }
  }
  return names;
}

// Every long option of `help`, as roff writes it in a page: --run-dir as \-\-run\-dir.
std::vector<std::string> options_in(const std::string& help) {
  std::vector<std::string> options;
  std::smatch flag;
  std::string text = help;
  while (std::regex_search(text, flag, std::regex(R"((^|[ ,])(--[a-z][a-z-]*))"))) {
    options.push_back(std::regex_replace(flag[2].str(), std::regex("-"), "\\-"));
    text = flag.suffix();
  }
  return options;
}

fs::path page(const std::string& name) {
  return fs::path(WP_SOURCE_DIR) / "man" / name;
}

struct Command {
  std::vector<std::string> words;  // {"profile", "history"}
  std::string page;                // wp-profile.1
};

// wp itself, every command, and the subcommands of a command that has them.
std::vector<Command> every_command() {
  std::vector<Command> commands{{{}, "wp.1"}};
  for (const std::string& name : subcommands_in(help_of({}).out)) {
    std::string file = "wp-" + name + ".1";
    commands.push_back({{name}, file});
    for (const std::string& sub : subcommands_in(help_of({name}).out))
      commands.push_back({{name, sub}, file});
  }
  return commands;
}

// What git describe says of the source tree, or "" when git cannot (no git,
// no checkout, a checkout git refuses to read).
std::string git_describe() {
  std::string command =
      "git -C '" + std::string(WP_SOURCE_DIR) + "' describe --tags --always --dirty 2>/dev/null";
  std::string out;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[256];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr)
      out += buffer;
    if (::pclose(pipe) != 0) out.clear();
  }
  return out;
}

std::string joined(const std::vector<std::string>& words) {
  std::string text = "wp";
  for (const std::string& word : words)
    text += " " + word;
  return text;
}

}  // namespace

TEST_CASE("docs: every command has a man page listing every option of its --help",
          "[integration][docs]") {
  std::vector<Command> commands = every_command();
  // run, plan, validate, info, calibrate, profile and profile's six at least.
  REQUIRE(commands.size() >= 13);
  for (const Command& command : commands) {
    INFO(joined(command.words) << " -> man/" << command.page);
    REQUIRE(fs::exists(page(command.page)));
    std::string text = read_file(page(command.page));
    std::vector<std::string> options = options_in(help_of(command.words).out);
    CHECK_FALSE(options.empty());  // --help at least
    for (const std::string& option : options) {
      INFO(option);
      CHECK(contains(text, option));
    }
  }
}

TEST_CASE("docs: wp(1) describes every command and points at its page", "[integration][docs]") {
  std::string wp1 = read_file(page("wp.1"));
  std::vector<std::string> names = subcommands_in(help_of({}).out);
  REQUIRE(names.size() >= 6);
  for (const std::string& name : names) {
    INFO(name);
    CHECK(std::regex_search(wp1, std::regex("\n\\.B[I]? \"?" + name + "[ \"\n]")));
    CHECK(contains(wp1, ".BR wp\\-" + name + " (1)"));
  }
}

TEST_CASE("wp --version names the version and, from a git checkout, the commit",
          "[integration][docs]") {
  RunResult r = run_wp({"--version"});
  INFO(r.describe());
  CHECK(r.exit_code == 0);
  std::smatch version;
  REQUIRE(
      std::regex_match(r.out, version, std::regex(R"(wp ([0-9]+\.[0-9]+\.[0-9]+)( \((.+)\))?\n)")));
  CHECK(version[1] == WP_VERSION);
  // git describe --tags --always --dirty: a tag, a tag-N-gHASH, or gHASH; -dirty.
  if (version[3].matched) {
    CHECK(std::regex_match(version[3].str(), std::regex(R"([^ ]+(-[0-9]+-g[0-9a-f]+)?(-dirty)?)")));
  }
  if (!git_describe().empty()) {
    INFO("built from a git checkout: git describe belongs in --version");
    CHECK(version[3].matched);
  }
}
