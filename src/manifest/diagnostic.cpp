#include "manifest/diagnostic.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

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

namespace {

// The control character that starts at text[i] and how many bytes it takes;
// 0 bytes when there is none. toml++ hands over valid UTF-8, in which C1
// (U+0080..U+009F) is 0xC2 0x80..0x9F.
std::pair<char32_t, size_t> control_at(std::string_view text, size_t i) {
  const auto byte = static_cast<unsigned char>(text[i]);
  if (byte < 0x20 || byte == 0x7f) return {byte, 1};
  if (byte == 0xc2 && i + 1 < text.size()) {
    const auto next = static_cast<unsigned char>(text[i + 1]);
    if (next >= 0x80 && next <= 0x9f) return {next, 2};
  }
  return {0, 0};
}

}  // namespace

std::optional<char32_t> control_character(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (auto [c, width] = control_at(text, i); width != 0) return c;
  }
  return std::nullopt;
}

std::string code_point(char32_t c) {
  return fmt::format("U+{:04X}", static_cast<uint32_t>(c));
}

std::string escaped_controls(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    auto [c, width] = control_at(text, i);
    if (width == 0) {
      out += text[i];
    } else {
      out += fmt::format("\\u{:04X}", static_cast<uint32_t>(c));
      i += width - 1;
    }
  }
  return out;
}

namespace detail {

SourcePos pos_of(const toml::source_region& region) {
  return SourcePos{region.begin.line, region.begin.column};
}

LineMap LineMap::from(uint32_t file_line) {
  LineMap map;
  map.add(1, file_line);
  return map;
}

void LineMap::add(uint32_t text_line, uint32_t file_line) {
  runs_.push_back({text_line, file_line});
}

uint32_t LineMap::file_line(uint32_t text_line) const {
  auto after = std::upper_bound(runs_.begin(), runs_.end(), text_line,
                                [](uint32_t line, const Run& run) { return line < run.text_line; });
  if (after == runs_.begin()) return text_line;
  const Run& run = *std::prev(after);
  return run.file_line + (text_line - run.text_line);
}

SourcePos Sink::pos(const toml::source_region& region) const {
  SourcePos pos = pos_of(region);
  if (pos.line != 0) pos.line = lines_.file_line(pos.line);
  return pos;
}

void Sink::error(SourcePos pos, std::string message) {
  diagnostics_.push_back(Diagnostic{file_, pos, std::move(message)});
}

// Quotes and backslashes first: the escapes of control characters then
// added are the only backslashes not doubled.
std::string toml_string(std::string_view text) {
  std::string quoted;
  for (char c : text) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return '"' + escaped_controls(quoted) + '"';
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
