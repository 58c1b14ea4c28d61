// A job's attempts as the report keeps them: encoded, so every field must
// come back as it went in, set or not.
#include <catch2/catch.hpp>

#include <string>

#include "report/run_report.h"

using namespace wp;
using namespace wp::report;

namespace {

// Every field of an Attempt set to something other than its default.
Attempt everything_set() {
  Attempt a;
  a.number = 3;
  a.started = Clock::time_point(std::chrono::nanoseconds(1'800'000'000'123'456'789));
  a.ended = a.started + std::chrono::milliseconds(2500);
  a.exit_code = 137;
  a.signal = 9;
  a.timed_out = true;
  a.timeout = std::chrono::milliseconds(30'000);
  a.interrupted = true;
  a.spawn_error = std::string(300, 'e');  // longer than a one-byte length
  a.stdout_log = "/runs/r1/build.3.out";
  a.stderr_log = "/runs/r1/build.3.err";
  a.usage.method = "cgroup v2";
  a.usage.peak_memory = 5ull << 30;
  a.usage.cpu_seconds = 1.25;
  a.usage.user_seconds = 1.0;
  a.usage.system_seconds = 0.25;
  a.usage.average_cores = 0.5;
  a.usage.peak_cores = 1.75;
  a.usage.read_ops = 1;
  a.usage.write_ops = 2;
  a.usage.read_bytes = 3;
  a.usage.write_bytes = 4;
  a.usage.read_calls = 5;
  a.usage.write_calls = 6;
  a.usage.oom_killed = true;
  a.limits.memory = 6ull << 30;
  a.limits.cpu = Cores::from_millis(1500);
  a.limits.iops = 100;
  a.admitted = Resources{Cores::from_millis(1500), 4ull << 30, 100, 1};
  a.requeued = true;
  a.memory_retry = true;
  a.suspensions = 2;
  return a;
}

void check_same(const Attempt& got, const Attempt& want) {
  CHECK(got.number == want.number);
  CHECK(got.started == want.started);
  CHECK(got.ended == want.ended);
  CHECK(got.exit_code == want.exit_code);
  CHECK(got.signal == want.signal);
  CHECK(got.timed_out == want.timed_out);
  CHECK(got.timeout == want.timeout);
  CHECK(got.interrupted == want.interrupted);
  CHECK(got.spawn_error == want.spawn_error);
  CHECK(got.stdout_log == want.stdout_log);
  CHECK(got.stderr_log == want.stderr_log);
  CHECK(got.usage.method == want.usage.method);
  CHECK(got.usage.peak_memory == want.usage.peak_memory);
  CHECK(got.usage.cpu_seconds == want.usage.cpu_seconds);
  CHECK(got.usage.user_seconds == want.usage.user_seconds);
  CHECK(got.usage.system_seconds == want.usage.system_seconds);
  CHECK(got.usage.average_cores == want.usage.average_cores);
  CHECK(got.usage.peak_cores == want.usage.peak_cores);
  CHECK(got.usage.read_ops == want.usage.read_ops);
  CHECK(got.usage.write_ops == want.usage.write_ops);
  CHECK(got.usage.read_bytes == want.usage.read_bytes);
  CHECK(got.usage.write_bytes == want.usage.write_bytes);
  CHECK(got.usage.read_calls == want.usage.read_calls);
  CHECK(got.usage.write_calls == want.usage.write_calls);
  CHECK(got.usage.oom_killed == want.usage.oom_killed);
  CHECK(got.limits.memory == want.limits.memory);
  CHECK(got.limits.cpu == want.limits.cpu);
  CHECK(got.limits.iops == want.limits.iops);
  CHECK(got.admitted == want.admitted);
  CHECK(got.requeued == want.requeued);
  CHECK(got.memory_retry == want.memory_retry);
  CHECK(got.suspensions == want.suspensions);
}

}  // namespace

TEST_CASE("attempt list: every field comes back, set or unset", "[report]") {
  AttemptList list;
  CHECK(list.empty());
  CHECK(list.size() == 0);
  Attempt set = everything_set();
  Attempt unset;
  list.push_back(set);
  list.push_back(unset);
  list.push_back(set);
  CHECK_FALSE(list.empty());
  CHECK(list.size() == 3);
  check_same(list.front(), set);
  check_same(list.back(), set);
  size_t seen = 0;
  for (const Attempt& a : list) {
    check_same(a, seen == 1 ? unset : set);
    ++seen;
  }
  CHECK(seen == 3);
}
