#include "exec/output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "util/console.h"
#include "util/unique_fd.h"

namespace wp::exec {

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void LinePrefixer::append_line(std::string& out, std::string_view line) const {
  out += prefix_;
  out += line;
  out += '\n';
}

void LinePrefixer::feed(std::string_view data) {
  // All complete lines of this chunk go out in one write.
  std::string out;
  while (!data.empty()) {
    size_t newline = data.find('\n');
    if (newline == std::string_view::npos) {
      partial_.append(data);
      break;
    }
    if (partial_.empty()) {
      append_line(out, data.substr(0, newline));
    } else {
      partial_.append(data.substr(0, newline));
      append_line(out, partial_);
      partial_.clear();
    }
    data.remove_prefix(newline + 1);
  }
  while (partial_.size() >= kMaxLine) {
    append_line(out, std::string_view(partial_).substr(0, kMaxLine));
    partial_.erase(0, kMaxLine);
  }
  if (out.empty()) return;
  console::before_output(fd_);
  write_all(fd_, out);
}

void LinePrefixer::finish() {
  if (partial_.empty()) return;
  std::string out;
  append_line(out, partial_);
  partial_.clear();
  console::before_output(fd_);
  write_all(fd_, out);
}

std::string tail_lines(const std::string& path, size_t max_lines) {
  constexpr off_t kWindow = 64 * 1024;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return {};
  off_t start = std::max<off_t>(0, st.st_size - kWindow);
  std::string text(static_cast<size_t>(st.st_size - start), '\0');
  ssize_t n = ::pread(fd.get(), text.data(), text.size(), start);
  if (n < 0) return {};
  text.resize(static_cast<size_t>(n));
  if (!text.empty() && text.back() == '\n') text.pop_back();
  size_t pos = text.size();
  for (size_t lines = 0; lines < max_lines && pos != std::string::npos && pos > 0; ++lines) {
    pos = text.rfind('\n', pos - 1);
  }
  if (pos == std::string::npos || pos == 0) return text + (text.empty() ? "" : "\n");
  return text.substr(pos + 1) + "\n";
}

std::string tail_text(const std::string& path, size_t max_lines, size_t max_bytes) {
  std::string text = tail_lines(path, max_lines);
  if (text.size() <= max_bytes) return text;
  size_t start = text.size() - max_bytes;
  // Not inside a character: skip its continuation bytes (at most three).
  for (int i = 0; i < 3 && start < text.size() && (text[start] & 0xC0) == 0x80; ++i)
    ++start;
  return text.substr(start);
}

bool copy_file_to(const std::string& path, int fd, char* last) {
  UniqueFd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) return errno == ENOENT;
  std::string buffer(64 * 1024, '\0');
  for (;;) {
    ssize_t n = ::read(in.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n == 0;
    if (!write_all(fd, std::string_view(buffer.data(), static_cast<size_t>(n)))) return false;
    if (last != nullptr) *last = buffer[static_cast<size_t>(n) - 1];
  }
}

}  // namespace wp::exec
