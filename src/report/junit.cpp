#include "report/junit.h"

#include <ctime>

#include <fmt/format.h>

#include "platform/process.h"
#include "resources/quantity.h"

namespace wp::report {
namespace {

constexpr size_t kFlushSize = 64 * 1024;
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// The length of the UTF-8 sequence at the start of `text` if it is a valid
// one that XML allows, else 0.
size_t valid_sequence(std::string_view text) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  auto continuation = [&](size_t i) { return i < text.size() && (byte(i) & 0xC0) == 0x80; };
  unsigned char lead = byte(0);
  if (lead < 0x80) return lead >= 0x20 || lead == '\t' || lead == '\n' || lead == '\r' ? 1 : 0;
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (!continuation(1) || !continuation(2)) return 0;
    uint32_t code = (lead & 0x0Fu) << 12 | (byte(1) & 0x3Fu) << 6 | (byte(2) & 0x3Fu);
    bool overlong = code < 0x800;
    bool surrogate = code >= 0xD800 && code <= 0xDFFF;
    return overlong || surrogate || code == 0xFFFE || code == 0xFFFF ? 0 : 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    uint32_t code = (lead & 0x07u) << 18 | (byte(1) & 0x3Fu) << 12;
    return code < 0x10000 || code > 0x10FFFF ? 0 : 4;
  }
  return 0;
}

void append_escaped(std::string& out, char c, bool attribute) {
  switch (c) {
    case '&':
      out += "&amp;";
      return;
    case '<':
      out += "&lt;";
      return;
    case '>':  // always: "]]>" may not appear in character data
      out += "&gt;";
      return;
    case '\r':  // a parser turns a raw CR into LF
      out += "&#13;";
      return;
    case '"':
      out += attribute ? "&quot;" : "\"";
      return;
    case '\n':
      out += attribute ? "&#10;" : "\n";
      return;
    case '\t':
      out += attribute ? "&#9;" : "\t";
      return;
    default:
      out += c;
  }
}

// The counts a <testsuite> carries. Failures ran and did not succeed;
// errors did not run to their end (could not start, or were interrupted).
struct SuiteCounts {
  size_t tests = 0, failures = 0, errors = 0, skipped = 0;
};

enum class Verdict { Passed, Failure, Error, Skipped };

Verdict verdict_of(const JobReport& job, const Attempt* last) {
  switch (job.status) {
    case JobStatus::Ok:
      return Verdict::Passed;
    case JobStatus::Skipped:
      return Verdict::Skipped;
    case JobStatus::Interrupted:
      return Verdict::Error;
    case JobStatus::Failed:
    case JobStatus::TimedOut:
      break;
  }
  return last != nullptr && last->spawn_error.empty() ? Verdict::Failure : Verdict::Error;
}

// The `type` attribute: what kind of failure, for viewers that group them.
const char* failure_type(const Attempt& a) {
  if (!a.spawn_error.empty()) return "spawn";
  if (a.interrupted) return "interrupted";
  if (a.timed_out) return "timeout";
  if (a.usage.oom_killed) return "oom";
  if (a.signal) return "signal";
  return "exit";
}

class JunitWriter {
 public:
  JunitWriter(const RunReport& report, const JunitOptions& options, const XmlSink& sink)
      : report_(report), options_(options), sink_(sink) {}

  void write() {
    SuiteCounts counts = count();
    std::string totals = fmt::format(
        "tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3f}\"", counts.tests,
        counts.failures, counts.errors, counts.skipped, report_.wall_seconds());
    out_ += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out_ += fmt::format("<testsuites name=\"wp\" {}>\n", totals);
    out_ += fmt::format("  <testsuite name=\"{}\" {} timestamp=\"{}\" hostname=\"{}\">\n",
                        attr(options_.suite), totals, junit_timestamp(report_.started),
                        attr(options_.hostname));
    write_properties();
    for (const JobReport& job : report_.jobs) {
      write_testcase(job);
      if (out_.size() >= kFlushSize) flush();
    }
    out_ += "  </testsuite>\n</testsuites>\n";
    flush();
  }

 private:
  static std::string attr(std::string_view text) { return xml_escape(text, true); }

  SuiteCounts count() const {
    SuiteCounts counts;
    for (const JobReport& job : report_.jobs) {
      ++counts.tests;
      std::optional<Attempt> last;
      if (!job.attempts.empty()) last = job.attempts.back();
      switch (verdict_of(job, last ? &*last : nullptr)) {
        case Verdict::Failure:
          ++counts.failures;
          break;
        case Verdict::Error:
          ++counts.errors;
          break;
        case Verdict::Skipped:
          ++counts.skipped;
          break;
        case Verdict::Passed:
          break;
      }
    }
    return counts;
  }

  void write_properties() {
    out_ += "    <properties>\n";
    property("run_id", report_.run_id);
    property("run_dir", report_.run_dir.string());
    if (report_.interrupted_by) {
      property("interrupted_by", platform::signal_name(*report_.interrupted_by));
    }
    out_ += "    </properties>\n";
  }

  void property(std::string_view name, std::string_view value) {
    out_ += fmt::format("      <property name=\"{}\" value=\"{}\"/>\n", name, attr(value));
  }

  void write_testcase(const JobReport& job) {
    std::optional<Attempt> last;
    if (!job.attempts.empty()) last = job.attempts.back();
    out_ +=
        fmt::format("    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3f}\"", attr(job.name),
                    attr(options_.classname), last ? last->wall_seconds() : 0.0);
    Verdict verdict = verdict_of(job, last ? &*last : nullptr);
    if (verdict == Verdict::Passed) {
      out_ += "/>\n";
      return;
    }
    out_ += ">\n";
    if (verdict == Verdict::Skipped) {
      out_ += fmt::format("      <skipped message=\"{}\"/>\n", attr(job.reason));
    } else {
      write_problem(verdict == Verdict::Failure ? "failure" : "error", job, last);
    }
    out_ += "    </testcase>\n";
  }

  // <failure> or <error>: what happened in the message, the tail of the
  // output in the body.
  void write_problem(std::string_view element, const JobReport& job,
                     const std::optional<Attempt>& last) {
    std::string message = last ? describe(job, *last) : job.reason;
    std::string type = last ? failure_type(*last) : "interrupted";
    if (job.status == JobStatus::Interrupted) {
      std::string signal = report_.interrupted_by
                               ? " by " + platform::signal_name(*report_.interrupted_by)
                               : std::string();
      // A job whose last attempt had failed was waiting to be retried.
      message = last && !last->interrupted
                    ? fmt::format("interrupted{} before its retry; {}", signal, message)
                    : "interrupted" + signal;
      type = "interrupted";
    }
    std::string body = last ? problem_body(*last) : std::string();
    out_ += fmt::format("      <{} message=\"{}\" type=\"{}\">{}</{}>\n", element, attr(message),
                        type, xml_escape(body, false), element);
  }

  std::string describe(const JobReport& job, const Attempt& last) const {
    std::string what = last.describe();
    if (last.spawn_error.empty() && !last.interrupted) {
      what += " after " + format_seconds(last.wall_seconds());
    }
    if (job.attempts.size() > 1) what += fmt::format(" ({} attempts)", job.attempts.size());
    return what;
  }

  std::string problem_body(const Attempt& last) const {
    std::string body;
    if (!last.main_log().empty()) body = "log: " + last.main_log().string() + "\n";
    if (options_.output_tail) body += options_.output_tail(last);
    return body;
  }

  void flush() {
    sink_(out_);
    out_.clear();
  }

  const RunReport& report_;
  const JunitOptions& options_;
  const XmlSink& sink_;
  std::string out_;
};

}  // namespace

std::string xml_escape(std::string_view text, bool attribute) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    size_t length = valid_sequence(text);
    if (length == 0) {
      out += kReplacement;
      text.remove_prefix(1);
    } else if (length == 1) {
      append_escaped(out, text[0], attribute);
      text.remove_prefix(1);
    } else {
      out.append(text.substr(0, length));
      text.remove_prefix(length);
    }
  }
  return out;
}

std::string junit_timestamp(Clock::time_point time) {
  std::time_t seconds = Clock::to_time_t(time);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  return stamp;
}

void write_junit(const RunReport& report, const JunitOptions& options, const XmlSink& sink) {
  JunitWriter(report, options, sink).write();
}

}  // namespace wp::report
