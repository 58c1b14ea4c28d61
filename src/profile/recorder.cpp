#include "profile/recorder.h"

#include <signal.h>

namespace wp::profile {

Recorder::~Recorder() {
  finish();
}

void Recorder::add(AttemptRecord record) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(record));
  }
  if (!writer_.joinable()) {
    writer_ = std::thread([this] { write_loop(); });
  } else {
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
