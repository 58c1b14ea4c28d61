// The JUnit XML report of a run (`wp run --junit`): one testcase per job, in
// the shape the Jenkins/Ant JUnit schema describes, which GitLab, GitHub
// test-report actions, Jenkins and most CI viewers read.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "report/run_report.h"

namespace wp::report {

struct JunitOptions {
  std::string suite;      // the testsuite's name: the manifest as given
  std::string classname;  // every testcase's: the manifest's file name without .toml
  std::string hostname;
  // The tail of an attempt's output for its <failure> or <error>: read by
  // the caller (the report does not read files). Any bytes: they are made
  // safe for XML here.
  std::function<std::string(const Attempt&)> output_tail;
};

// Receives the document in pieces of about 64 KiB, in order: with 100,000
// jobs it is too large to hold whole.
using XmlSink = std::function<void(std::string_view)>;

void write_junit(const RunReport& report, const JunitOptions& options, const XmlSink& sink);

// `text` as XML character data (attribute: also quotes, tabs and line
// breaks, which attribute normalisation would otherwise turn into spaces).
// Bytes that are not UTF-8, and characters XML 1.0 does not allow (control
// characters but tab and line breaks, U+FFFE, U+FFFF), become U+FFFD.
std::string xml_escape(std::string_view text, bool attribute);

// "2026-11-24T06:50:12": local time without a zone, as Ant writes it and
// its schema requires.
std::string junit_timestamp(Clock::time_point time);

}  // namespace wp::report
