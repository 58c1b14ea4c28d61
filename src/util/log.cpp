#include "util/log.h"

#include <cstdio>

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>

#include "util/console.h"

namespace wp::log {
namespace {

spdlog::level::level_enum g_level = spdlog::level::info;

// stderr, after the live status area (if one is drawn) is taken off the
// screen: a message must not land inside it.
class StderrSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& message) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(message, formatted);
    console::before_output(2);
    std::fwrite(formatted.data(), 1, formatted.size(), stderr);
    std::fflush(stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

}  // namespace

void setup(Verbosity verbosity) {
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
  spdlog::drop_all();
}

std::shared_ptr<spdlog::logger> get(const std::string& area) {
  if (auto existing = spdlog::get(area)) return existing;
  // Plain lines with no colour codes: they end up in CI logs and pipes.
  // (A live status area on a TTY is a separate display, not a log.)
  auto logger = std::make_shared<spdlog::logger>(area, std::make_shared<StderrSink>());
  spdlog::register_logger(logger);
  logger->set_pattern(g_level == spdlog::level::debug ? "wp[%n] %l: %v" : "wp: %v");
  logger->set_level(g_level);
  logger->flush_on(spdlog::level::trace);
  return logger;
}

}  // namespace wp::log
