#include "exec/status_area.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

#include "exec/output.h"
#include "platform/terminal.h"
#include "util/console.h"

namespace wp::exec {
namespace {

bool set(const char* value) {
  return value != nullptr && *value != '\0';
}

bool dumb(const char* term) {
  return !set(term) || std::string_view(term) == "dumb";
}

// $COLUMNS or $LINES when the terminal does not say (--progress always on a
// pipe), else the classic 80x24.
int from_environment(const char* name, int fallback) {
  const char* value = std::getenv(name);
  if (!set(value)) return fallback;
  char* end = nullptr;
  long n = std::strtol(value, &end, 10);
  return *end == '\0' && n > 0 && n < 100000 ? static_cast<int>(n) : fallback;
}

bool same_file(int a, int b) {
  struct stat sa {};
  struct stat sb {};
  if (::fstat(a, &sa) != 0 || ::fstat(b, &sb) != 0) return true;  // unknown: be safe
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace

bool progress_wanted(ProgressMode mode, bool stderr_is_terminal, const char* term,
                     const char* no_color, bool quiet) {
  switch (mode) {
    case ProgressMode::Always:
      return true;
    case ProgressMode::Never:
      return false;
    case ProgressMode::Auto:
      break;
  }
  return stderr_is_terminal && !dumb(term) && !set(no_color) && !quiet;
}

bool utf8_locale(const char* lc_all, const char* lc_ctype, const char* lang) {
  const char* locale = set(lc_all) ? lc_all : set(lc_ctype) ? lc_ctype : lang;
  if (!set(locale)) return false;
  std::string lower;
  for (const char* c = locale; *c != '\0'; ++c)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(*c)));
  return lower.find("utf-8") != std::string::npos || lower.find("utf8") != std::string::npos;
}

bool color_wanted(const char* no_color, const char* term) {
  return !set(no_color) && !dumb(term);
}

ProgressOptions progress_options(ProgressMode mode, bool quiet) {
  ProgressOptions options;
  const char* term = std::getenv("TERM");
  const char* no_color = std::getenv("NO_COLOR");
  options.enabled =
      progress_wanted(mode, platform::is_terminal(STDERR_FILENO), term, no_color, quiet);
  options.fd = STDERR_FILENO;
  options.unicode =
      utf8_locale(std::getenv("LC_ALL"), std::getenv("LC_CTYPE"), std::getenv("LANG"));
  options.color = color_wanted(no_color, term);
  return options;
}

StatusArea::StatusArea(const ProgressOptions& options)
    : fd_(options.fd), stdout_shared_(same_file(STDOUT_FILENO, options.fd)) {
  style_.unicode = options.unicode;
  style_.color = options.color;
  resize();
  console::set_before_output([this](int fd) {
    if (fd == fd_ || fd != STDOUT_FILENO || stdout_shared_) erase();
  });
}

StatusArea::~StatusArea() {
  console::set_before_output(nullptr);
  erase();
}

void StatusArea::resize() {
  if (auto size = platform::terminal_size(fd_)) {
    style_.width = size->columns;
    style_.height = size->rows;
  } else {
    style_.width = from_environment("COLUMNS", 80);
    style_.height = from_environment("LINES", 24);
  }
  next_ = Clock::time_point{};
}

// The cursor sits at the end of the area's last line (no newline after it,
// or the area would take one more row): back to the start of its first
// line, and clear from there to the end of the screen.
std::string StatusArea::erase_sequence() const {
  if (drawn_ == 0) return {};
  std::string sequence = "\r";
  if (drawn_ > 1) sequence += fmt::format("\x1b[{}A", drawn_ - 1);
  return sequence + "\x1b[J";
}

void StatusArea::paint(std::string prefix) {
  std::string text = std::move(prefix);
  for (size_t i = 0; i < lines_.size(); ++i) {
    if (i > 0) text += '\n';
    text += lines_[i];
  }
  if (!text.empty()) write_all(fd_, text);
  drawn_ = lines_.size();
}

void StatusArea::show(std::vector<std::string> lines, Clock::time_point now) {
  next_ = now + kInterval;
  if (drawn_ > 0 && lines == lines_) return;
  lines_ = std::move(lines);
  // One write: the old picture never stands erased on the screen.
  paint(erase_sequence());
}

void StatusArea::restore() {
  if (drawn_ == 0 && !lines_.empty()) paint({});
}

void StatusArea::erase() {
  if (drawn_ == 0) return;
  write_all(fd_, erase_sequence());
  drawn_ = 0;
}

}  // namespace wp::exec
