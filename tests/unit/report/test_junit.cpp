// JUnit XML: text made safe for XML whatever bytes a job wrote, and the
// verdict of each job.
#include <catch2/catch.hpp>

#include "report/junit.h"

using namespace wp;
using namespace wp::report;

TEST_CASE("xml_escape: markup and the end of a CDATA section", "[report][junit]") {
  CHECK(xml_escape("a<b & c]]>d", false) == "a&lt;b &amp; c]]&gt;d");
  CHECK(xml_escape("say \"hi\"\n\tnow\r", false) == "say \"hi\"\n\tnow&#13;");
  // Attribute normalisation would make spaces of tabs and line breaks.
  CHECK(xml_escape("say \"hi\"\n\tnow\r", true) == "say &quot;hi&quot;&#10;&#9;now&#13;");
}

TEST_CASE("xml_escape: what XML cannot hold becomes U+FFFD", "[report][junit]") {
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(xml_escape("a\x01"
                   "b\x1b[31mc\x7f",
                   false) == "a" + fffd + "b" + fffd + "[31mc\x7f");
  CHECK(xml_escape("\xff\xfe", false) == fffd + fffd);
  CHECK(xml_escape("cut \xC3", false) == "cut " + fffd);           // a truncated character
  CHECK(xml_escape("\xC0\xAF", false) == fffd + fffd);             // overlong '/'
  CHECK(xml_escape("\xED\xA0\x80", false) == fffd + fffd + fffd);  // a UTF-16 surrogate
  CHECK(xml_escape("\xEF\xBF\xBE", false) == fffd + fffd + fffd);  // U+FFFE
  CHECK(xml_escape("\xF4\x90\x80\x80", false) == fffd + fffd + fffd + fffd);  // past U+10FFFF
  // Valid UTF-8 stays as it is, up to four bytes.
  CHECK(xml_escape("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", false) ==
        "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
}

namespace {

Attempt attempt_with(int exit_code) {
  Attempt a;
  a.started = Clock::time_point(std::chrono::seconds(1'800'000'000));
  a.ended = a.started + std::chrono::milliseconds(1500);
  a.exit_code = exit_code;
  return a;
}

std::string junit_of(const RunReport& report) {
  std::string xml;
  JunitOptions options{"ci/jobs.toml", "jobs", "host", [](const Attempt&) { return "tail\n"; }};
  write_junit(report, options, [&xml](std::string_view piece) { xml += piece; });
  return xml;
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("junit: failures ran, errors could not, skipped with their reason", "[report][junit]") {
  RunReport report;
  report.started = Clock::time_point(std::chrono::seconds(1'800'000'000));
  report.ended = report.started + std::chrono::seconds(4);
  JobReport ok{"ok", {}, JobStatus::Ok, "", {}};
  ok.attempts.push_back(attempt_with(0));
  JobReport failed{"failed", {}, JobStatus::Failed, "", {}};
  failed.attempts.push_back(attempt_with(1));
  failed.attempts.push_back(attempt_with(2));
  JobReport unstartable{"unstartable", {}, JobStatus::Failed, "command not found: 'mk'", {}};
  Attempt spawn = attempt_with(0);
  spawn.exit_code.reset();
  spawn.spawn_error = "command not found: 'mk'";
  unstartable.attempts.push_back(spawn);
  JobReport skipped{"skipped", {}, JobStatus::Skipped, "dependency 'failed' failed", {}};
  report.jobs = {ok, failed, unstartable, skipped};

  std::string xml = junit_of(report);
  INFO(xml);
  CHECK(contains(xml, "tests=\"4\" failures=\"1\" errors=\"1\" skipped=\"1\" time=\"4.000\""));
  CHECK(contains(xml, "<testcase name=\"ok\" classname=\"jobs\" time=\"1.500\"/>"));
  CHECK(contains(xml,
                 "<failure message=\"exit 2 after 1.50s (2 attempts)\" type=\"exit\">"
                 "tail\n</failure>"));
  CHECK(contains(xml, "<error message=\"command not found: 'mk'\" type=\"spawn\">"));
  CHECK(contains(xml, "<skipped message=\"dependency 'failed' failed\"/>"));
  CHECK(contains(xml, "<testsuite name=\"ci/jobs.toml\""));
}
