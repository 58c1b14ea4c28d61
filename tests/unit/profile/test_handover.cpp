// The hand-over between the thread that reads profiles and the one that
// learns from them, with real threads: everything arrives in order, a batch
// at a time, the maker waits at the limit, and a taker that gives up frees
// a waiting maker.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "profile/handover.h"

using wp::profile::Handover;

TEST_CASE("handover: every item arrives once, in order, in batches", "[profile]") {
  Handover<int> handover(/*batch=*/8, /*limit=*/32);
  constexpr int kItems = 1000;
  std::thread maker([&] {
    for (int i = 0; i < kItems; ++i)
      handover.put(i);
    handover.close();
  });
  std::vector<int> got;
  size_t batches = 0;
  for (std::vector<int> batch = handover.take(); !batch.empty(); batch = handover.take()) {
    CHECK(batch.size() <= 32);
    got.insert(got.end(), batch.begin(), batch.end());
    ++batches;
  }
  maker.join();
  REQUIRE(got.size() == kItems);
  for (int i = 0; i < kItems; ++i)
    REQUIRE(got[static_cast<size_t>(i)] == i);
  // Whole batches but for the last: never one item a wake-up.
  CHECK(batches <= kItems / 8 + 1);
  CHECK(handover.take().empty());  // closed and drained stays so
}

TEST_CASE("handover: what is left below a batch comes once the maker closes", "[profile]") {
  Handover<int> handover(64, 512);
  handover.put(1);
  handover.put(2);
  handover.close();
  CHECK(handover.take() == std::vector<int>{1, 2});
  CHECK(handover.take().empty());
}

TEST_CASE("handover: the maker waits while the limit is reached", "[profile]") {
  Handover<int> handover(/*batch=*/2, /*limit=*/4);
  std::atomic<int> put{0};
  std::thread maker([&] {
    for (int i = 0; i < 6; ++i) {
      handover.put(i);
      ++put;
    }
    handover.close();
  });
  // Four fit; the fifth waits for room however long the taker takes.
  while (put.load() < 4)
    std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(put.load() == 4);
  std::vector<int> first = handover.take();
  CHECK(first == std::vector<int>{0, 1, 2, 3});
  std::vector<int> rest;
  for (std::vector<int> batch = handover.take(); !batch.empty(); batch = handover.take())
    rest.insert(rest.end(), batch.begin(), batch.end());
  maker.join();
  CHECK(put.load() == 6);
  CHECK(rest == std::vector<int>{4, 5});
}

TEST_CASE("handover: a taker that gives up frees a waiting maker", "[profile]") {
  Handover<int> handover(/*batch=*/1, /*limit=*/1);
  std::atomic<int> put{0};
  std::thread maker([&] {
    for (int i = 0; i < 100; ++i) {
      handover.put(i);
      ++put;
    }
    handover.close();
  });
  while (put.load() < 1)
    std::this_thread::yield();
  handover.abandon();
  maker.join();  // would hang were the maker left waiting for room
  CHECK(put.load() == 100);
}
