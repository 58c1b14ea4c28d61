#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "platform/signals.h"

#include "platform/process.h"

namespace wp::platform {
namespace {

sigset_t handled_signals(bool resize) {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGCHLD, SIGINT, SIGTERM, SIGHUP})
    sigaddset(&set, sig);
  // Ignored by default, so blocking it changes nothing else; jobs are
  // spawned with an empty mask.
  if (resize) sigaddset(&set, SIGWINCH);
  return set;
}

}  // namespace

Result<SignalChannel> SignalChannel::open(bool resize) {
  // A job's output pipe closing under us must be an error code, not a death.
  ignore_broken_pipe();
  sigset_t set = handled_signals(resize);
  SignalChannel channel;
  if (::sigprocmask(SIG_BLOCK, &set, &channel.old_mask_) != 0) {
    return make_error("sigprocmask: {}", std::strerror(errno));
  }
  int fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) {
    int error = errno;
    ::sigprocmask(SIG_SETMASK, &channel.old_mask_, nullptr);
    return make_error("signalfd: {}", std::strerror(error));
  }
  channel.fd_.reset(fd);
  return channel;
}

SignalChannel::SignalChannel(SignalChannel&& other) noexcept
    : fd_(std::move(other.fd_)), old_mask_(other.old_mask_) {}

SignalChannel::~SignalChannel() {
  if (fd_) ::sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
}

std::vector<int> SignalChannel::drain() {
  std::vector<int> signals;
  // Several at once: the kernel keeps one of each standard signal pending,
  // so a read that does not fill the buffer has taken them all, and the
  // usual wake-up (one SIGCHLD) costs one read, not a second to see EAGAIN.
  constexpr size_t kBatch = 8;
  signalfd_siginfo infos[kBatch];
  while (true) {
    ssize_t n = ::read(fd_.get(), infos, sizeof infos);
    if (n < static_cast<ssize_t>(sizeof infos[0])) break;
    size_t count = static_cast<size_t>(n) / sizeof infos[0];
    for (size_t i = 0; i < count; ++i) {
      int sig = static_cast<int>(infos[i].ssi_signo);
      if (sig == SIGCHLD && !signals.empty() && signals.back() == SIGCHLD) continue;
      signals.push_back(sig);
    }
    if (count < kBatch) break;
  }
  return signals;
}

}  // namespace wp::platform
