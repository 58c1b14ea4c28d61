// Writes attempts to the store from a thread of its own, so that the event
// loop never waits on SQLite: a job's record is queued as it ends and
// committed within 20 ms, together with whatever else ended meanwhile (one
// transaction for many when jobs end fast). A kill -9 of wp can lose only
// what is queued, the records of jobs that ended in those last 20 ms.
#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "profile/records.h"
#include "profile/store.h"
#include "util/result.h"

namespace wp::profile {

class Recorder {
 public:
  // `store` is the writer's alone from the first add() until finish().
  Recorder(Store& store, int keep) : store_(store), keep_(keep) {}
  ~Recorder();  // finish()es
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Queues a record; starts the writer on first use. The thread is made
  // late on purpose: the sentinel is forked before any job ends, and a fork
  // in a process with threads is best avoided.
  void add(AttemptRecord record);
  // Writes everything queued and stops the writer. The first error, if
  // writing failed (records from then on were dropped).
  std::optional<Error> finish();

 private:
  void write_loop();

  Store& store_;
  int keep_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<AttemptRecord> queue_;
  bool stopping_ = false;
  std::optional<Error> error_;
  std::thread writer_;
};

}  // namespace wp::profile
