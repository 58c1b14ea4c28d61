// What only a matrix member shows: a template's name, command, argv and
// profile are checked as written, but a matrix value can still empty them or
// bring in a control character. Each is reported once, at the template's key,
// with the values that did it, however many members it reaches.
#include <algorithm>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "manifest/internal.h"

namespace wp::manifest::detail {

namespace {

enum class Key : uint8_t { name, command, argv, profile };

std::string_view key_name(Key key) {
  switch (key) {
    case Key::name:
      return "name";
    case Key::command:
      return "command";
    case Key::argv:
      return "argv";
    case Key::profile:
      return "profile";
  }
  return "";
}

// One member's value of a key gone wrong: what it gave, and the template
// text that was substituted (to tell which matrix keys did it).
struct Fault {
  Key key;
  SourcePos pos;
  std::string gives;  // "an empty command"
  std::string_view written;
  std::optional<char32_t> control;  // when it brought one in
};

// The members' values that brought `fault` about: those of the matrix keys
// the text uses, and for a control character only those holding one. One
// key: `tool = ""`; several: `{ a = "", b = "" }`.
std::string culprits(const Fault& fault, const Job& job) {
  auto blamed = [&](const std::string& key, const std::string& value) {
    return fault.written.find("{" + key + "}") != std::string_view::npos &&
           (!fault.control || control_character(value));
  };
  std::vector<std::string> parts;
  for (const auto& [key, value] : job.matrix) {
    if (blamed(key, value)) parts.push_back(fmt::format("{} = {}", key, toml_string(value)));
  }
  if (parts.empty()) {  // not expected: the text as written was fine
    for (const auto& [key, value] : job.matrix)
      parts.push_back(fmt::format("{} = {}", key, toml_string(value)));
  }
  if (parts.size() == 1) return parts.front();
  return fmt::format("{{ {} }}", fmt::join(parts, ", "));
}

std::string with_control(std::string_view what, char32_t c) {
  return fmt::format("{} with the control character {}", what, code_point(c));
}

// A name or profile: not empty, no control character.
std::optional<Fault> check_label(Key key, std::string_view what, SourcePos pos,
                                 std::string_view written, const std::string& value) {
  if (value.empty()) return Fault{key, pos, fmt::format("an empty {}", what), written, {}};
  std::optional<char32_t> control = control_character(value);
  if (!control) return std::nullopt;
  return Fault{key, pos, with_control(fmt::format("a {}", what), *control), written, control};
}

// Written blank or empty, the template has been reported already.
std::optional<Fault> check_command(const JobTemplate& tmpl, const Job& job) {
  if (!tmpl.command || is_blank(*tmpl.command) || !is_blank(job.command)) return std::nullopt;
  std::string gives = job.command.empty() ? "an empty command" : "only whitespace";
  return Fault{Key::command, tmpl.command_pos, std::move(gives), *tmpl.command, {}};
}

std::optional<Fault> check_program(const JobTemplate& tmpl, const Job& job) {
  if (!tmpl.argv || tmpl.argv->empty() || tmpl.argv->front().empty()) return std::nullopt;
  if (job.argv.empty() || !job.argv.front().empty()) return std::nullopt;
  return Fault{
      Key::argv, tmpl.program_pos, "an empty program name argv[0]", tmpl.argv->front(), {}};
}

std::vector<Fault> faults_of(const JobTemplate& tmpl, const Job& job) {
  std::vector<Fault> faults;
  auto add = [&](std::optional<Fault> fault) {
    if (fault) faults.push_back(std::move(*fault));
  };
  add(check_label(Key::name, "name", tmpl.name->pos, tmpl.name->value, job.name));
  add(check_command(tmpl, job));
  add(check_program(tmpl, job));
  if (tmpl.profile) {
    add(check_label(Key::profile, "profile", tmpl.profile_pos, *tmpl.profile, job.profile));
  }
  return faults;
}

// The faults of one key of a template: what the members' values gave, in
// the order first found, each with the distinct values that gave it.
struct KeyFaults {
  Key key;
  SourcePos pos;
  std::vector<std::pair<std::string, std::vector<std::string>>> outcomes;  // gives, for
  std::set<std::pair<std::string, std::string>> seen;

  void add(std::string gives, std::string values) {
    if (!seen.emplace(gives, values).second) return;
    auto same = std::find_if(outcomes.begin(), outcomes.end(),
                             [&](const auto& outcome) { return outcome.first == gives; });
    if (same == outcomes.end()) same = outcomes.insert(outcomes.end(), {std::move(gives), {}});
    same->second.push_back(std::move(values));
  }
};

// "only whitespace for c = \" \" or c = \"\\u0009\", an empty command for
// c = \"\"": the first few values, then how many more.
std::string describe(const KeyFaults& faults) {
  constexpr size_t kShown = 3;
  std::vector<std::string> parts;
  size_t shown = 0, more = 0;
  for (const auto& [gives, values] : faults.outcomes) {
    const size_t take = std::min(values.size(), kShown - std::min(shown, kShown));
    more += values.size() - take;
    shown += take;
    if (take == 0) continue;
    std::span<const std::string> first(values.data(), take);
    parts.push_back(fmt::format("{} for {}", gives, fmt::join(first, " or ")));
  }
  std::string out = fmt::format("{}", fmt::join(parts, ", "));
  if (more > 0) out += fmt::format(" (and {} more value{})", more, more == 1 ? "" : "s");
  return out;
}

}  // namespace

void check_expanded(const JobTemplate& tmpl, std::span<const Job> members, Sink& sink) {
  Grouped<Key, KeyFaults> grouped;
  for (const Job& job : members) {
    for (Fault& fault : faults_of(tmpl, job)) {
      auto make = [&] { return KeyFaults{fault.key, fault.pos, {}, {}}; };
      std::string values = culprits(fault, job);
      grouped.at(fault.key, make).add(std::move(fault.gives), std::move(values));
    }
  }
  for (const KeyFaults& faults : grouped.groups()) {
    sink.error(faults.pos, fmt::format("{}: {}: matrix expansion gives {}; use other matrix values",
                                       tmpl.label(), key_name(faults.key), describe(faults)));
  }
}

}  // namespace wp::manifest::detail
