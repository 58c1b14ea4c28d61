#include "platform/shared_table.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "platform/linux/host_internal.h"
#include "platform/linux/job_cgroup_internal.h"

namespace wp::platform {
namespace {

std::filesystem::path default_runtime_dir() {
  if (const char* dir = std::getenv("WP_RUNTIME_DIR"); dir != nullptr && *dir != '\0') return dir;
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg != nullptr && *xdg == '/') {
    return std::filesystem::path(xdg) / "wp";
  }
  if (::geteuid() == 0) return "/run/wp";
  return "/tmp/wp-" + std::to_string(::geteuid());
}

}  // namespace

Result<std::filesystem::path> runtime_dir() {
  std::filesystem::path dir = default_runtime_dir();
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return make_error("cannot create the runtime directory {}: {}", dir.string(),
                      std::strerror(errno));
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    return make_error("cannot read the runtime directory {}: {}", dir.string(),
                      std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 022) != 0) {
    return make_error(
        "the runtime directory {} is not a directory of this user that only it may write to; "
        "remove it, or set WP_RUNTIME_DIR",
        dir.string());
  }
  return dir;
}

std::optional<uint64_t> process_start_time(pid_t pid) {
  std::optional<std::string> stat = detail::read_text("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return std::nullopt;
  // The state is the first field after the parenthesised command name.
  size_t paren = stat->rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat->size() || (*stat)[paren + 2] == 'Z') {
    return std::nullopt;
  }
  return detail::parse_stat_start_time(*stat);
}

Result<SharedTable> SharedTable::open(const std::filesystem::path& path, size_t size) {
  SharedTable table;
  table.path_ = path;
  table.size_ = size;
  table.fd_.reset(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!table.fd_) return make_error("cannot open {}: {}", path.string(), std::strerror(errno));
  struct stat st {};
  if (::fstat(table.fd_.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) {
    return make_error("{} is not a regular file of this user; remove it", path.string());
  }
  // Growing under the lock: two first users must not both see a short file.
  table.lock();
  bool grown = static_cast<size_t>(st.st_size) >= size ||
               ::ftruncate(table.fd_.get(), static_cast<off_t>(size)) == 0;
  int grow_error = errno;
  table.unlock();
  if (!grown) {
    return make_error("cannot size {}: {}", path.string(), std::strerror(grow_error));
  }
  void* mapped = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, table.fd_.get(), 0);
  if (mapped == MAP_FAILED) {
    return make_error("cannot map {}: {}", path.string(), std::strerror(errno));
  }
  table.data_ = static_cast<std::byte*>(mapped);
  table.watch_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (table.watch_ && ::inotify_add_watch(table.watch_.get(), path.c_str(), IN_MODIFY) < 0) {
    table.watch_.reset();
  }
  return table;
}

SharedTable::SharedTable(SharedTable&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::move(other.fd_)),
      watch_(std::move(other.watch_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

SharedTable::~SharedTable() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

void SharedTable::lock() {
  struct flock request {};
  request.l_type = F_WRLCK;
  request.l_whence = SEEK_SET;
  while (::fcntl(fd_.get(), F_OFD_SETLKW, &request) != 0 && errno == EINTR) {
  }
}

void SharedTable::unlock() {
  struct flock request {};
  request.l_type = F_UNLCK;
  request.l_whence = SEEK_SET;
  ::fcntl(fd_.get(), F_OFD_SETLK, &request);
}

void SharedTable::write_through(size_t offset, const void* bytes, size_t length) {
  // The same bytes the mapping holds: only the event matters.
  ssize_t n = ::pwrite(fd_.get(), bytes, length, static_cast<off_t>(offset));
  (void)n;
}

void SharedTable::drain_watch() {
  alignas(struct inotify_event) char buffer[4096];
  while (watch_ && ::read(watch_.get(), buffer, sizeof buffer) > 0) {
  }
}

}  // namespace wp::platform
