#include "util/log.h"

#include <cstdio>

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>

#include "util/console.h"

namespace wp::log {
namespace {

spdlog::level::level_enum g_level = spdlog::level::info;
bool g_colour = false;

// Plain lines to stderr, warnings and errors coloured when asked. Not
// spdlog's colour sink: it colours every level (info in green) and decides
// by itself from TERM, where wp also honours NO_COLOR.
class StderrSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    // A live status area, if one is drawn, is taken off the screen first:
    // a message must not land inside it.
    console::before_output(2);
    const char* colour = !g_colour                          ? nullptr
                         : msg.level >= spdlog::level::err  ? "\x1b[1;31m"
                         : msg.level == spdlog::level::warn ? "\x1b[33m"
                                                            : nullptr;
    if (colour == nullptr) {
      std::fwrite(line.data(), 1, line.size(), stderr);
      return;
    }
    // The colour ends before the newline, so that a terminal's next line
    // never starts coloured.
    size_t text =
        line.size() > 0 && line.data()[line.size() - 1] == '\n' ? line.size() - 1 : line.size();
    std::string out = colour;
    out.append(line.data(), text);
    out += "\x1b[0m";
    out.append(line.data() + text, line.size() - text);
    std::fwrite(out.data(), 1, out.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

}  // namespace

void setup(Verbosity verbosity, bool colour) {
  switch (verbosity) {
    case Verbosity::Quiet:
      g_level = spdlog::level::warn;
      break;
    case Verbosity::Normal:
      g_level = spdlog::level::info;
      break;
    case Verbosity::Verbose:
      g_level = spdlog::level::debug;
      break;
  }
  g_colour = colour;
  spdlog::drop_all();
}

std::shared_ptr<spdlog::logger> get(const std::string& area) {
  if (auto existing = spdlog::get(area)) return existing;
  // Plain lines: colour only on a terminal that wants it (setup); they end
  // up in CI logs and pipes. (A live status area on a TTY is a separate
  // display, not a log.)
  auto logger = std::make_shared<spdlog::logger>(area, std::make_shared<StderrSink>());
  logger->set_pattern(g_level == spdlog::level::debug ? "wp[%n] %l: %v" : "wp: %v");
  logger->set_level(g_level);
  logger->flush_on(spdlog::level::trace);
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace wp::log
