// The ledger of leases, one for each user on a machine: every wp process of
// that user (each `wp run`, every `wp exec` of a `make -j16`) takes a lease
// for a job's admitted demand before starting it and gives it back when the
// job ends, so that together they never exceed the capacity. Each judges
// the ledger against its own capacity; a process waiting for room takes a
// place in line that later processes respect (first come, first served
// within a priority).
//
// The file lives in the user's runtime directory (platform::runtime_dir) and
// is shared through platform::SharedTable; the rules are in ledger/table.h.
// Another user's wp processes have their own ledger and do not see this one.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>

#include "ledger/table.h"
#include "platform/shared_table.h"
#include "resources/quantity.h"
#include "util/result.h"

namespace wp::ledger {

// The file's name in the runtime directory.
inline constexpr const char* kFileName = "ledger";

class Ledger {
 public:
  // Opens (or creates) the ledger file at `path` and takes this process's
  // slot. `capacity` is what this process judges the ledger against: its
  // packing capacity (cores times the CPU overcommit).
  static Result<Ledger> open(const std::filesystem::path& path, const Resources& capacity);

  Ledger(Ledger&&) noexcept;
  Ledger& operator=(Ledger&&) = delete;
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;
  ~Ledger();  // gives back whatever this process still holds, and its slot

  // The ledger locked, for one decision: what may be taken, and taking it
  // or taking a place in line, all under one lock.
  class Session {
   public:
    explicit Session(Ledger& ledger);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // What this process may take now. When others restrict it, the slots of
    // processes that are gone are reclaimed first (at most every
    // kReclaimSpacing, since each check reads /proc).
    Resources available();
    // A lease for `demand`, which must fit available(); leaves the line.
    void take(const Resources& demand);
    // Waits in line for `demand`, keeping its place if it has one.
    void wait_for(const Resources& demand, int64_t priority);
    void stop_waiting();

   private:
    Ledger& ledger_;
    bool wake_others_ = false;
  };

  // Gives back a lease taken with Session::take.
  void release(const Resources& demand);
  // The same, with the ledger's next lock: the next Session's, or flush()'s.
  // A job ended and what it frees admits another, all in one turn of the
  // event loop: one lock for both instead of two.
  void release_later(const Resources& demand) { pending_ += demand; }
  // Gives back what release_later() kept, if anything.
  void flush();

  // Readable when another process changed what it holds or waits for; -1
  // when changes cannot be watched: poll every recheck_interval().
  int wake_fd() const { return file_.watch_fd(); }
  void drain_wake() { file_.drain_watch(); }
  // How long a waiter sleeps at most between looks: a holder killed by
  // SIGKILL says nothing, so its lease is only found gone by looking.
  static constexpr std::chrono::milliseconds recheck_interval() {
    return std::chrono::milliseconds(200);
  }
  static constexpr std::chrono::milliseconds kReclaimSpacing{100};

  bool waiting() const { return waiting_; }
  const std::filesystem::path& path() const { return file_.path(); }

 private:
  Ledger(platform::SharedTable file, Resources capacity, uint32_t slot);
  Table table() const { return Table(file_.data(), kSlots); }
  void wake_others();
  // Under the lock: gives back what release_later() kept. True when it gave
  // back anything.
  bool give_back_pending();

  platform::SharedTable file_;
  Resources capacity_;
  uint32_t slot_ = 0;
  bool open_ = false;
  bool waiting_ = false;
  Resources pending_;  // released, not yet given back (release_later)
  std::chrono::steady_clock::time_point last_reclaim_{};
};

// The ledger in this user's runtime directory, unless WP_LEDGER=off;
// `off` (the --ledger flag) turns it off too. Nothing when it is off; an
// Error when it is on but cannot be used.
Result<std::optional<Ledger>> open_user_ledger(bool off, const Resources& capacity);

}  // namespace wp::ledger
