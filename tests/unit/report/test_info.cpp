// `wp info` text and JSON from a given host: the cgroup lines, and the hint
// about favordynmods that only a cgroup v1 machine without it gets.
#include <catch2/catch.hpp>

#include <string>

#include "report/info.h"

using namespace wp;
using namespace wp::report;

namespace {

platform::HostCapacity host_with(int version, bool favordynmods) {
  platform::HostCapacity host;
  host.host_cpus = Cores::from_double(2);
  host.host_memory = Bytes{4} << 30;
  host.cgroup.version = version;
  host.cgroup.layout = version == 1 ? "cgroup v1" : "cgroup v2 (unified)";
  host.cgroup.path = "/batch";
  host.cgroup.favordynmods = favordynmods;
  return host;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const std::string kHint = "favordynmods off: every job start takes a machine-wide lock";

}  // namespace

TEST_CASE("wp info: the favordynmods hint on cgroup v1 only, and only without it", "[info]") {
  Capacity capacity;
  platform::Utilisation now;

  std::string v1_without = info_text(capacity, host_with(1, false), now);
  INFO(v1_without);
  CHECK(has(v1_without, "cgroup    cgroup v1, this process in /batch\n          " + kHint));
  CHECK(has(v1_without, "(see wp-run(1), MEASUREMENT)\ncontainer "));

  CHECK_FALSE(has(info_text(capacity, host_with(1, true), now), "favordynmods"));
  // On v2 jobs are created inside their cgroup: no lock to speak of.
  CHECK_FALSE(has(info_text(capacity, host_with(2, false), now), "favordynmods"));

  CHECK(has(info_json(capacity, host_with(1, false), now), "\"favordynmods\": false"));
  CHECK(has(info_json(capacity, host_with(2, true), now), "\"favordynmods\": true"));
}
