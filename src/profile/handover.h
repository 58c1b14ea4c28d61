// Items handed from one thread that makes them to another that uses them,
// a batch at a time: learning reads profiles from SQLite on one thread and
// predicts from them on the other (profile/learn.cpp). A hand-over per item
// would cost a wake-up each; a batch of them costs one. At most `limit`
// items wait, so a reader ahead of its taker holds a bounded amount.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

namespace wp::profile {

template <typename T>
class Handover {
 public:
  Handover(size_t batch, size_t limit) : batch_(batch), limit_(std::max(batch, limit)) {}

  // The maker: waits while `limit` items wait; drops the item once the
  // taker has given up.
  void put(T item) {
    std::unique_lock lock(mutex_);
    room_.wait(lock, [this] { return waiting_.size() < limit_ || abandoned_; });
    if (abandoned_) return;
    waiting_.push_back(std::move(item));
    if (waiting_.size() == batch_) ready_.notify_one();
  }
  // The maker: nothing more comes.
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    ready_.notify_one();
  }

  // The taker: the next batch (whatever waits once a batch is there, or
  // once the maker closed); empty when the maker closed and all is taken.
  std::vector<T> take() {
    std::vector<T> taken;
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [this] { return waiting_.size() >= batch_ || closed_; });
    taken.swap(waiting_);
    room_.notify_one();
    return taken;
  }
  // The taker: wants nothing more (it failed); a waiting maker goes on.
  void abandon() {
    std::lock_guard lock(mutex_);
    abandoned_ = true;
    waiting_.clear();
    room_.notify_one();
  }

 private:
  const size_t batch_;
  const size_t limit_;
  std::mutex mutex_;
  std::condition_variable ready_;  // a batch waits, or the maker closed
  std::condition_variable room_;   // below the limit, or the taker gave up
  std::vector<T> waiting_;
  bool closed_ = false;
  bool abandoned_ = false;
};

}  // namespace wp::profile
