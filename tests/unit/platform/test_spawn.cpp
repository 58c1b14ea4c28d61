// spawn(): real processes, both ways it can start one (without waiting for
// the exec where the platform allows, and waiting for it).
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include <catch2/catch.hpp>

#include "platform/process.h"

using namespace wp;
using namespace wp::platform;

namespace {

struct Reaped {
  int status = 0;
  std::string out;
};

// Waits for the process and reads what it wrote to `out_read`.
Reaped reap(pid_t pid, int out_read) {
  Reaped reaped;
  REQUIRE(::waitpid(pid, &reaped.status, 0) == pid);
  char buffer[256];
  ssize_t n = 0;
  while ((n = ::read(out_read, buffer, sizeof buffer)) > 0)
    reaped.out.append(buffer, static_cast<size_t>(n));
  return reaped;
}

SpawnRequest shell(const std::string& script, int out_fd, bool wait_for_exec) {
  SpawnRequest request;
  request.executable = "/bin/sh";
  request.argv = {"sh", "-c", script};
  request.env = {"PATH=/usr/bin:/bin"};
  request.cwd = "/";
  request.stdout_fd = out_fd;
  request.stderr_fd = out_fd;
  request.wait_for_exec = wait_for_exec;
  return request;
}

}  // namespace

TEST_CASE("spawn: the job runs in a process group of its own from the start", "[spawn]") {
  bool wait_for_exec = GENERATE(false, true);
  INFO("wait_for_exec " << wait_for_exec);
  auto pipe = make_pipe();
  REQUIRE(pipe.ok());
  auto spawned = spawn(shell("echo ran in $PWD", pipe->write.get(), wait_for_exec));
  REQUIRE(spawned.ok());
  pid_t pid = spawned->pid();
  // At once, whether or not the child has run yet: wp may signal the group
  // (a timeout, Ctrl-C) right after spawn() returns.
  CHECK(::getpgid(pid) == pid);
  pipe->write.reset();
  int flags = ::fcntl(pipe->read.get(), F_GETFL);
  ::fcntl(pipe->read.get(), F_SETFL, flags & ~O_NONBLOCK);
  Reaped reaped = reap(pid, pipe->read.get());
  CHECK(WIFEXITED(reaped.status));
  CHECK(WEXITSTATUS(reaped.status) == 0);
  CHECK(reaped.out == "ran in /\n");
  CHECK_FALSE(spawned->failure());
}

TEST_CASE("spawn: a step before exec that fails is an error naming it", "[spawn]") {
  bool wait_for_exec = GENERATE(false, true);
  INFO("wait_for_exec " << wait_for_exec);
  auto pipe = make_pipe();
  REQUIRE(pipe.ok());
  SpawnRequest request = shell("true", pipe->write.get(), wait_for_exec);
  request.cwd = "/nonexistent-wp-dir";
  auto spawned = spawn(std::move(request));
  if (!spawned.ok()) {
    // It waited for the exec: the error comes at once.
    CHECK_THAT(spawned.error().message, Catch::Contains("/nonexistent-wp-dir' is not a directory"));
    return;
  }
  // It did not: the child exits 127 and leaves why.
  int status = 0;
  REQUIRE(::waitpid(spawned->pid(), &status, 0) == spawned->pid());
  CHECK(WEXITSTATUS(status) == 127);
  auto failure = spawned->failure();
  REQUIRE(failure);
  CHECK_THAT(failure->message, Catch::Contains("/nonexistent-wp-dir' is not a directory"));
}

namespace {

// In a forked session whose controlling terminal is a new pseudo-terminal on
// fd 0: spawns `script` with SpawnRequest::foreground as asked and exits
// with the job's status. Only the child's own step can give the job the
// terminal: this parent does not.
int spawn_in_session(const std::string& script, bool foreground, bool wait_for_exec) {
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  REQUIRE(master >= 0);
  REQUIRE(::grantpt(master) == 0);
  REQUIRE(::unlockpt(master) == 0);
  std::string terminal_name = ::ptsname(master);
  SpawnRequest request = shell(script, STDERR_FILENO, wait_for_exec);
  request.stdin_fd = STDIN_FILENO;
  request.foreground = foreground;
  pid_t session = ::fork();
  REQUIRE(session >= 0);
  if (session == 0) {
    ::setsid();
    int terminal = ::open(terminal_name.c_str(), O_RDWR);
    if (terminal < 0 || ::ioctl(terminal, TIOCSCTTY, 0) != 0 || ::dup2(terminal, 0) < 0) {
      ::_exit(100);
    }
    auto spawned = spawn(std::move(request));
    int status = 0;
    if (!spawned.ok() || ::waitpid(spawned->pid(), &status, 0) != spawned->pid()) ::_exit(101);
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 102);
  }
  int status = 0;
  REQUIRE(::waitpid(session, &status, 0) == session);
  ::close(master);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

}  // namespace

TEST_CASE("spawn: a foreground job makes its group the terminal's before it execs", "[spawn]") {
  bool wait_for_exec = GENERATE(false, true);
  INFO("wait_for_exec " << wait_for_exec);
  // /proc/PID/stat: field 5 is the process group, 8 the terminal's
  // foreground group ((sh) has no space in it).
  std::string in_foreground =
      "read -r pid comm state ppid pgrp session tty tpgid rest < /proc/$$/stat; "
      "[ \"$pgrp\" = \"$tpgid\" ] && [ \"$pgrp\" = $$ ]";
  CHECK(spawn_in_session(in_foreground, true, wait_for_exec) == 0);
  // And without being asked, it stays in the background.
  CHECK(spawn_in_session(in_foreground, false, wait_for_exec) == 1);
}
