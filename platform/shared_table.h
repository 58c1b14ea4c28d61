// What every wp process of a user on one machine shares: a runtime
// directory, and in it small fixed-size files mapped into each process and
// guarded by a lock (the user's ledger of leases, src/ledger/). Another
// user's wp processes have a directory and a ledger of their own.
// Implemented per platform (platform/linux/shared_table.cpp).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>

#include "util/result.h"
#include "util/unique_fd.h"

namespace wp::platform {

// $WP_RUNTIME_DIR, else $XDG_RUNTIME_DIR/wp, else /run/wp as root, else
// /tmp/wp-$UID; created mode 0700. One that is not a directory owned by
// this user, or that others may write to, is refused: another user could
// otherwise fill it with leases that hold this user's jobs back.
Result<std::filesystem::path> runtime_dir();

// When a process started, in clock ticks after boot (/proc/PID/stat field
// 22): with the pid, who a process is, since pids are reused. Nothing when
// there is no such process, or only its zombie (it holds nothing any more,
// whether or not its parent has reaped it yet).
std::optional<uint64_t> process_start_time(pid_t pid);

// A file of `size` bytes mapped shared into every process that opens it,
// with an exclusive lock (an open file description lock: per open, not per
// process, and never inherited by a job) and a way to wait for changes.
class SharedTable {
 public:
  // Opens or creates the file (mode 0600); a shorter one is extended with
  // zeros, which is how a new table starts.
  static Result<SharedTable> open(const std::filesystem::path& path, size_t size);

  SharedTable(SharedTable&& other) noexcept;
  SharedTable& operator=(SharedTable&&) = delete;
  SharedTable(const SharedTable&) = delete;
  SharedTable& operator=(const SharedTable&) = delete;
  ~SharedTable();

  void lock();    // waits for the lock
  void unlock();  // releases it
  std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

  // Writes `bytes` at `offset` through write(2), not the mapping: inotify
  // sees writes, not stores to a mapping, so this is what wakes watchers.
  void write_through(size_t offset, const void* bytes, size_t length);
  // Readable after any process's write_through; -1 when inotify is missing
  // (the waiter then polls).
  int watch_fd() const { return watch_.get(); }
  // Reads what made watch_fd() readable.
  void drain_watch();

 private:
  SharedTable() = default;
  std::filesystem::path path_;
  UniqueFd fd_;
  UniqueFd watch_;
  std::byte* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace wp::platform
