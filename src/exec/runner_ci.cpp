// The runner's output for CI systems (--ci-format github|gitlab): each
// attempt's output as one block when it ends, and an annotation for each job
// that failed, pointing at its table in the manifest.
#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "exec/output.h"
#include "exec/runner_internal.h"
#include "report/ci_format.h"
#include "report/summary.h"
#include "util/console.h"

namespace wp::exec::detail {
namespace {

// Lines of the failed job's output an annotation carries: enough to see the
// error where GitHub shows it, in the summary of the workflow run, without
// opening the log.
constexpr size_t kAnnotationTailLines = 10;
constexpr size_t kAnnotationTailBytes = 4096;

int64_t unix_seconds(report::Clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

// "build: ok in 1.20s", "test-2 (attempt 2): exit 1 after 0.31s"
std::string block_title(const std::string& name, const Attempt& attempt) {
  std::string title = name;
  if (attempt.number > 1) title += fmt::format(" (attempt {})", attempt.number);
  if (attempt.succeeded()) return title + ": ok in " + format_seconds(attempt.wall_seconds());
  title += ": " + attempt.describe();
  if (attempt.spawn_error.empty()) title += " after " + format_seconds(attempt.wall_seconds());
  if (attempt.requeued) title += " (requeued)";
  return title;
}

}  // namespace

void Runner::show_block(size_t job, const Attempt& attempt) {
  if (options_.ci_format == report::CiFormat::Plain) return;
  // --quiet shows only what failed; a requeued attempt was not the job's fault.
  if (options_.quiet && (attempt.succeeded() || attempt.requeued)) return;
  const std::string& name = manifest_.jobs[job].name;
  report::Block block{block_title(name, attempt), report::gitlab_section_name(name, attempt.number),
                      unix_seconds(attempt.started), unix_seconds(attempt.ended)};
  int fd = options_.job_stdout_fd;
  console::before_output(fd);
  bool written = write_all(fd, report::begin_block(options_.ci_format, block));
  // Standard output, then standard error: the logs do not say how the two
  // interleaved.
  for (const std::filesystem::path* log : {&attempt.stdout_log, &attempt.stderr_log}) {
    if (log->empty()) continue;
    // The block's closing line must start a line of its own, or GitHub
    // takes "::endgroup::" as part of the job's last line.
    char last = '\n';
    written = written && copy_file_to(log->string(), fd, &last);
    if (written && last != '\n') written = write_all(fd, "\n");
  }
  written = written && write_all(fd, report::end_block(options_.ci_format, block));
  if (!written) log_->warn("cannot show the output of {}: {}", name, std::strerror(errno));
}

void Runner::annotate_failure(size_t job, const Attempt& attempt) {
  if (options_.ci_format != report::CiFormat::Github || attempt.interrupted) return;
  const manifest::Job& spec = manifest_.jobs[job];
  std::string message = attempt.describe();
  if (attempt.spawn_error.empty()) message += " after " + format_seconds(attempt.wall_seconds());
  if (!attempt.main_log().empty()) {
    message += "; log: " + report::display_path(attempt.main_log());
    std::string tail =
        tail_text(attempt.main_log().string(), kAnnotationTailLines, kAnnotationTailBytes);
    if (!tail.empty() && tail.back() == '\n') tail.pop_back();
    if (!tail.empty()) message += "\n" + tail;
  }
  report::Annotation annotation{
      options_.annotation_file.empty() ? manifest_.path.string() : options_.annotation_file,
      spec.table_pos.line, spec.table_pos.column, "wp: job " + spec.name + " failed", message};
  console::before_output(options_.job_stdout_fd);
  write_all(options_.job_stdout_fd, report::github_error(annotation));
}

}  // namespace wp::exec::detail
