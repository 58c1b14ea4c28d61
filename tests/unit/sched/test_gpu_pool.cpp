#include <catch2/catch.hpp>

#include "sched/gpu_pool.h"

using wp::sched::device_list;
using wp::sched::GpuPool;

TEST_CASE("GPU devices are handed out once and come back", "[sched]") {
  GpuPool pool({3, 1, 0});
  std::vector<int> first = pool.acquire(2);
  CHECK(first == std::vector<int>{0, 1});
  CHECK(pool.available() == 1);
  std::vector<int> second = pool.acquire(1);
  CHECK(second == std::vector<int>{3});
  pool.release(first);
  CHECK(pool.acquire(2) == std::vector<int>{0, 1});
  CHECK(pool.acquire(0).empty());
}

TEST_CASE("device lists are comma-separated", "[sched]") {
  CHECK(device_list({}) == "");
  CHECK(device_list({2}) == "2");
  CHECK(device_list({0, 2, 5}) == "0,2,5");
}
