// AttemptList's encoding. The bytes never leave the process: fields are
// copied in host order. One list of fields (fields_of) drives both the
// writer and the reader, so the two cannot disagree on the order.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <type_traits>

#include "report/run_report.h"

namespace wp::report {
namespace {

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  template <typename T>
  requires std::is_arithmetic_v<T>
  void operator()(const T& value) {
    out_.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  void operator()(const Clock::time_point& time) {
    (*this)(static_cast<int64_t>(time.time_since_epoch().count()));
  }
  void operator()(const std::chrono::milliseconds& duration) {
    (*this)(static_cast<int64_t>(duration.count()));
  }
  void operator()(const Cores& cores) { (*this)(cores.millis()); }
  // Most are empty: a length of one byte, then the text.
  void operator()(const std::string& text) {
    if (text.size() < 0xff) {
      (*this)(static_cast<uint8_t>(text.size()));
    } else {
      (*this)(uint8_t{0xff});
      (*this)(static_cast<uint64_t>(text.size()));
    }
    out_.append(text);
  }
  void operator()(const std::filesystem::path& path) { (*this)(path.native()); }
  template <typename T>
  void operator()(const std::optional<T>& maybe) {
    (*this)(maybe.has_value());
    if (maybe) (*this)(*maybe);
  }

 private:
  std::string& out_;
};

class Reader {
 public:
  Reader(const std::string& in, size_t offset) : in_(in), at_(offset) {}

  template <typename T>
  requires std::is_arithmetic_v<T>
  void operator()(T& value) {
    std::memcpy(&value, in_.data() + at_, sizeof value);
    at_ += sizeof value;
  }
  void operator()(Clock::time_point& time) {
    int64_t ticks = 0;
    (*this)(ticks);
    time = Clock::time_point(Clock::duration(ticks));
  }
  void operator()(std::chrono::milliseconds& duration) {
    int64_t count = 0;
    (*this)(count);
    duration = std::chrono::milliseconds(count);
  }
  void operator()(Cores& cores) {
    int64_t millis = 0;
    (*this)(millis);
    cores = Cores::from_millis(millis);
  }
  void operator()(std::string& text) {
    uint8_t short_size = 0;
    (*this)(short_size);
    uint64_t size = short_size;
    if (short_size == 0xff) (*this)(size);
    text.assign(in_.data() + at_, size);
    at_ += size;
  }
  void operator()(std::filesystem::path& path) {
    std::string text;
    (*this)(text);
    path = std::move(text);
  }
  template <typename T>
  void operator()(std::optional<T>& maybe) {
    bool present = false;
    (*this)(present);
    maybe.reset();
    if (!present) return;
    T value{};
    (*this)(value);
    maybe = std::move(value);
  }

 private:
  const std::string& in_;
  size_t at_;
};

// Every field of an Attempt, in encoding order: a field added to Attempt
// must be added here too (the round-trip test sets every field).
template <typename Io, typename A>
void fields_of(Io& io, A& a) {
  io(a.number);
  io(a.started);
  io(a.ended);
  io(a.exit_code);
  io(a.signal);
  io(a.timed_out);
  io(a.timeout);
  io(a.interrupted);
  io(a.spawn_error);
  io(a.stdout_log);
  io(a.stderr_log);
  auto& u = a.usage;
  io(u.method);
  io(u.peak_memory);
  io(u.cpu_seconds);
  io(u.user_seconds);
  io(u.system_seconds);
  io(u.average_cores);
  io(u.peak_cores);
  io(u.read_ops);
  io(u.write_ops);
  io(u.read_bytes);
  io(u.write_bytes);
  io(u.read_calls);
  io(u.write_calls);
  io(u.oom_killed);
  io(a.limits.memory);
  io(a.limits.cpu);
  io(a.limits.iops);
  io(a.admitted.cpu);
  io(a.admitted.memory);
  io(a.admitted.iops);
  io(a.admitted.gpu);
  io(a.requeued);
  io(a.memory_retry);
  io(a.suspensions);
}

using Length = uint32_t;

Length length_at(const std::string& bytes, size_t offset) {
  Length length = 0;
  std::memcpy(&length, bytes.data() + offset, sizeof length);
  return length;
}

}  // namespace

Attempt AttemptList::Iterator::operator*() const {
  Attempt attempt;
  Reader reader(*bytes_, offset_ + sizeof(Length));
  fields_of(reader, attempt);
  return attempt;
}

AttemptList::Iterator& AttemptList::Iterator::operator++() {
  offset_ += sizeof(Length) + length_at(*bytes_, offset_);
  return *this;
}

void AttemptList::push_back(const Attempt& attempt) {
  std::string encoded;
  Writer writer(encoded);
  fields_of(writer, attempt);
  Writer prefix(bytes_);
  prefix(static_cast<Length>(encoded.size()));
  bytes_.append(encoded);
}

// A job has one attempt, or a few: walking them is cheaper than counting
// them in every job's report.
size_t AttemptList::size() const {
  size_t count = 0;
  for (Iterator it = begin(); it != end(); ++it)
    ++count;
  return count;
}

Attempt AttemptList::back() const {
  Iterator last = begin();
  for (Iterator it = begin(); it != end(); ++it)
    last = it;
  return *last;
}

}  // namespace wp::report
