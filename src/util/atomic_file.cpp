#include "util/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace wp {

Result<AtomicFile> AtomicFile::create(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return make_error("{}: is a directory; give the path of a file", path.string());
  }
  // Hidden, and named for this process: two runs writing the same report
  // do not share a temporary file.
  std::filesystem::path temp =
      path.parent_path() / ("." + path.filename().string() + ".tmp-" + std::to_string(::getpid()));
  UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
  if (!fd) {
    return make_error("cannot write {}: {}", path.string(), std::strerror(errno));
  }
  return AtomicFile(path, std::move(temp), std::move(fd));
}

AtomicFile::~AtomicFile() {
  if (!temp_.empty()) ::unlink(temp_.c_str());
}

void AtomicFile::write(std::string_view data) {
  while (error_ == 0 && !data.empty()) {
    ssize_t n = ::write(fd_.get(), data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error_ = errno;
      return;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

Status AtomicFile::commit() {
  if (error_ == 0 && ::close(fd_.release()) != 0) error_ = errno;
  if (error_ == 0 && ::rename(temp_.c_str(), path_.c_str()) != 0) error_ = errno;
  if (error_ != 0) return make_error("cannot write {}: {}", path_.string(), std::strerror(error_));
  temp_.clear();
  return Ok{};
}

}  // namespace wp
