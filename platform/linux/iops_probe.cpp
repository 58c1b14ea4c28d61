// `wp calibrate`'s probe: random 4 KiB reads, then writes, one at a time, on
// a temporary file in the directory being measured.
#include "platform/iops_probe.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>

#include <fmt/format.h>

#include "platform/linux/host_internal.h"
#include "util/unique_fd.h"

namespace wp::platform {
namespace {

constexpr size_t kBlock = 4096;  // the unit of an "operation"; also O_DIRECT's usual alignment

using Clock = std::chrono::steady_clock;

// The probe's file: unlinked when the probe ends, whichever way it ends.
class TempFile {
 public:
  static Result<TempFile> create(const std::filesystem::path& dir) {
    std::string name = (dir / ".wp-calibrate-XXXXXX").string();
    UniqueFd fd(::mkstemp(name.data()));
    if (!fd)
      return make_error("cannot create a file in {}: {}", dir.string(), std::strerror(errno));
    return TempFile(std::move(name), std::move(fd));
  }
  TempFile(TempFile&& other) noexcept
      : path_(std::exchange(other.path_, {})), fd_(std::move(other.fd_)) {}
  TempFile& operator=(TempFile&&) = delete;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }

  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }

 private:
  TempFile(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  UniqueFd fd_;
};

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<char, FreeDeleter>;

AlignedBuffer aligned_buffer(size_t size) {
  return AlignedBuffer(static_cast<char*>(std::aligned_alloc(kBlock, size)));
}

// Random bytes, so that a compressing or deduplicating filesystem cannot
// skip the work.
void fill_random(char* data, size_t size, std::mt19937_64& random) {
  for (size_t i = 0; i + sizeof(uint64_t) <= size; i += sizeof(uint64_t)) {
    uint64_t word = random();
    std::memcpy(data + i, &word, sizeof word);
  }
}

// Reads of holes never reach the device: every block must really exist.
Status fill_file(const TempFile& file, uint64_t size, std::mt19937_64& random) {
  constexpr size_t kChunk = 1 << 20;
  AlignedBuffer buffer = aligned_buffer(kChunk);
  for (uint64_t done = 0; done < size;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, size - done));
    fill_random(buffer.get(), n, random);
    ssize_t written = ::pwrite(file.fd(), buffer.get(), n, static_cast<off_t>(done));
    if (written <= 0) {
      return make_error("cannot write {}: {}", file.path(),
                        written < 0 ? std::strerror(errno) : "no space written");
    }
    done += static_cast<uint64_t>(written);
  }
  if (::fdatasync(file.fd()) != 0) {
    return make_error("cannot sync {}: {}", file.path(), std::strerror(errno));
  }
  return Ok{};
}

struct ProbeFd {
  UniqueFd fd;
  bool direct = false;
};

// O_DIRECT bypasses the page cache, so reads and writes reach the device.
// Some filesystems refuse it at open (EINVAL) or at the first I/O; then
// writes use O_DSYNC (each one reaches stable storage) and reads may come
// from the cache.
Result<ProbeFd> open_for_probe(const TempFile& file, char* block) {
  UniqueFd direct(::open(file.path().c_str(), O_RDWR | O_DIRECT | O_CLOEXEC));
  if (direct && ::pread(direct.get(), block, kBlock, 0) == static_cast<ssize_t>(kBlock)) {
    return ProbeFd{std::move(direct), true};
  }
  UniqueFd dsync(::open(file.path().c_str(), O_RDWR | O_DSYNC | O_CLOEXEC));
  if (!dsync) return make_error("cannot open {}: {}", file.path(), std::strerror(errno));
  // Drop what filling the file left in the cache; reads still warm it again.
  ::posix_fadvise(dsync.get(), 0, 0, POSIX_FADV_DONTNEED);
  return ProbeFd{std::move(dsync), false};
}

enum class Op { Read, Write };

struct Timed {
  uint64_t ops = 0;
  double seconds = 0;
};

// Queue depth 1 until `duration` has passed: one operation, then the next.
Result<Timed> run_ops(int fd, Op op, uint64_t blocks, std::chrono::duration<double> duration,
                      char* block, std::mt19937_64& random) {
  std::uniform_int_distribution<uint64_t> pick(0, blocks - 1);
  Timed timed;
  Clock::time_point start = Clock::now();
  Clock::time_point deadline = start + std::chrono::duration_cast<Clock::duration>(duration);
  Clock::time_point now = start;
  do {
    off_t offset = static_cast<off_t>(pick(random) * kBlock);
    ssize_t n =
        op == Op::Read ? ::pread(fd, block, kBlock, offset) : ::pwrite(fd, block, kBlock, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(kBlock)) {
      return make_error("{} at offset {}: {}", op == Op::Read ? "read" : "write", offset,
                        n < 0 ? std::strerror(errno) : "short transfer");
    }
    ++timed.ops;
    now = Clock::now();
  } while (now < deadline);
  timed.seconds = std::chrono::duration<double>(now - start).count();
  return timed;
}

std::string device_text(dev_t dev) {
  return fmt::format("{}:{}", major(dev), minor(dev));
}

// statfs magic numbers of the filesystems a runner is likely to sit on, for
// when mountinfo cannot be read.
std::string statfs_name(const std::filesystem::path& dir) {
  struct statfs fs {};
  if (::statfs(dir.c_str(), &fs) != 0) return "unknown";
  switch (static_cast<uint64_t>(fs.f_type)) {
    case 0xEF53:
      return "ext4";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x01021994:
      return "tmpfs";
    case 0x794C7630:
      return "overlay";
    case 0x2FC12FC1:
      return "zfs";
    case 0xF2F52010:
      return "f2fs";
    case 0x6969:
      return "nfs";
    default:
      return fmt::format("statfs type {:#x}", static_cast<uint64_t>(fs.f_type));
  }
}

// The mount of `dir`'s filesystem: the longest mount point above it with the
// same device (bind mounts and overlays share mount points with others).
void name_filesystem(const IopsProbeOptions& options, const std::filesystem::path& dir,
                     IopsMeasurement& m) {
  m.filesystem = statfs_name(dir);
  auto text = detail::read_text(options.proc / "self/mountinfo");
  if (!text) return;
  std::string where = dir.string();
  size_t best = 0;
  for (const detail::Mount& mount : detail::parse_mountinfo(*text)) {
    const std::string& point = mount.mount_point;
    bool above = where.compare(0, point.size(), point) == 0 &&
                 (point == "/" || where.size() == point.size() || where[point.size()] == '/');
    if (mount.device != m.device || !above || point.size() < best) continue;
    best = point.size();
    m.filesystem = mount.fs_type;
    m.mount_point = point;
  }
}

}  // namespace

std::optional<std::string> filesystem_device(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return device_text(st.st_dev);
}

Result<IopsMeasurement> probe_iops(const IopsProbeOptions& options) {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::canonical(options.dir, ec);
  if (ec) return make_error("{}: {}", options.dir.string(), ec.message());
  IopsMeasurement m;
  m.device = filesystem_device(dir).value_or("?");
  name_filesystem(options, dir, m);

  std::mt19937_64 random{std::random_device{}()};
  uint64_t blocks = std::max<uint64_t>(options.file_size / kBlock, 1);
  auto file = TempFile::create(dir);
  if (!file) return file.error();
  if (auto filled = fill_file(*file, blocks * kBlock, random); !filled) return filled.error();

  AlignedBuffer block = aligned_buffer(kBlock);
  auto probe = open_for_probe(*file, block.get());
  if (!probe) return probe.error();
  m.direct_io = probe->direct;
  if (!m.direct_io) {
    m.note = fmt::format(
        "{} refuses O_DIRECT: writes used O_DSYNC and reads may have come from the page cache",
        m.filesystem);
  }
  auto half = options.duration / 2;
  auto reads = run_ops(probe->fd.get(), Op::Read, blocks, half, block.get(), random);
  if (!reads) return make_error("{}: {}", file->path(), reads.error().message);
  fill_random(block.get(), kBlock, random);
  auto writes = run_ops(probe->fd.get(), Op::Write, blocks, half, block.get(), random);
  if (!writes) return make_error("{}: {}", file->path(), writes.error().message);

  m.read_iops = static_cast<double>(reads->ops) / std::max(reads->seconds, 1e-9);
  m.write_iops = static_cast<double>(writes->ops) / std::max(writes->seconds, 1e-9);
  m.seconds = reads->seconds + writes->seconds;
  return m;
}

}  // namespace wp::platform
