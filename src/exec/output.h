// A job's output on its way to the terminal: cut into whole lines and
// prefixed with the job's name, so two jobs' bytes never share a line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace wp::exec {

// Writes all of `data` to `fd`, retrying short writes; false on error.
bool write_all(int fd, std::string_view data);

class LinePrefixer {
 public:
  // A line longer than this is cut and printed in pieces, so that a job
  // writing without newlines cannot grow wp's memory without bound.
  static constexpr size_t kMaxLine = 64 * 1024;

  LinePrefixer(std::string prefix, int fd) : prefix_(std::move(prefix)), fd_(fd) {}

  // Prints every complete line in `partial_ + data`; keeps the rest.
  void feed(std::string_view data);
  // Prints what is left as a last line (the job ended without a newline).
  void finish();

 private:
  void append_line(std::string& out, std::string_view line) const;

  std::string prefix_;
  int fd_;
  std::string partial_;
};

// The last `max_lines` lines of a file, for showing a failure's log.
std::string tail_lines(const std::string& path, size_t max_lines);
// The same, and no more than its last `max_bytes` bytes, cut where a UTF-8
// character starts.
std::string tail_text(const std::string& path, size_t max_lines, size_t max_bytes);

// Copies the whole file at `path` to `fd` in pieces (a log may be larger
// than memory); false, with errno, when reading or writing failed. A file
// that does not exist is nothing to copy. `last` receives the last byte
// copied, if any.
bool copy_file_to(const std::string& path, int fd, char* last = nullptr);

}  // namespace wp::exec
