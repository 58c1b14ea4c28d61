#include "util/log.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace wp::log {
namespace {

spdlog::level::level_enum g_level = spdlog::level::info;

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
  auto logger = spdlog::stderr_logger_st(area);
  logger->set_pattern(g_level == spdlog::level::debug ? "wp[%n] %l: %v" : "wp: %v");
  logger->set_level(g_level);
  logger->flush_on(spdlog::level::trace);
  return logger;
}

}  // namespace wp::log
