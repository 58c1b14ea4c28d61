#include "ledger/ledger.h"

#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <string_view>
#include <utility>

namespace wp::ledger {
namespace {

bool is_alive(pid_t pid, uint64_t start_time) {
  std::optional<uint64_t> now = platform::process_start_time(pid);
  return now && *now == start_time;
}

}  // namespace

Result<Ledger> Ledger::open(const std::filesystem::path& path, const Resources& capacity) {
  auto file = platform::SharedTable::open(path, table_size(kSlots));
  if (!file) return file.error();
  std::optional<uint64_t> started = platform::process_start_time(::getpid());
  if (!started) return make_error("cannot read this process's start time from /proc");
  file->lock();
  Table table(file->data(), kSlots);
  if (!table.prepare()) {
    file->unlock();
    return make_error("{} is not a ledger of this version of wp; remove it, or set WP_LEDGER=off",
                      path.string());
  }
  std::optional<uint32_t> slot = table.slot_of(::getpid(), *started);
  if (!slot) {
    table.reclaim(kSlots, is_alive);
    slot = table.slot_of(::getpid(), *started);
  }
  file->unlock();
  if (!slot) {
    return make_error("{} is full: {} wp processes hold a place in it", path.string(), kSlots);
  }
  return Ledger(std::move(*file), capacity, *slot);
}

Ledger::Ledger(platform::SharedTable file, Resources capacity, uint32_t slot)
    : file_(std::move(file)), capacity_(capacity), slot_(slot), open_(true) {}

Ledger::Ledger(Ledger&& other) noexcept
    : file_(std::move(other.file_)),
      capacity_(other.capacity_),
      slot_(other.slot_),
      open_(std::exchange(other.open_, false)),
      waiting_(other.waiting_),
      pending_(std::exchange(other.pending_, Resources{})),
      last_reclaim_(other.last_reclaim_) {}

Ledger::~Ledger() {
  if (!open_) return;
  file_.lock();
  Table t = table();
  bool held = to_resources(t.slot(slot_).held) != Resources{} || t.slot(slot_).ticket != 0;
  t.free_slot(slot_);
  if (held && t.anyone_waiting()) wake_others();
  file_.unlock();
}

void Ledger::wake_others() {
  Header& header = table().header();
  ++header.generation;
  file_.write_through(offsetof(Header, generation), &header.generation, sizeof header.generation);
}

void Ledger::release(const Resources& demand) {
  release_later(demand);
  flush();
}

void Ledger::flush() {
  if (pending_ == Resources{}) return;
  file_.lock();
  if (give_back_pending() && table().anyone_waiting()) wake_others();
  file_.unlock();
}

bool Ledger::give_back_pending() {
  if (pending_ == Resources{}) return false;
  table().give_back(slot_, std::exchange(pending_, Resources{}));
  return true;
}

Ledger::Session::Session(Ledger& ledger) : ledger_(ledger) {
  ledger_.file_.lock();
  // What it gave back may be what a waiter waits for.
  if (ledger_.give_back_pending()) wake_others_ = true;
}

Ledger::Session::~Session() {
  if (wake_others_ && ledger_.table().anyone_waiting()) ledger_.wake_others();
  ledger_.file_.unlock();
}

Resources Ledger::Session::available() {
  Table t = ledger_.table();
  Resources room = t.available(ledger_.slot_, ledger_.capacity_);
  Resources unrestricted = ledger_.capacity_ - to_resources(t.slot(ledger_.slot_).held);
  auto now = std::chrono::steady_clock::now();
  if (room == unrestricted || now - ledger_.last_reclaim_ < kReclaimSpacing) return room;
  ledger_.last_reclaim_ = now;
  if (t.reclaim(ledger_.slot_, is_alive) == 0) return room;
  wake_others_ = true;  // what the dead held is free for every waiter
  return t.available(ledger_.slot_, ledger_.capacity_);
}

void Ledger::Session::take(const Resources& demand) {
  Table t = ledger_.table();
  t.take(ledger_.slot_, demand);
  // Those behind it may have waited for it to go first.
  if (t.stop_waiting(ledger_.slot_)) wake_others_ = true;
  ledger_.waiting_ = false;
}

void Ledger::Session::wait_for(const Resources& demand, int64_t priority) {
  ledger_.table().wait_for(ledger_.slot_, demand, priority);
  ledger_.waiting_ = true;
}

void Ledger::Session::stop_waiting() {
  if (ledger_.table().stop_waiting(ledger_.slot_)) wake_others_ = true;
  ledger_.waiting_ = false;
}

Result<std::optional<Ledger>> open_user_ledger(bool off, const Resources& capacity) {
  const char* env = std::getenv("WP_LEDGER");
  if (off || (env != nullptr && std::string_view(env) == "off")) {
    return std::optional<Ledger>();
  }
  auto dir = platform::runtime_dir();
  if (!dir) return dir.error();
  auto ledger = Ledger::open(*dir / kFileName, capacity);
  if (!ledger) return ledger.error();
  return std::optional<Ledger>(std::move(*ledger));
}

}  // namespace wp::ledger
