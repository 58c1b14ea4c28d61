#include "report/ci_format.h"

#include <fmt/format.h>

namespace wp::report {
namespace {

// GitLab's sections are delimited by lines that erase themselves on its
// terminal-like log viewer: "\e[0K" clears the line, "\r" returns over the
// marker so that only the header is left to be seen.
constexpr std::string_view kEraseLine = "\x1b[0K";

std::string github_escape(std::string_view text, bool property) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '%':
        out += "%25";
        break;
      case '\r':
        out += "%0D";
        break;
      case '\n':
        out += "%0A";
        break;
      case ':':
        out += property ? "%3A" : ":";
        break;
      case ',':
        out += property ? "%2C" : ",";
        break;
      default:
        out += c;
    }
  }
  return out;
}

bool section_character(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

// A GitLab header is one line on its own: a job's name has no control
// characters (the manifest rejects them), a title built from an exit
// description neither, but a newline would end the marker early.
std::string one_line(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace

std::optional<CiFormat> parse_ci_format(std::string_view name) {
  if (name == "plain") return CiFormat::Plain;
  if (name == "github") return CiFormat::Github;
  if (name == "gitlab") return CiFormat::Gitlab;
  return std::nullopt;
}

const char* to_string(CiFormat format) {
  switch (format) {
    case CiFormat::Plain:
      return "plain";
    case CiFormat::Github:
      return "github";
    case CiFormat::Gitlab:
      return "gitlab";
  }
  return "plain";
}

CiFormat detect_ci_format(const char* github_actions, const char* gitlab_ci) {
  if (github_actions != nullptr && std::string_view(github_actions) == "true") {
    return CiFormat::Github;
  }
  if (gitlab_ci != nullptr && std::string_view(gitlab_ci) == "true") return CiFormat::Gitlab;
  return CiFormat::Plain;
}

std::string github_escape_data(std::string_view text) {
  return github_escape(text, false);
}

std::string github_escape_property(std::string_view text) {
  return github_escape(text, true);
}

std::string gitlab_section_name(std::string_view job, int attempt) {
  // GitLab ignores a section whose name is too long; 64 characters of the
  // name keep it readable and well under any limit.
  constexpr size_t kMaxName = 64;
  std::string name = "wp_";
  for (char c : job.substr(0, kMaxName))
    name += section_character(c) ? c : '_';
  return fmt::format("{}_{}", name, attempt);
}

std::string begin_block(CiFormat format, const Block& block) {
  switch (format) {
    case CiFormat::Github:
      return fmt::format("::group::{}\n", github_escape_data(block.title));
    case CiFormat::Gitlab:
      return fmt::format("{}section_start:{}:{}[collapsed=true]\r{}{}\n", kEraseLine, block.started,
                         block.section, kEraseLine, one_line(block.title));
    case CiFormat::Plain:
      break;
  }
  return {};  // plain output has no blocks: lines are prefixed as they come
}

std::string end_block(CiFormat format, const Block& block) {
  switch (format) {
    case CiFormat::Github:
      return "::endgroup::\n";
    case CiFormat::Gitlab:
      return fmt::format("{}section_end:{}:{}\r{}\n", kEraseLine, block.ended, block.section,
                         kEraseLine);
    case CiFormat::Plain:
      break;
  }
  return {};
}

std::string github_error(const Annotation& a) {
  std::string properties = "file=" + github_escape_property(a.file);
  if (a.line != 0) properties += fmt::format(",line={}", a.line);
  if (a.line != 0 && a.column != 0) properties += fmt::format(",col={}", a.column);
  if (!a.title.empty()) properties += ",title=" + github_escape_property(a.title);
  return fmt::format("::error {}::{}\n", properties, github_escape_data(a.message));
}

}  // namespace wp::report
