// The ledger's file: what each wp process on the machine holds and waits
// for, and the rules by which a process may take more. Plain data in a
// small file every wp maps (see platform/shared_table.h); these functions
// only read and change it, so the tests drive them on a table in memory.
//
// One slot a wp process, not one a job: a wp run with hundreds of small
// jobs running still takes one slot, and a lease is an addition to it.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "resources/quantity.h"

namespace wp::ledger {

// Resources in fixed-width fields: the layout is shared between builds.
struct Amount {
  int64_t cpu_millis = 0;
  uint64_t memory = 0;
  uint64_t iops = 0;
  uint64_t gpu = 0;
};

Amount to_amount(const Resources& resources);
Resources to_resources(const Amount& amount);

struct Slot {
  int32_t pid = 0;  // 0: free
  uint32_t reserved = 0;
  uint64_t start_time = 0;  // of the process, in clock ticks after boot
  Amount held;              // the sum of its leases
  Amount wanted;            // while waiting: the demand it waits to take
  uint64_t ticket = 0;      // while waiting: its place in line; 0 when not waiting
  int64_t priority = 0;     // while waiting
};

struct Header {
  uint64_t magic = 0;
  uint32_t version = 0;
  uint32_t slots = 0;  // in the file
  uint32_t used = 0;   // slots [0, used) may be taken; the rest are free
  uint32_t reserved = 0;
  uint64_t next_ticket = 0;
  uint64_t generation = 0;  // written through on every release: wakes waiters
};

inline constexpr uint64_t kMagic = 0x3152474445'4c5057ull;  // "WPLEDGR1", little-endian
inline constexpr uint32_t kVersion = 1;
// A slot a wp process: far more than the wp processes one user runs at once
// (make -j64 of wp exec), and 96 KiB to map.
inline constexpr uint32_t kSlots = 1024;

inline constexpr size_t table_size(uint32_t slots) {
  return sizeof(Header) + static_cast<size_t>(slots) * sizeof(Slot);
}

// The table in memory: a header followed by its slots.
class Table {
 public:
  Table(std::byte* data, uint32_t slots) : data_(data), slots_(slots) {}

  // A zeroed table becomes an empty one; false when the file holds
  // something else (another format or version).
  bool prepare();

  Header& header() const { return *reinterpret_cast<Header*>(data_); }
  Slot& slot(uint32_t i) const { return reinterpret_cast<Slot*>(data_ + sizeof(Header))[i]; }
  uint32_t used() const { return header().used; }

  // The slot of process (pid, start_time), taking a free one if it has none.
  std::optional<uint32_t> slot_of(pid_t pid, uint64_t start_time);
  void free_slot(uint32_t i);

  // What the process in slot `self` may take now, judged against its own
  // `capacity`: what the leases of every process leave free, less, for each
  // process waiting ahead of it, what that one waits for (so a later process
  // never delays an earlier one). Ahead: a higher priority, or the same and
  // an earlier ticket; every waiter is ahead of a process not yet waiting. A
  // waiter whose demand exceeds `capacity` is ignored: by this process's
  // measure it can never start.
  Resources available(uint32_t self, const Resources& capacity) const;

  void take(uint32_t self, const Resources& demand);
  void give_back(uint32_t self, const Resources& demand);
  // Takes a place in line for `demand` (keeping the place it already has).
  // True when that changed the table.
  bool wait_for(uint32_t self, const Resources& demand, int64_t priority);
  // Leaves the line; true when it was in it.
  bool stop_waiting(uint32_t self);
  bool anyone_waiting() const;

  // Frees the slots whose process is gone (is_alive false): a wp killed by
  // SIGKILL gives its leases and its place back. Returns how many.
  using IsAlive = std::function<bool(pid_t, uint64_t start_time)>;
  uint32_t reclaim(uint32_t self, const IsAlive& is_alive);

 private:
  std::byte* data_;
  uint32_t slots_;
};

}  // namespace wp::ledger
