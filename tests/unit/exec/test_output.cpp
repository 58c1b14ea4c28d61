#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "exec/output.h"
#include "exec/run_dir.h"

namespace {

// Everything written to the pipe's write end so far.
std::string drain(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof buf)) > 0)
    out.append(buf, static_cast<size_t>(n));
  return out;
}

struct TestPipe {
  int fds[2];
  TestPipe() {
    REQUIRE(::pipe2(fds, O_NONBLOCK) == 0);
    ::fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
  }
  ~TestPipe() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
};

}  // namespace

TEST_CASE("only whole lines are printed, each with the prefix", "[exec]") {
  TestPipe pipe;
  wp::exec::LinePrefixer lines("[job] ", pipe.fds[1]);
  lines.feed("first li");
  CHECK(drain(pipe.fds[0]).empty());
  lines.feed("ne\nsecond\nthi");
  CHECK(drain(pipe.fds[0]) == "[job] first line\n[job] second\n");
  lines.feed("rd");
  lines.finish();
  CHECK(drain(pipe.fds[0]) == "[job] third\n");
  lines.finish();
  CHECK(drain(pipe.fds[0]).empty());
}

TEST_CASE("a line without newline is cut at the maximum length", "[exec]") {
  TestPipe pipe;
  wp::exec::LinePrefixer lines("> ", pipe.fds[1]);
  std::string big(wp::exec::LinePrefixer::kMaxLine + 10, 'x');
  lines.feed(big);
  std::string out = drain(pipe.fds[0]);
  CHECK(out.size() == wp::exec::LinePrefixer::kMaxLine + 3);
  lines.finish();
  CHECK(drain(pipe.fds[0]) == "> xxxxxxxxxx\n");
}

TEST_CASE("tail_lines returns the last lines of a file", "[exec]") {
  std::string path = "/tmp/wp-test-tail-" + std::to_string(::getpid());
  {
    std::ofstream out(path);
    for (int i = 1; i <= 30; ++i)
      out << "line " << i << "\n";
  }
  std::string tail = wp::exec::tail_lines(path, 3);
  CHECK(tail == "line 28\nline 29\nline 30\n");
  CHECK(wp::exec::tail_lines(path, 100).rfind("line 1\n", 0) == 0);
  CHECK(wp::exec::tail_lines("/nonexistent/file", 3).empty());
  ::unlink(path.c_str());
}

TEST_CASE("log stems are file-name safe and unique", "[exec]") {
  auto dir = wp::exec::RunDir::create("/tmp/wp-test-rundir-" + std::to_string(::getpid()), "r1");
  REQUIRE(dir.ok());
  auto stems = dir->assign_stems({"build", "proc data/a.csv", "proc data_a.csv", ".hidden", "a_b",
                                  "a/b", "a_b~2", "données-日本", "données-中国"});
  CHECK(stems == std::vector<std::string>{"build", "proc_data_a.csv", "proc_data_a.csv~2",
                                          "_.hidden", "a_b", "a_b~2", "a_b_2", "données-日本",
                                          "données-中国"});
  CHECK(dir->log_path("build", 2, "err").filename() == "build.2.err");
  std::filesystem::remove_all(dir->path());
}

TEST_CASE("a run keeps only the log stems that differ from the names", "[exec]") {
  auto dir = wp::exec::RunDir::create("/tmp/wp-test-stems-" + std::to_string(::getpid()), "r1");
  REQUIRE(dir.ok());
  std::vector<std::string> names{"x", "b", "a/b", "a_b", "x", "a b", "ok"};
  auto other =
      dir->other_stems(names.size(), [&](size_t i) -> const std::string& { return names[i]; });
  CHECK(other == std::unordered_map<size_t, std::string>{
                     {2, "a_b"}, {3, "a_b~2"}, {4, "x~2"}, {5, "a_b~3"}});
  std::filesystem::remove_all(dir->path());
}

TEST_CASE("a run directory belongs to one run", "[exec]") {
  std::string path = "/tmp/wp-test-claim-" + std::to_string(::getpid());
  auto first = wp::exec::RunDir::create(path, "r1");
  REQUIRE(first.ok());
  auto second = wp::exec::RunDir::create(path, "r2");
  REQUIRE_FALSE(second.ok());
  CHECK_THAT(second.error().message, Catch::Contains("already holds another run's logs"));
  std::filesystem::remove_all(path);
}
