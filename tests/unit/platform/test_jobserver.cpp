// make's jobserver as MAKEFLAGS names it, and tokens taken and given back
// through a real pipe.
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <variant>

#include <catch2/catch.hpp>

#include "platform/jobserver.h"

using namespace wp::platform;

TEST_CASE("jobserver: MAKEFLAGS of make 4.3 and 4.4; the last one wins", "[jobserver]") {
  JobserverAuth auth = parse_makeflags(" -j4 --jobserver-auth=3,4 -- WP=wp");
  const auto* fds = std::get_if<JobserverFds>(&auth);
  REQUIRE(fds);
  CHECK(fds->read == 3);
  CHECK(fds->write == 4);
  JobserverAuth fifo = parse_makeflags("-j8 --jobserver-auth=fifo:/tmp/GMfifo1");
  REQUIRE(std::holds_alternative<JobserverFifo>(fifo));
  CHECK(std::get<JobserverFifo>(fifo).path == "/tmp/GMfifo1");
  JobserverAuth old = parse_makeflags("--jobserver-fds=5,6 -j --jobserver-auth=7,8");
  REQUIRE(std::holds_alternative<JobserverFds>(old));
  CHECK(std::get<JobserverFds>(old).read == 7);
  CHECK(std::holds_alternative<std::monostate>(parse_makeflags("-j4 -k")));
  CHECK(std::holds_alternative<std::monostate>(parse_makeflags("--jobserver-auth=x,4")));
}

TEST_CASE("jobserver: tokens come from the pipe and all go back", "[jobserver]") {
  int ends[2];
  REQUIRE(::pipe(ends) == 0);
  REQUIRE(::write(ends[1], "+a", 2) == 2);
  {
    auto jobserver = Jobserver::from_auth(JobserverFds{ends[0], ends[1]});
    REQUIRE(jobserver);
    CHECK(jobserver->try_take());
    CHECK(jobserver->try_take());
    CHECK_FALSE(jobserver->try_take());  // none left: no waiting
    CHECK(jobserver->held() == 2);
    jobserver->give_back();
    CHECK(jobserver->held() == 1);
  }  // the last one goes back here
  // make's own descriptor stays blocking.
  CHECK((::fcntl(ends[0], F_GETFL) & O_NONBLOCK) == 0);
  char back[3] = {};
  CHECK(::read(ends[0], back, sizeof back) == 2);
  CHECK(std::string(back, 2) == "a+");
  ::close(ends[0]);
  ::close(ends[1]);
}

TEST_CASE("jobserver: fds that are not its pipe mean no jobserver", "[jobserver]") {
  int file = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  CHECK_FALSE(Jobserver::from_auth(JobserverFds{file, file}));
  ::close(file);
  CHECK_FALSE(Jobserver::from_auth(JobserverFds{1000, 1001}));
  CHECK_FALSE(Jobserver::from_auth(JobserverFifo{"/nonexistent/fifo"}));
}
