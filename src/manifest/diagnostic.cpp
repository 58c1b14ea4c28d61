#include "manifest/diagnostic.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "manifest/internal.h"

namespace wp::manifest {

std::string Diagnostic::format() const {
  std::string where = file;
  if (pos.line != 0) where += fmt::format(":{}", pos.line);
  if (pos.line != 0 && pos.column != 0) where += fmt::format(":{}", pos.column);
  if (where.empty()) return fmt::format("error: {}", message);
  return fmt::format("{}: error: {}", where, message);
}

void sort_by_position(Diagnostics& diagnostics) {
  std::stable_sort(diagnostics.begin(), diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::tie(a.pos.line, a.pos.column) < std::tie(b.pos.line, b.pos.column);
                   });
}

namespace detail {

SourcePos pos_of(const toml::source_region& region) {
  return SourcePos{region.begin.line, region.begin.column};
}

void Sink::error(SourcePos pos, std::string message) {
  diagnostics_.push_back(Diagnostic{file_, pos, std::move(message)});
}

bool has_control_character(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

bool is_blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
}

void JobRange::add(std::string_view name) {
  if (count_++ == 0) first_ = name;
  last_ = name;
}

std::string JobRange::names() const {
  if (count_ <= 1 || one_name()) return fmt::format("'{}'", first_);
  if (count_ == 2) return fmt::format("'{}' and '{}'", first_, last_);
  return fmt::format("'{}' ... '{}'", first_, last_);
}

std::string JobRange::subject(std::string_view one, std::string_view many) const {
  if (count_ <= 1)
    return one.empty() ? fmt::format("job {}", names()) : fmt::format("job {} ({})", names(), one);
  std::string jobs = fmt::format("jobs {} ({} jobs", names(), count_);
  return many.empty() ? jobs + ")" : fmt::format("{} {})", jobs, many);
}

Diagnostics Sink::take_sorted() {
  sort_by_position(diagnostics_);
  Diagnostics unique;
  std::set<std::tuple<uint32_t, uint32_t, std::string>> seen;
  for (Diagnostic& d : diagnostics_) {
    if (seen.emplace(d.pos.line, d.pos.column, d.message).second) unique.push_back(std::move(d));
  }
  diagnostics_.clear();
  return unique;
}

}  // namespace detail
}  // namespace wp::manifest
