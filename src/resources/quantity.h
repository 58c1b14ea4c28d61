// Value types for the resources wp packs: cores, bytes of memory, I/O
// operations per second and GPUs. Parsed and printed here and nowhere else.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "util/result.h"

namespace wp {

// CPU in thousandths of a core. Integer arithmetic keeps the tracker's sums
// exact: adding and removing 0.1 cores a million times must return to zero.
class Cores {
 public:
  // The range a demand or a cap may take; milli-core precision, and far
  // below the int64 milli-cores could hold.
  static constexpr double kMin = 0.001;
  static constexpr double kMax = 1e6;

  constexpr Cores() = default;
  static constexpr Cores from_millis(int64_t millis) { return Cores(millis); }
  static Cores from_double(double cores);  // rounds to the nearest milli-core
  constexpr int64_t millis() const { return millis_; }
  double as_double() const { return static_cast<double>(millis_) / 1000.0; }
  constexpr auto operator<=>(const Cores&) const = default;

 private:
  constexpr explicit Cores(int64_t millis) : millis_(millis) {}
  int64_t millis_ = 0;
};

using Bytes = uint64_t;
using Iops = uint64_t;
using Gpus = uint32_t;

// A demand or a capacity in every dimension wp tracks.
struct Resources {
  static constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();

  Cores cpu;
  Bytes memory = 0;
  Iops iops = 0;
  Gpus gpu = 0;

  Resources& operator+=(const Resources& other);
  Resources& operator-=(const Resources& other);  // asserts no dimension goes negative
  friend bool operator==(const Resources&, const Resources&) = default;

  // True when every dimension of this demand is at most the matching one of `limit`.
  bool fits_in(const Resources& limit) const;
};

Resources operator+(Resources a, const Resources& b);
Resources operator-(Resources a, const Resources& b);

// "512MiB", "2G", "1.5GB", "100" (bytes). K/M/G/T and KB/MB/GB/TB are decimal
// (SI), Ki/Mi/Gi/Ti and KiB/MiB/GiB/TiB binary (IEC); units are case-insensitive.
Result<Bytes> parse_bytes(std::string_view text);
// "90s", "10m", "1h30m", "1.5h", "250ms", "2d"; a bare number is seconds.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

// Human-readable figures: "1.5 GiB", "512 MiB", "2 cores", "0.5 cores", "1m30s".
std::string format_bytes(Bytes bytes);
std::string format_cores(Cores cores);
std::string format_duration(std::chrono::milliseconds duration);
std::string format_seconds(double seconds);  // "0.42s", "12.3s", "2m05s"
// "cpu 2 cores, memory 1 GiB, iops 300, gpu 1"; zero iops and gpu are left out.
std::string format_resources(const Resources& resources);
// The same for a capacity, where no IOPS at all (--iops 0) is said too.
std::string format_capacity(const Resources& capacity);

}  // namespace wp
