// How wp marks up its output for the CI system whose log it writes: GitHub
// Actions workflow commands (groups, error annotations) and GitLab CI
// collapsible sections. Text only; where it goes is the runner's business.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wp::report {

enum class CiFormat { Plain, Github, Gitlab };

// "plain", "github", "gitlab"; nullopt for anything else ("auto" is resolved
// by detect_ci_format).
std::optional<CiFormat> parse_ci_format(std::string_view name);
const char* to_string(CiFormat format);
// What `auto` means, given $GITHUB_ACTIONS and $GITLAB_CI (null when unset):
// each runner sets its variable to "true".
CiFormat detect_ci_format(const char* github_actions, const char* gitlab_ci);

// A workflow command's message: %, CR and LF escaped as GitHub unescapes them.
std::string github_escape_data(std::string_view text);
// A workflow command's property value: also ':' and ','.
std::string github_escape_property(std::string_view text);

// A GitLab section name: [A-Za-z0-9_.-] only, so a job's name with other
// characters is mangled (the header shows it as it is).
std::string gitlab_section_name(std::string_view job, int attempt);

// The lines that open and close one job's block of output. `section` and the
// times are GitLab's (it shows the duration between them); GitHub only has
// a title. Plain output has no blocks: both are empty.
struct Block {
  std::string title;    // "build: ok in 1.20s"
  std::string section;  // gitlab_section_name()
  int64_t started = 0;  // Unix seconds
  int64_t ended = 0;
};
std::string begin_block(CiFormat format, const Block& block);
std::string end_block(CiFormat format, const Block& block);

// `::error file=F,line=L,col=C,title=T::message`, one line.
struct Annotation {
  std::string file;  // as the repository names it (see `wp run --ci-format`)
  uint32_t line = 0;
  uint32_t column = 0;
  std::string title;
  std::string message;  // may have several lines
};
std::string github_error(const Annotation& annotation);

}  // namespace wp::report
