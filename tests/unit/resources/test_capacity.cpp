// resolve_capacity's rules: an IOPS cap is taken as given, a calibrated
// figure stands in when there is none, and nothing at all means unlimited;
// CPU and memory caps only lower the machine's figures, except a plan's flags.
#include <catch2/catch.hpp>

#include "resources/capacity.h"

using namespace wp;

namespace {

platform::HostCapacity host() {
  platform::HostCapacity h;
  h.cpu = Cores::from_double(4);
  h.memory = Bytes{8} << 30;
  return h;
}

const MeasuredIops kMeasured{1700, "wp calibrate of ext4 at / (device 8:0)"};

}  // namespace

TEST_CASE("capacity: without a cap or a measured figure, IOPS are unlimited", "[capacity]") {
  Capacity c = resolve_capacity(host(), {}, {});
  CHECK(c.total.iops == Resources::kUnlimited);
  CHECK_THAT(c.iops_source, Catch::Contains("not limited"));
}

TEST_CASE("capacity: a calibrated figure is the IOPS capacity when nothing caps it", "[capacity]") {
  Capacity c = resolve_capacity(host(), {}, {}, kMeasured);
  CHECK(c.total.iops == 1700);
  CHECK(c.iops_source == kMeasured.source);
}

TEST_CASE("capacity: a cap wins over a calibrated figure, above or below it", "[capacity]") {
  CapacityCaps flags;
  flags.iops = 5000;
  Capacity above = resolve_capacity(host(), {}, flags, kMeasured);
  CHECK(above.total.iops == 5000);
  CHECK_THAT(above.iops_source, Catch::Contains("--iops") && Catch::Contains("calibrated: 1700"));
  CapacityCaps manifest;
  manifest.iops = 100;
  Capacity below = resolve_capacity(host(), manifest, {}, kMeasured);
  CHECK(below.total.iops == 100);
  CHECK_THAT(below.iops_source, Catch::Contains("[capacity] in the manifest"));
}

TEST_CASE("capacity: a cap never raises the machine's figures; a plan's flags may", "[capacity]") {
  Capacity machine = resolve_capacity(host(), {}, {});
  CapacityCaps flags;
  flags.cpu = Cores::from_double(machine.total.cpu.as_double() * 8);
  flags.memory = machine.total.memory * 8;
  CapacityCaps manifest;
  manifest.cpu = Cores::from_double(1);
  Capacity capped = resolve_capacity(host(), manifest, flags);
  CHECK(capped.total.cpu == machine.total.cpu);
  CHECK(capped.total.memory == machine.total.memory);
  CHECK_THAT(capped.cpu_source, Catch::Contains("more than the machine has"));
  Capacity planned = resolve_capacity(host(), manifest, flags, std::nullopt, true);
  CHECK(planned.total.cpu == *flags.cpu);
  CHECK(planned.total.memory == *flags.memory);
  CHECK_THAT(planned.cpu_source, Catch::Contains("--cpus") && Catch::Contains("machine: "));
  // Without a flag the manifest's cap still only lowers, plan or not.
  Capacity from_manifest = resolve_capacity(host(), manifest, {}, std::nullopt, true);
  CHECK(from_manifest.total.cpu == Cores::from_double(1));
}
