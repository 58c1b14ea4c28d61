// The ledger's rules on a table in memory, and the file shared by two
// Ledger objects as two processes would.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include <catch2/catch.hpp>

#include "ledger/ledger.h"
#include "ledger/table.h"

using wp::Bytes;
using wp::Cores;
using wp::Resources;
using namespace wp::ledger;

namespace {

constexpr Bytes kGiB = 1ull << 30;

Resources cores(double n, Bytes memory = kGiB) {
  return Resources{Cores::from_double(n), memory, 0, 0};
}

// A table in memory with a few slots.
struct MemoryTable {
  static constexpr uint32_t kTestSlots = 8;
  std::vector<std::byte> bytes = std::vector<std::byte>(table_size(kTestSlots));
  Table table{bytes.data(), kTestSlots};
  MemoryTable() { REQUIRE(table.prepare()); }
  uint32_t add(int pid) { return *table.slot_of(pid, 1000 + static_cast<uint64_t>(pid)); }
};

const Resources kCapacity = cores(2, 8 * kGiB);

}  // namespace

TEST_CASE("ledger: leases of every process add up against each one's capacity", "[ledger]") {
  MemoryTable m;
  uint32_t a = m.add(10), b = m.add(11);
  CHECK(m.table.available(a, kCapacity) == kCapacity);
  m.table.take(a, cores(1.5));
  CHECK(m.table.available(b, kCapacity) == cores(0.5, 7 * kGiB));
  // A process with a smaller capacity sees less room, never more.
  CHECK(m.table.available(b, cores(1, 8 * kGiB)).cpu == Cores{});
  m.table.give_back(a, cores(1.5));
  CHECK(m.table.available(b, kCapacity) == kCapacity);
}

TEST_CASE("ledger: a later waiter never delays an earlier one", "[ledger]") {
  MemoryTable m;
  uint32_t holder = m.add(10), first = m.add(11), second = m.add(12), late = m.add(13);
  m.table.take(holder, cores(1));
  // The first waits for 2 cores, which only the holder's end gives.
  m.table.wait_for(first, cores(2), 0);
  // Any core a later process took would delay it.
  CHECK(m.table.available(second, kCapacity).cpu == Cores{});
  // A process asking for no cores at all does not delay it.
  Resources memory_only{Cores{}, kGiB, 0, 0};
  CHECK(memory_only.fits_in(m.table.available(late, kCapacity)));
  m.table.give_back(holder, cores(1));
  // Now the first fits; the others still wait behind it.
  CHECK(cores(2).fits_in(m.table.available(first, kCapacity)));
  CHECK(m.table.available(second, kCapacity).cpu == Cores{});
  m.table.take(first, cores(2));
  m.table.stop_waiting(first);
  CHECK_FALSE(m.table.anyone_waiting());
}

TEST_CASE("ledger: a waiter that leaves room for the earlier one may go first", "[ledger]") {
  MemoryTable m;
  uint32_t holder = m.add(10), first = m.add(11), second = m.add(12);
  m.table.take(holder, cores(0.5));
  m.table.wait_for(first, cores(1), 0);
  // 1.5 free; the first needs 1: half a core is free for the second.
  CHECK(m.table.available(second, kCapacity).cpu == Cores::from_millis(500));
}

TEST_CASE("ledger: within a priority first come first served; higher goes first", "[ledger]") {
  MemoryTable m;
  uint32_t holder = m.add(10), low = m.add(11), high = m.add(12), later = m.add(13);
  m.table.take(holder, cores(2));
  m.table.wait_for(low, cores(1), 0);
  m.table.wait_for(high, cores(1), 5);
  m.table.wait_for(later, cores(1), 0);
  m.table.give_back(holder, cores(1));
  CHECK(m.table.available(high, kCapacity).cpu == Cores::from_millis(1000));
  CHECK(m.table.available(low, kCapacity).cpu == Cores{});
  // Taking its place again keeps it: a changed demand is no new ticket.
  uint64_t ticket = m.table.slot(low).ticket;
  CHECK(m.table.wait_for(low, cores(0.5), 0));
  CHECK(m.table.slot(low).ticket == ticket);
  CHECK(m.table.available(later, kCapacity).cpu == Cores{});
}

TEST_CASE("ledger: a waiter asking for more than one's capacity is ignored by it", "[ledger]") {
  MemoryTable m;
  uint32_t big = m.add(10), small = m.add(11);
  m.table.wait_for(big, cores(8), 0);
  CHECK(m.table.available(small, kCapacity) == kCapacity);
}

TEST_CASE("ledger: the slots of dead processes are reclaimed", "[ledger]") {
  MemoryTable m;
  uint32_t dead = m.add(10), alive = m.add(11);
  m.table.take(dead, cores(2));
  m.table.wait_for(dead, cores(1), 0);
  CHECK(m.table.available(alive, kCapacity).cpu == Cores{});
  auto is_alive = [](pid_t pid, uint64_t) { return pid != 10; };
  CHECK(m.table.reclaim(alive, is_alive) == 1);
  CHECK(m.table.available(alive, kCapacity) == kCapacity);
  CHECK(m.table.slot(alive).pid == 11);
}

TEST_CASE("ledger: a full table gives no slot; a freed one is used again", "[ledger]") {
  MemoryTable m;
  for (int pid = 1; pid <= static_cast<int>(MemoryTable::kTestSlots); ++pid)
    m.add(pid);
  CHECK_FALSE(m.table.slot_of(100, 1));
  m.table.free_slot(3);
  CHECK(m.table.slot_of(100, 1) == 3u);
}

TEST_CASE("ledger: a file of another format is refused", "[ledger]") {
  std::vector<std::byte> bytes(table_size(4));
  bytes[0] = std::byte{0x42};
  CHECK_FALSE(Table(bytes.data(), 4).prepare());
}

TEST_CASE("ledger: two ledgers on one file see each other's leases", "[ledger]") {
  char pattern[] = "/tmp/wp-ledger-test-XXXXXX";
  REQUIRE(::mkdtemp(pattern) != nullptr);
  std::filesystem::path file = std::filesystem::path(pattern) / "ledger";
  {
    // One process holds one slot: the second Ledger shares it, so it sees
    // its own leases as taken by the same holder.
    auto one = Ledger::open(file, kCapacity);
    REQUIRE(one);
    {
      Ledger::Session session(*one);
      CHECK(session.available() == kCapacity);
      session.take(cores(1.5));
    }
    auto two = Ledger::open(file, kCapacity);
    REQUIRE(two);
    CHECK(Ledger::Session(*two).available() == cores(0.5, 7 * kGiB));
    one->release(cores(1.5));
    CHECK(Ledger::Session(*two).available() == kCapacity);

    // Released for later: held until the releaser's next lock.
    Ledger::Session(*one).take(cores(1.5));
    one->release_later(cores(1.5));
    CHECK(Ledger::Session(*two).available() == cores(0.5, 7 * kGiB));
    one->flush();
    CHECK(Ledger::Session(*two).available() == kCapacity);
    Ledger::Session(*one).take(cores(2));
    one->release_later(cores(2));
    CHECK(Ledger::Session(*one).available() == kCapacity);  // its own lock gives it back
    CHECK(Ledger::Session(*two).available() == kCapacity);
  }
  std::filesystem::remove_all(pattern);
}
