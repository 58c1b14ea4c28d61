// Signals as events: SIGCHLD, SIGINT, SIGTERM and SIGHUP are blocked and read
// from a signalfd, so the run loop sees them between two polls instead of in
// a handler (and SIGWINCH when asked). Implemented per platform (platform/linux/signals.cpp).
#pragma once

#include <signal.h>

#include <vector>

#include "util/result.h"
#include "util/unique_fd.h"

namespace wp::platform {

class SignalChannel {
 public:
  // `resize`: SIGWINCH too, for a display that fits the terminal.
  static Result<SignalChannel> open(bool resize = false);
  SignalChannel(SignalChannel&& other) noexcept;
  SignalChannel& operator=(SignalChannel&&) = delete;
  SignalChannel(const SignalChannel&) = delete;
  SignalChannel& operator=(const SignalChannel&) = delete;
  ~SignalChannel();  // restores the signal mask from before open()

  int fd() const { return fd_.get(); }
  // The signals that arrived since the last call, in order (SIGCHLD at most once).
  std::vector<int> drain();

 private:
  SignalChannel() = default;
  UniqueFd fd_;  // valid while this channel owns the mask
  sigset_t old_mask_{};
};

}  // namespace wp::platform
