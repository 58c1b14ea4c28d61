#include "resources/quantity.h"

#include <array>
#include <cassert>
#include <cctype>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace wp {

Cores Cores::from_double(double cores) {
  return Cores(std::llround(cores * 1000.0));
}

Resources& Resources::operator+=(const Resources& other) {
  cpu = Cores::from_millis(cpu.millis() + other.cpu.millis());
  memory += other.memory;
  iops += other.iops;
  gpu += other.gpu;
  return *this;
}

Resources& Resources::operator-=(const Resources& other) {
  assert(other.fits_in(*this) && "releasing more than was acquired");
  cpu = Cores::from_millis(cpu.millis() - other.cpu.millis());
  memory -= other.memory;
  iops -= other.iops;
  gpu -= other.gpu;
  return *this;
}

bool Resources::fits_in(const Resources& limit) const {
  return cpu <= limit.cpu && memory <= limit.memory && iops <= limit.iops && gpu <= limit.gpu;
}

Resources operator+(Resources a, const Resources& b) {
  return a += b;
}
Resources operator-(Resources a, const Resources& b) {
  return a -= b;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits "1.5GiB" into 1.5 and "GiB". Returns false when no number leads.
bool split_number(std::string_view s, double& number, std::string_view& unit) {
  size_t end = 0;
  while (end < s.size() && (std::isdigit(static_cast<unsigned char>(s[end])) || s[end] == '.')) {
    ++end;
  }
  if (end == 0) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + end, number);
  if (ec != std::errc() || ptr != s.data() + end) return false;
  unit = trim(s.substr(end));
  return true;
}

struct Unit {
  std::string_view name;
  double factor;
};

constexpr std::array<Unit, 18> kByteUnits{{
    {"", 1},
    {"b", 1},
    {"k", 1e3},
    {"kb", 1e3},
    {"m", 1e6},
    {"mb", 1e6},
    {"g", 1e9},
    {"gb", 1e9},
    {"t", 1e12},
    {"tb", 1e12},
    {"ki", 1024.0},
    {"kib", 1024.0},
    {"mi", 1024.0 * 1024},
    {"mib", 1024.0 * 1024},
    {"gi", 1024.0 * 1024 * 1024},
    {"gib", 1024.0 * 1024 * 1024},
    {"ti", 1024.0 * 1024 * 1024 * 1024},
    {"tib", 1024.0 * 1024 * 1024 * 1024},
}};

}  // namespace

Result<Bytes> parse_bytes(std::string_view text) {
  std::string_view s = trim(text);
  double number = 0;
  std::string_view unit;
  if (!split_number(s, number, unit)) {
    return make_error("'{}' is not a size; write a number and a unit, e.g. \"512MiB\" or \"2GB\"",
                      text);
  }
  std::string key = lower(unit);
  for (const Unit& u : kByteUnits) {
    if (u.name != key) continue;
    double bytes = number * u.factor;
    if (bytes >= 1.8e19) return make_error("'{}' is too large", text);
    // Not llround: sizes above INT64_MAX are valid Bytes but overflow long long.
    return static_cast<Bytes>(std::round(bytes));
  }
  return make_error("unknown unit '{}' in '{}'; use B, KiB, MiB, GiB, TiB, KB, MB, GB, TB", unit,
                    text);
}

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::string_view s = trim(text);
  auto not_a_duration = [&] {
    return make_error("'{}' is not a duration; write e.g. \"90s\", \"10m\" or \"1h30m\"", text);
  };
  if (s.empty()) return not_a_duration();
  double total_ms = 0;
  // "1h30m" reads as a sum; "30m1h" and "1m1m" are more likely slips than
  // sums, so each unit must be smaller than the one before it.
  double previous_factor = 0;
  std::string previous_unit;
  for (bool first = true; !s.empty(); first = false) {
    double number = 0;
    std::string_view rest;
    if (!split_number(s, number, rest)) return not_a_duration();
    size_t unit_len = 0;
    while (unit_len < rest.size() && std::isalpha(static_cast<unsigned char>(rest[unit_len]))) {
      ++unit_len;
    }
    std::string unit = lower(rest.substr(0, unit_len));
    s = trim(rest.substr(unit_len));
    double factor = 0;
    if (unit.empty()) {
      if (!first || !s.empty()) return not_a_duration();  // "90" alone means seconds
      factor = 1000;
    } else if (unit == "ms") {
      factor = 1;
    } else if (unit == "s") {
      factor = 1000;
    } else if (unit == "m") {
      factor = 60'000;
    } else if (unit == "h") {
      factor = 3'600'000;
    } else if (unit == "d") {
      factor = 86'400'000;
    } else {
      return make_error("unknown unit '{}' in duration '{}'; use ms, s, m, h, d", unit, text);
    }
    if (!first && factor >= previous_factor) {
      return make_error(
          "unit '{}' follows '{}' in duration '{}'; give each unit once, largest "
          "first, e.g. \"1h30m\"",
          unit, previous_unit, text);
    }
    previous_factor = factor;
    previous_unit = unit;
    total_ms += number * factor;
  }
  if (total_ms > 1e15) return make_error("duration '{}' is too long", text);
  // Durations are whole milliseconds: one that would round to nothing is
  // refused rather than taken as 0, which means "off" to some options.
  if (total_ms > 0 && total_ms < 1) {
    return make_error("duration '{}' is shorter than 1ms, the finest wp counts", text);
  }
  return std::chrono::milliseconds(std::llround(total_ms));
}

std::string format_bytes(Bytes bytes) {
  if (bytes == Resources::kUnlimited) return "unlimited";
  constexpr std::array<const char*, 5> kNames{"B", "KiB", "MiB", "GiB", "TiB"};
  // Rounded to the one decimal shown before choosing the unit, so that
  // 1 GiB - 1 B reads "1 GiB", not "1024.0 MiB", and 1.02 GiB "1 GiB".
  auto shown = [](double value) { return std::round(value * 10) / 10; };
  double value = static_cast<double>(bytes);
  size_t i = 0;
  while (shown(value) >= 1024 && i + 1 < kNames.size()) {
    value /= 1024;
    ++i;
  }
  if (i == 0) return fmt::format("{} B", bytes);
  value = shown(value);
  if (value == std::floor(value)) return fmt::format("{:.0f} {}", value, kNames[i]);
  return fmt::format("{:.1f} {}", value, kNames[i]);
}

std::string format_cores(Cores cores) {
  if (cores.millis() % 1000 == 0) {
    int64_t n = cores.millis() / 1000;
    return fmt::format("{} {}", n, n == 1 ? "core" : "cores");
  }
  std::string s = fmt::format("{:.3f}", cores.as_double());
  while (s.back() == '0')
    s.pop_back();
  return s + " cores";
}

std::string format_duration(std::chrono::milliseconds duration) {
  int64_t ms = duration.count();
  if (ms < 1000) return fmt::format("{}ms", ms);
  int64_t total_s = ms / 1000;
  int64_t h = total_s / 3600, m = (total_s % 3600) / 60, s = total_s % 60;
  std::string out;
  if (h) out += fmt::format("{}h", h);
  if (m) out += fmt::format("{}m", m);
  if (s || out.empty()) out += fmt::format("{}s", s);
  return out;
}

std::string format_seconds(double seconds) {
  if (seconds < 10) return fmt::format("{:.2f}s", seconds);
  if (seconds < 60) return fmt::format("{:.1f}s", seconds);
  auto total = static_cast<int64_t>(seconds);
  if (total < 3600) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}h{:02}m{:02}s", total / 3600, (total % 3600) / 60, total % 60);
}

namespace {

std::string format_with(const Resources& r, bool zero_iops) {
  std::string out = fmt::format("cpu {}, memory {}", format_cores(r.cpu), format_bytes(r.memory));
  if (r.iops == Resources::kUnlimited)
    out += ", iops unlimited";
  else if (r.iops || zero_iops)
    out += fmt::format(", iops {}", r.iops);
  if (r.gpu) out += fmt::format(", gpu {}", r.gpu);
  return out;
}

}  // namespace

std::string format_resources(const Resources& r) {
  return format_with(r, false);
}

std::string format_capacity(const Resources& r) {
  return format_with(r, true);
}

}  // namespace wp
