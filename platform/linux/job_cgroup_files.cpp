// CgroupFiles and the place helpers (job_cgroup_internal.h): how the files of
// a job's cgroup are read and written, in as few system calls as the kernel
// allows, since this happens for every job.
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "platform/linux/job_cgroup_internal.h"

namespace wp::platform::detail {
namespace {

namespace fs = std::filesystem;

// pread from offset 0 to the end: the whole text, printed afresh. A read
// shorter than asked is the end: kernfs fills the buffer while it has text,
// as a regular file (a fixture's) does; no second call to read nothing.
std::optional<std::string> read_from_start(int fd) {
  std::string text;
  char buffer[4096];
  off_t offset = 0;
  while (true) {
    ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
    if (n > 0) {
      text.append(buffer, static_cast<size_t>(n));
      offset += n;
      if (static_cast<size_t>(n) < sizeof buffer) return text;
    } else if (n == 0) {
      return text;
    } else if (errno != EINTR) {
      return std::nullopt;
    }
  }
}

}  // namespace

CgroupFiles::CgroupFiles(const fs::path& dir)
    : dir_(dir), dir_fd_(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)) {
  struct statfs info {};
  if (dir_fd_ && ::fstatfs(dir_fd_.get(), &info) == 0) {
    on_cgroup2_ = info.f_type == CGROUP2_SUPER_MAGIC;
    on_cgroupfs_ = on_cgroup2_ || info.f_type == CGROUP_SUPER_MAGIC;
  }
}

bool CgroupFiles::known_missing(std::string_view name) const {
  return std::find(missing_.begin(), missing_.end(), name) != missing_.end();
}

void CgroupFiles::note_missing(std::string_view name) const {
  if (on_cgroupfs_ && errno == ENOENT) missing_.emplace_back(name);
}

CgroupFiles::Kept* CgroupFiles::kept(std::string_view name, int flags) {
  for (Kept& file : kept_) {
    if (file.name == name) return &file;
  }
  if (known_missing(name)) {
    errno = ENOENT;
    return nullptr;
  }
  std::string file(name);
  UniqueFd fd(dir_fd_ ? ::openat(dir_fd_.get(), file.c_str(), flags | O_CLOEXEC)
                      : ::open((dir_ / file).c_str(), flags | O_CLOEXEC));
  if (!fd) {
    note_missing(name);
    return nullptr;
  }
  // Only regular files carry figures (as read_text); a fixture's directory
  // or fifo of that name does not.
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) return nullptr;
  kept_.push_back({std::move(file), std::move(fd), flags & O_ACCMODE});
  return &kept_.back();
}

std::optional<std::string> CgroupFiles::read(std::string_view name) {
  Kept* file = kept(name, O_RDONLY | O_NONBLOCK);
  if (!file) return std::nullopt;
  return read_from_start(file->fd.get());
}

std::optional<std::string> CgroupFiles::read_once(std::string_view name) const {
  if (!dir_fd_) return read_text(dir_ / name);
  std::string file(name);
  UniqueFd fd(::openat(dir_fd_.get(), file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return std::nullopt;
  return read_from_start(fd.get());
}

Status CgroupFiles::write(std::string_view name, std::string_view text) {
  std::string file(name);
  UniqueFd fd(dir_fd_ ? ::openat(dir_fd_.get(), file.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC)
                      : ::open((dir_ / file).c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd) {
    int error = errno;
    return make_error("cannot open {}: {}", (dir_ / file).string(), std::strerror(error));
  }
  return write_once(fd.get(), dir_ / file, text);
}

Status CgroupFiles::write_kept(std::string_view name, std::string_view text) {
  // A descriptor kept read-only is replaced by one that can write too.
  auto read_only = std::find_if(kept_.begin(), kept_.end(), [&](const Kept& file) {
    return file.name == name && file.flags != O_RDWR;
  });
  if (read_only != kept_.end()) kept_.erase(read_only);
  Kept* file = kept(name, O_RDWR);
  if (!file) {
    int error = errno;
    return make_error("cannot open {} for writing: {}", (dir_ / name).string(),
                      std::strerror(error));
  }
  return write_once(file->fd.get(), dir_ / name, text);
}

bool CgroupFiles::exists(std::string_view name) const {
  if (known_missing(name)) return false;
  struct stat info {};
  std::string file(name);
  bool found = dir_fd_ ? ::fstatat(dir_fd_.get(), file.c_str(), &info, 0) == 0
                       : ::stat((dir_ / file).c_str(), &info) == 0;
  if (!found) note_missing(name);
  return found;
}

std::optional<uint64_t> CgroupFiles::subdirs() const {
  struct stat info {};
  if (!dir_fd_ || ::fstat(dir_fd_.get(), &info) != 0 || info.st_nlink < 2) return std::nullopt;
  return info.st_nlink - 2;
}

void CgroupFiles::close() {
  kept_.clear();
  dir_fd_.reset();
}

const CgroupPlace* find_place(const std::vector<CgroupPlace>& places, std::string_view controller) {
  for (const CgroupPlace& place : places) {
    for (const std::string& name : place.controllers) {
      if (name == controller) return &place;
    }
  }
  return nullptr;
}

const CgroupPlace* find_unified(const std::vector<CgroupPlace>& places) {
  for (const CgroupPlace& place : places) {
    if (place.unified) return &place;
  }
  return nullptr;
}

std::optional<std::string> read_in(const CgroupPlace& place, std::string_view file) {
  if (place.files) return place.files->read(file);
  return read_text(place.dir / file);
}

std::optional<uint64_t> read_u64_in(const CgroupPlace& place, std::string_view file) {
  auto text = read_in(place, file);
  if (!text) return std::nullopt;
  return parse_u64(*text);
}

Status write_in(const CgroupPlace& place, std::string_view file, std::string_view text) {
  if (place.files) return place.files->write(file, text);
  return write_file(place.dir / file, text);
}

bool exists_in(const CgroupPlace& place, std::string_view file) {
  if (place.files) return place.files->exists(file);
  return file_exists(place.dir / file);
}

}  // namespace wp::platform::detail
