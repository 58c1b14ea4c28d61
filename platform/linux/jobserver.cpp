#include "platform/jobserver.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string>

#include "util/log.h"

namespace wp::platform {
namespace {

std::optional<int> parse_fd(std::string_view text) {
  int fd = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), fd);
  if (ec != std::errc() || end != text.data() + text.size() || fd < 0) return std::nullopt;
  return fd;
}

JobserverAuth parse_value(std::string_view value) {
  if (value.substr(0, 5) == "fifo:") return JobserverFifo{std::string(value.substr(5))};
  size_t comma = value.find(',');
  if (comma == std::string_view::npos) return std::monostate{};
  auto read = parse_fd(value.substr(0, comma));
  auto write = parse_fd(value.substr(comma + 1));
  if (!read || !write) return std::monostate{};
  return JobserverFds{*read, *write};
}

// A pipe's open end, not something else that took the number.
bool is_pipe(int fd, struct stat& st) {
  return ::fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

// Both ends of the same pipe, each opened anew through /proc so that its
// O_NONBLOCK is wp's alone.
std::optional<std::pair<UniqueFd, UniqueFd>> open_fds(const JobserverFds& fds) {
  auto log = log::get("jobserver");
  struct stat r {
  }, w{};
  if (!is_pipe(fds.read, r) || !is_pipe(fds.write, w) || r.st_ino != w.st_ino ||
      r.st_dev != w.st_dev) {
    log->debug(
        "MAKEFLAGS names jobserver fds {},{}, which are not open as its pipe (mark the "
        "recipe with + to pass them); no jobserver",
        fds.read, fds.write);
    return std::nullopt;
  }
  std::string path = "/proc/self/fd/" + std::to_string(fds.read);
  UniqueFd read(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  UniqueFd write(::fcntl(fds.write, F_DUPFD_CLOEXEC, 3));
  if (!read || !write) {
    log->debug("cannot open the jobserver pipe: {}; no jobserver", std::strerror(errno));
    return std::nullopt;
  }
  return std::pair{std::move(read), std::move(write)};
}

std::optional<std::pair<UniqueFd, UniqueFd>> open_fifo(const JobserverFifo& fifo) {
  UniqueFd read(::open(fifo.path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  UniqueFd write(::open(fifo.path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  struct stat st {};
  if (!read || !write || !is_pipe(read.get(), st)) {
    log::get("jobserver")->debug("cannot open the jobserver fifo {}; no jobserver", fifo.path);
    return std::nullopt;
  }
  return std::pair{std::move(read), std::move(write)};
}

}  // namespace

JobserverAuth parse_makeflags(std::string_view makeflags) {
  JobserverAuth auth;
  size_t pos = 0;
  while (pos < makeflags.size()) {
    size_t end = makeflags.find(' ', pos);
    if (end == std::string_view::npos) end = makeflags.size();
    std::string_view word = makeflags.substr(pos, end - pos);
    pos = end + 1;
    for (std::string_view option : {"--jobserver-auth=", "--jobserver-fds="}) {
      if (word.substr(0, option.size()) == option) auth = parse_value(word.substr(option.size()));
    }
  }
  return auth;
}

std::optional<Jobserver> Jobserver::from_environment() {
  const char* makeflags = std::getenv("MAKEFLAGS");
  if (makeflags == nullptr) return std::nullopt;
  return from_auth(parse_makeflags(makeflags));
}

std::optional<Jobserver> Jobserver::from_auth(const JobserverAuth& auth) {
  std::optional<std::pair<UniqueFd, UniqueFd>> ends;
  if (const auto* fds = std::get_if<JobserverFds>(&auth)) ends = open_fds(*fds);
  if (const auto* fifo = std::get_if<JobserverFifo>(&auth)) ends = open_fifo(*fifo);
  if (!ends) return std::nullopt;
  log::get("jobserver")->debug("using make's jobserver");
  return Jobserver(std::move(ends->first), std::move(ends->second));
}

Jobserver::~Jobserver() {
  while (!tokens_.empty())
    give_back();
}

bool Jobserver::try_take() {
  char token = 0;
  for (;;) {
    ssize_t n = ::read(read_.get(), &token, 1);
    if (n == 1) {
      tokens_.push_back(token);
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) read_.reset();  // make is gone: there is nothing to wait for
    return false;               // EAGAIN: none now
  }
}

void Jobserver::give_back() {
  if (tokens_.empty() || !write_) return;
  char token = tokens_.back();
  tokens_.pop_back();
  // The pipe has room: the token came out of it.
  while (::write(write_.get(), &token, 1) < 0 && errno == EINTR) {
  }
}

}  // namespace wp::platform
