// Quantities: parsing and printing sizes, durations and cores, and Resources
// arithmetic.
#include <chrono>
#include <string>

#include <catch2/catch.hpp>

#include "resources/quantity.h"

using namespace wp;
using namespace std::chrono_literals;

namespace {

Bytes bytes_ok(std::string_view text) {
  Result<Bytes> result = parse_bytes(text);
  INFO(text << ": " << (result ? "" : result.error().message));
  REQUIRE(result);
  return *result;
}

std::string bytes_error(std::string_view text) {
  Result<Bytes> result = parse_bytes(text);
  INFO(text);
  REQUIRE_FALSE(result);
  return result.error().message;
}

std::chrono::milliseconds duration_ok(std::string_view text) {
  auto result = parse_duration(text);
  INFO(text << ": " << (result ? "" : result.error().message));
  REQUIRE(result);
  return *result;
}

std::string duration_error(std::string_view text) {
  auto result = parse_duration(text);
  INFO(text);
  REQUIRE_FALSE(result);
  return result.error().message;
}

constexpr Bytes kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024, kTiB = kGiB * 1024;

}  // namespace

TEST_CASE("parse_bytes: IEC units are binary", "[resources][quantity]") {
  CHECK(bytes_ok("1KiB") == kKiB);
  CHECK(bytes_ok("512MiB") == 512 * kMiB);
  CHECK(bytes_ok("2GiB") == 2 * kGiB);
  CHECK(bytes_ok("1TiB") == kTiB);
  CHECK(bytes_ok("3Ki") == 3 * kKiB);
  CHECK(bytes_ok("3Mi") == 3 * kMiB);
  CHECK(bytes_ok("3Gi") == 3 * kGiB);
  CHECK(bytes_ok("3Ti") == 3 * kTiB);
}

TEST_CASE("parse_bytes: SI units are decimal", "[resources][quantity]") {
  CHECK(bytes_ok("1K") == 1000);
  CHECK(bytes_ok("1KB") == 1000);
  CHECK(bytes_ok("2M") == 2'000'000);
  CHECK(bytes_ok("2MB") == 2'000'000);
  CHECK(bytes_ok("2G") == 2'000'000'000);
  CHECK(bytes_ok("2GB") == 2'000'000'000);
  CHECK(bytes_ok("1T") == 1'000'000'000'000);
  CHECK(bytes_ok("1TB") == 1'000'000'000'000);
}

TEST_CASE("parse_bytes: bare numbers, bytes, case and spacing", "[resources][quantity]") {
  CHECK(bytes_ok("100") == 100);
  CHECK(bytes_ok("100B") == 100);
  CHECK(bytes_ok("100b") == 100);
  CHECK(bytes_ok("0") == 0);
  CHECK(bytes_ok("512mib") == 512 * kMiB);
  CHECK(bytes_ok("512MIB") == 512 * kMiB);
  CHECK(bytes_ok("2gb") == 2'000'000'000);
  CHECK(bytes_ok("2g") == 2'000'000'000);
  CHECK(bytes_ok(" 512 MiB ") == 512 * kMiB);
}

TEST_CASE("parse_bytes: fractions", "[resources][quantity]") {
  CHECK(bytes_ok("1.5GB") == 1'500'000'000);
  CHECK(bytes_ok("1.5GiB") == kGiB + kGiB / 2);
  CHECK(bytes_ok("0.5KiB") == 512);
  CHECK(bytes_ok(".5K") == 500);
}

TEST_CASE("parse_bytes: near the top of the range", "[resources][quantity]") {
  // Above INT64_MAX but below UINT64_MAX: must not go through a signed rounding.
  CHECK(bytes_ok("10000000TB") == 10'000'000'000'000'000'000ull);
  CHECK(bytes_ok("16000000TiB") == 16'000'000ull * kTiB);
  CHECK_THAT(bytes_error("20000000TB"), Catch::Contains("too large"));
}

TEST_CASE("parse_bytes: errors say what is wrong and what to write", "[resources][quantity]") {
  CHECK(bytes_error("2GBs") ==
        "unknown unit 'GBs' in '2GBs'; use B, KiB, MiB, GiB, TiB, KB, MB, GB, TB");
  CHECK_THAT(bytes_error(""), Catch::Contains("is not a size"));
  CHECK_THAT(bytes_error("-1"), Catch::Contains("'-1' is not a size"));
  CHECK_THAT(bytes_error("abc"), Catch::Contains("'abc' is not a size"));
  CHECK_THAT(bytes_error("1.2.3G"), Catch::Contains("is not a size"));
  CHECK_THAT(bytes_error("."), Catch::Contains("is not a size"));
  CHECK_THAT(bytes_error("1e9"), Catch::Contains("unknown unit 'e9'"));
  CHECK_THAT(bytes_error("5 PB"), Catch::Contains("unknown unit 'PB'"));
}

TEST_CASE("parse_duration: units and combinations", "[resources][quantity]") {
  CHECK(duration_ok("90s") == 90s);
  CHECK(duration_ok("10m") == 10min);
  CHECK(duration_ok("1h30m") == 90min);
  CHECK(duration_ok("1h 30m") == 90min);
  CHECK(duration_ok("1.5h") == 90min);
  CHECK(duration_ok("250ms") == 250ms);
  CHECK(duration_ok("2d") == 48h);
  CHECK(duration_ok("1m30s") == 90s);
  CHECK(duration_ok("1H") == 1h);
  CHECK(duration_ok("1MS") == 1ms);
  CHECK(duration_ok("0.5s") == 500ms);
}

TEST_CASE("parse_duration: a bare number is seconds", "[resources][quantity]") {
  CHECK(duration_ok("90") == 90s);
  CHECK(duration_ok("2.5") == 2500ms);
  CHECK(duration_ok(" 7 ") == 7s);
}

TEST_CASE("parse_duration: errors", "[resources][quantity]") {
  CHECK_THAT(duration_error(""), Catch::Contains("is not a duration"));
  CHECK_THAT(duration_error("abc"), Catch::Contains("'abc' is not a duration"));
  CHECK_THAT(duration_error("-5s"), Catch::Contains("is not a duration"));
  CHECK_THAT(duration_error("1h30"), Catch::Contains("is not a duration"));
  CHECK(duration_error("10x") == "unknown unit 'x' in duration '10x'; use ms, s, m, h, d");
  CHECK_THAT(duration_error("10 minutes"), Catch::Contains("unknown unit 'minutes'"));
  CHECK_THAT(duration_error("1h-"), Catch::Contains("is not a duration"));
  CHECK_THAT(duration_error("99999999999999d"), Catch::Contains("too long"));
  // Whole milliseconds: what would round to nothing is refused, not taken
  // as 0 ("off" to --aging); 0 itself is still 0.
  CHECK(duration_error("0.4ms") == "duration '0.4ms' is shorter than 1ms, the finest wp counts");
  CHECK_THAT(duration_error("0.0001s"), Catch::Contains("shorter than 1ms"));
  CHECK(duration_ok("0") == 0ms);
  CHECK(duration_ok("0s") == 0ms);
  CHECK(duration_ok("1ms") == 1ms);
}

TEST_CASE("parse_duration: each unit once, largest first", "[resources][quantity]") {
  CHECK(duration_ok("1d2h3m4s5ms") == 26h + 3min + 4s + 5ms);
  CHECK(duration_ok("1h 0m 30s") == 1h + 30s);
  CHECK(duration_error("1m1m") ==
        "unit 'm' follows 'm' in duration '1m1m'; give each unit once, largest first, e.g. "
        "\"1h30m\"");
  CHECK_THAT(duration_error("30m1h"), Catch::Contains("unit 'h' follows 'm'"));
  CHECK_THAT(duration_error("1s500ms1s"), Catch::Contains("unit 's' follows 'ms'"));
  CHECK_THAT(duration_error("1H1h"), Catch::Contains("unit 'h' follows 'h'"));
}

TEST_CASE("format_bytes picks the largest binary unit", "[resources][quantity]") {
  CHECK(format_bytes(0) == "0 B");
  CHECK(format_bytes(1023) == "1023 B");
  CHECK(format_bytes(kKiB) == "1 KiB");
  CHECK(format_bytes(512 * kMiB) == "512 MiB");
  CHECK(format_bytes(kGiB + kGiB / 2) == "1.5 GiB");
  CHECK(format_bytes(static_cast<Bytes>(23.1 * static_cast<double>(kGiB))) == "23.1 GiB");
  CHECK(format_bytes(64 * kGiB) == "64 GiB");
  CHECK(format_bytes(2048 * kTiB) == "2048 TiB");
  CHECK(format_bytes(Resources::kUnlimited) == "unlimited");
}

TEST_CASE("format_bytes does not print a rounded-up unit boundary", "[resources][quantity]") {
  // 0.99999 GiB printed with one decimal is not "1024.0 MiB".
  CHECK(format_bytes(kGiB - 1) == "1 GiB");
  CHECK(format_bytes(kMiB - 1) == "1 MiB");
  // A whole number after rounding has no ".0".
  CHECK(format_bytes(kGiB + 1) == "1 GiB");
  CHECK(format_bytes(kGiB + kGiB / 50) == "1 GiB");
}

TEST_CASE("format_cores", "[resources][quantity]") {
  CHECK(format_cores(Cores::from_millis(1000)) == "1 core");
  CHECK(format_cores(Cores::from_millis(2000)) == "2 cores");
  CHECK(format_cores(Cores::from_millis(0)) == "0 cores");
  CHECK(format_cores(Cores::from_millis(500)) == "0.5 cores");
  CHECK(format_cores(Cores::from_millis(1250)) == "1.25 cores");
  CHECK(format_cores(Cores::from_millis(1)) == "0.001 cores");
}

TEST_CASE("format_duration and format_seconds", "[resources][quantity]") {
  CHECK(format_duration(250ms) == "250ms");
  CHECK(format_duration(0ms) == "0ms");
  CHECK(format_duration(90s) == "1m30s");
  CHECK(format_duration(1h) == "1h");
  CHECK(format_duration(1h + 5s) == "1h5s");
  CHECK(format_duration(10min) == "10m");
  CHECK(format_seconds(0.42) == "0.42s");
  CHECK(format_seconds(12.34) == "12.3s");
  CHECK(format_seconds(125) == "2m05s");
  CHECK(format_seconds(3725) == "1h02m05s");
}

TEST_CASE("format_resources", "[resources][quantity]") {
  Resources r;
  r.cpu = Cores::from_millis(2000);
  r.memory = kGiB;
  CHECK(format_resources(r) == "cpu 2 cores, memory 1 GiB");
  r.iops = 300;
  r.gpu = 1;
  CHECK(format_resources(r) == "cpu 2 cores, memory 1 GiB, iops 300, gpu 1");
  r.iops = Resources::kUnlimited;
  CHECK(format_resources(r) == "cpu 2 cores, memory 1 GiB, iops unlimited, gpu 1");
  // A demand of no IOPS goes unsaid; a capacity of none (--iops 0) does not.
  r.iops = 0;
  CHECK(format_resources(r) == "cpu 2 cores, memory 1 GiB, gpu 1");
  CHECK(format_capacity(r) == "cpu 2 cores, memory 1 GiB, iops 0, gpu 1");
}

TEST_CASE("Cores round to the nearest milli-core", "[resources][quantity]") {
  CHECK(Cores::from_double(0.1).millis() == 100);
  CHECK(Cores::from_double(1.0005).millis() == 1001);
  CHECK(Cores::from_double(0.0004).millis() == 0);
  CHECK(Cores::from_double(2.5).as_double() == 2.5);
  CHECK(Cores::from_millis(1) < Cores::from_millis(2));
}

TEST_CASE("Cores sums are exact", "[resources][quantity]") {
  Resources total;
  Resources tenth;
  tenth.cpu = Cores::from_double(0.1);
  for (int i = 0; i < 10000; ++i)
    total += tenth;
  CHECK(total.cpu == Cores::from_millis(1'000'000));
  CHECK(total.cpu.as_double() == 1000.0);
  for (int i = 0; i < 10000; ++i)
    total -= tenth;
  CHECK(total.cpu == Cores{});
  CHECK(total == Resources{});
}

TEST_CASE("Resources arithmetic works in every dimension", "[resources][quantity]") {
  Resources a{Cores::from_millis(1500), 2 * kGiB, 100, 1};
  Resources b{Cores::from_millis(500), kGiB, 50, 0};
  Resources sum = a + b;
  CHECK(sum == Resources{Cores::from_millis(2000), 3 * kGiB, 150, 1});
  CHECK(sum - b == a);
  Resources c = a;
  c -= a;
  CHECK(c == Resources{});
}

TEST_CASE("fits_in compares every dimension", "[resources][quantity]") {
  Resources limit{Cores::from_millis(4000), 8 * kGiB, 1000, 1};
  CHECK(Resources{}.fits_in(limit));
  CHECK(limit.fits_in(limit));
  CHECK_FALSE(Resources{Cores::from_millis(4001), 0, 0, 0}.fits_in(limit));
  CHECK_FALSE(Resources{Cores{}, 8 * kGiB + 1, 0, 0}.fits_in(limit));
  CHECK_FALSE(Resources{Cores{}, 0, 1001, 0}.fits_in(limit));
  CHECK_FALSE(Resources{Cores{}, 0, 0, 2}.fits_in(limit));
  Resources unlimited_iops = limit;
  unlimited_iops.iops = Resources::kUnlimited;
  CHECK(Resources{Cores{}, 0, 1'000'000'000, 0}.fits_in(unlimited_iops));
}
