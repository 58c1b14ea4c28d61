// The IOPS probe on the real machine: short, so it measures little, but it
// must measure something and leave nothing behind.
#include <unistd.h>

#include <filesystem>

#include <catch2/catch.hpp>

#include "platform/iops_probe.h"

using namespace wp;
using namespace wp::platform;

TEST_CASE("iops probe: /tmp for 0.3 s gives both figures and removes its file", "[platform]") {
  namespace fs = std::filesystem;
  std::string name = (fs::temp_directory_path() / "wp-iops-XXXXXX").string();
  REQUIRE(::mkdtemp(name.data()) != nullptr);
  fs::path dir = name;
  IopsProbeOptions options;
  options.dir = dir;
  options.duration = std::chrono::duration<double>(0.3);
  options.file_size = 8ull << 20;
  auto measured = probe_iops(options);
  INFO((measured ? measured->note : measured.error().message));
  REQUIRE(measured);
  CHECK(measured->read_iops > 0);
  CHECK(measured->write_iops > 0);
  CHECK(measured->seconds > 0.2);
  CHECK(!measured->filesystem.empty());
  CHECK(measured->device == filesystem_device(dir).value());
  CHECK(fs::is_empty(dir));
  fs::remove_all(dir);
}

TEST_CASE("iops probe: a missing directory is an error naming it", "[platform]") {
  IopsProbeOptions options;
  options.dir = "/nonexistent/wp-iops";
  auto measured = probe_iops(options);
  REQUIRE(!measured);
  CHECK_THAT(measured.error().message, Catch::Contains("/nonexistent/wp-iops"));
}
