#include "profile/recorder.h"

#include <signal.h>

#include <chrono>

namespace wp::profile {

Recorder::~Recorder() {
  finish();
}

namespace {

// A commit costs far more than a trivial job: the writer lets the records of
// jobs that end within this long of the first join its transaction. What a
// kill -9 of wp can lose grows to at most this (the records are fsync'd
// only as WAL commits are anyway). 200 ms (at most 4,096 records) was
// tried: a third less of the writer's CPU on 5,000 trivial jobs, some 10 us
// a job, but a short run then committed everything at its end, and a kill
// cut off no write.
constexpr std::chrono::milliseconds kGatherFor{20};
// ... but no more records than this wait for one commit.
constexpr size_t kGatherAtMost = 512;

}  // namespace

void Recorder::add(AttemptRecord record) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(record));
    // The writer waits for a first record, or for a batch to fill: no
    // wake-up for each record in between.
    wake = queue_.size() == 1 || queue_.size() == kGatherAtMost;
  }
  if (!writer_.joinable()) {
    writer_ = std::thread([this] { write_loop(); });
  } else if (wake) {
    wake_.notify_one();
  }
}

std::optional<Error> Recorder::finish() {
  if (writer_.joinable()) {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    writer_.join();
  }
  std::lock_guard lock(mutex_);
  return error_;
}

void Recorder::write_loop() {
  // Signals are the event loop's (a signalfd): none may land here.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  std::vector<AttemptRecord> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and all written
      wake_.wait_for(lock, kGatherFor,
                     [this] { return stopping_ || queue_.size() >= kGatherAtMost; });
      batch.swap(queue_);
      if (error_) {
        batch.clear();
        continue;
      }
    }
    auto added = store_.add_attempts(batch, keep_);
    batch.clear();
    if (!added) {
      std::lock_guard lock(mutex_);
      error_ = added.error();
    }
  }
}

}  // namespace wp::profile
