#include "ledger/table.h"

#include <algorithm>
#include <cstring>

namespace wp::ledger {
namespace {

// a - b, 0 where b is larger.
template <typename T>
T minus(T a, T b) {
  return a > b ? a - b : T{0};
}

Amount saturating_minus(const Amount& a, const Amount& b) {
  return Amount{std::max<int64_t>(a.cpu_millis - b.cpu_millis, 0), minus(a.memory, b.memory),
                minus(a.iops, b.iops), minus(a.gpu, b.gpu)};
}

Amount min_each(const Amount& a, const Amount& b) {
  return Amount{std::min(a.cpu_millis, b.cpu_millis), std::min(a.memory, b.memory),
                std::min(a.iops, b.iops), std::min(a.gpu, b.gpu)};
}

// Sums saturate: an unlimited IOPS capacity stays unlimited.
template <typename T>
T plus(T a, T b) {
  T sum = a + b;
  return sum < a ? a : sum;
}

bool ahead(const Slot& other, const Slot& self) {
  if (other.ticket == 0) return false;
  if (self.ticket == 0) return true;
  if (other.priority != self.priority) return other.priority > self.priority;
  return other.ticket < self.ticket;
}

}  // namespace

Amount to_amount(const Resources& r) {
  return Amount{r.cpu.millis(), r.memory, r.iops, r.gpu};
}

Resources to_resources(const Amount& a) {
  return Resources{Cores::from_millis(a.cpu_millis), a.memory, a.iops,
                   static_cast<Gpus>(std::min<uint64_t>(a.gpu, UINT32_MAX))};
}

bool Table::prepare() {
  Header& h = header();
  if (h.magic == 0) {
    std::memset(data_, 0, table_size(slots_));
    h.magic = kMagic;
    h.version = kVersion;
    h.slots = slots_;
    h.next_ticket = 1;
    return true;
  }
  return h.magic == kMagic && h.version == kVersion && h.slots == slots_ && h.used <= slots_;
}

std::optional<uint32_t> Table::slot_of(pid_t pid, uint64_t start_time) {
  std::optional<uint32_t> free;
  for (uint32_t i = 0; i < used(); ++i) {
    const Slot& s = slot(i);
    if (s.pid == pid && s.start_time == start_time) return i;
    if (s.pid == 0 && !free) free = i;
  }
  if (!free) {
    if (used() == slots_) return std::nullopt;
    free = header().used++;
  }
  Slot& s = slot(*free);
  s = Slot{};
  s.pid = pid;
  s.start_time = start_time;
  return free;
}

void Table::free_slot(uint32_t i) {
  slot(i) = Slot{};
  // Shrinks the range scanned while its end is free.
  Header& h = header();
  while (h.used > 0 && slot(h.used - 1).pid == 0)
    --h.used;
}

Resources Table::available(uint32_t self, const Resources& capacity) const {
  Amount held;
  for (uint32_t i = 0; i < used(); ++i) {
    const Amount& a = slot(i).held;
    held = Amount{held.cpu_millis + a.cpu_millis, plus(held.memory, a.memory),
                  plus(held.iops, a.iops), plus(held.gpu, a.gpu)};
  }
  Amount cap = to_amount(capacity);
  Amount free = saturating_minus(cap, held);
  Amount result = free;
  const Slot& me = slot(self);
  for (uint32_t i = 0; i < used(); ++i) {
    const Slot& other = slot(i);
    if (i == self || other.pid == 0 || !ahead(other, me)) continue;
    if (!to_resources(other.wanted).fits_in(capacity)) continue;
    result = min_each(result, saturating_minus(free, other.wanted));
  }
  return to_resources(result);
}

void Table::take(uint32_t self, const Resources& demand) {
  Amount& held = slot(self).held;
  Amount add = to_amount(demand);
  held = Amount{held.cpu_millis + add.cpu_millis, plus(held.memory, add.memory),
                plus(held.iops, add.iops), plus(held.gpu, add.gpu)};
}

void Table::give_back(uint32_t self, const Resources& demand) {
  Amount& held = slot(self).held;
  held = saturating_minus(held, to_amount(demand));
}

bool Table::wait_for(uint32_t self, const Resources& demand, int64_t priority) {
  Slot& s = slot(self);
  Amount wanted = to_amount(demand);
  bool same = s.ticket != 0 && s.priority == priority &&
              std::memcmp(&s.wanted, &wanted, sizeof wanted) == 0;
  if (same) return false;
  if (s.ticket == 0) s.ticket = header().next_ticket++;
  s.wanted = wanted;
  s.priority = priority;
  return true;
}

bool Table::stop_waiting(uint32_t self) {
  Slot& s = slot(self);
  if (s.ticket == 0) return false;
  s.ticket = 0;
  s.wanted = Amount{};
  s.priority = 0;
  return true;
}

bool Table::anyone_waiting() const {
  for (uint32_t i = 0; i < used(); ++i) {
    if (slot(i).pid != 0 && slot(i).ticket != 0) return true;
  }
  return false;
}

uint32_t Table::reclaim(uint32_t self, const IsAlive& is_alive) {
  uint32_t freed = 0;
  for (uint32_t i = 0; i < used(); ++i) {
    const Slot& s = slot(i);
    if (i == self || s.pid == 0 || is_alive(s.pid, s.start_time)) continue;
    free_slot(i);
    ++freed;
  }
  return freed;
}

}  // namespace wp::ledger
