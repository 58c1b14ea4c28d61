// GNU make's jobserver, as a client: when wp runs inside `make -jN`, every
// job beyond its first takes a token from make and gives it back when it
// ends, so that make's N bounds wp's jobs too. The first job runs on the
// token make gave the recipe. Implemented per platform
// (platform/linux/jobserver.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "util/unique_fd.h"

namespace wp::platform {

// What MAKEFLAGS says of the jobserver: the last --jobserver-auth (or the
// older --jobserver-fds) wins, as in make.
struct JobserverFds {
  int read = -1;
  int write = -1;
};
struct JobserverFifo {
  std::string path;
};
using JobserverAuth = std::variant<std::monostate, JobserverFds, JobserverFifo>;
JobserverAuth parse_makeflags(std::string_view makeflags);

class Jobserver {
 public:
  // The jobserver MAKEFLAGS names, if it can be used. make 4.3 passes its
  // pipe only to recipes marked `+` or that run $(MAKE): elsewhere the fds
  // are closed or are something else, which is said at debug level and
  // means no jobserver. Call before wp opens files, which could take the
  // numbers of closed fds.
  static std::optional<Jobserver> from_environment();
  static std::optional<Jobserver> from_auth(const JobserverAuth& auth);

  Jobserver(Jobserver&&) noexcept = default;
  Jobserver& operator=(Jobserver&&) = delete;
  Jobserver(const Jobserver&) = delete;
  Jobserver& operator=(const Jobserver&) = delete;
  ~Jobserver();  // gives back every token still held

  // Takes a token if one is there, without waiting.
  bool try_take();
  // Gives back the token taken last (the same byte: make 4.4 tells an error
  // token apart).
  void give_back();
  size_t held() const { return tokens_.size(); }
  // Readable when a token may be there: poll it rather than wait in read.
  // -1 once make is gone (its pipe reached end of file): no limit then.
  int wait_fd() const { return read_.get(); }

 private:
  Jobserver(UniqueFd read, UniqueFd write) : read_(std::move(read)), write_(std::move(write)) {}
  // Descriptions of wp's own, non-blocking: make's are shared with make and
  // every other recipe, whose flags wp must not change.
  UniqueFd read_;
  UniqueFd write_;
  std::vector<char> tokens_;
};

}  // namespace wp::platform
