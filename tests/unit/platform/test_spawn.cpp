// spawn(): real processes, both ways it can start one (without waiting for
// the exec where the platform allows, and waiting for it).
#include <fcntl.h>
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
