// `wp profile`: what the profile store learned about jobs, from the command
// line: list, show, history, export, import and forget.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <regex>
#include <set>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/common.h"
#include "cli/options.h"
#include "cli/profile_json.h"
#include "exec/output.h"
#include "manifest/internal.h"
#include "platform/process.h"
#include "profile/forecast.h"
#include "profile/store.h"
#include "report/json_writer.h"
#include "report/summary.h"
#include "resources/quantity.h"
#include "util/log.h"
#include "util/read_file.h"
#include "util/unique_fd.h"

namespace wp::cli {
namespace {

namespace fs = std::filesystem;
using profile::AttemptRecord;
using profile::ProfileSummary;
using profile::Resource;

constexpr auto kResources = ProfileOutlook::kResources;

// An expected failure and the exit status it gives.
struct Failure {
  int status = kExitUsage;
  std::string message;
};
template <typename T>
using Outcome = std::variant<T, Failure>;

// The database could be found but not read: not the user's typing.
Failure database_failure(const Error& error) {
  return {kExitJobsFailed, error.message};
}

int report_failure(const Failure& failure) {
  log::get("cli")->error("{}", failure.message);
  return failure.status;
}

int print(const std::string& text) {
  return print_stdout(text, "") ? kExitOk : kExitJobsFailed;
}

// The command and its database; the store only when the database exists,
// since looking must not leave a database behind.
struct Session {
  const ProfileCommand& command;
  fs::path db;
  std::optional<profile::Store> store;
};

// "2026-11-24T10:00:00.000Z" -> "2026-11-24 10:00:00"
std::string short_time(const std::string& iso) {
  if (iso.size() < 19 || iso[10] != 'T') return iso;
  return iso.substr(0, 10) + " " + iso.substr(11, 8);
}

// "1 profile", "2 profiles"
std::string count_of(size_t n, std::string_view noun) {
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

std::string percent(std::optional<double> fraction) {
  return fraction ? fmt::format("{:.0f}%", *fraction * 100) : "-";
}

// Cores in a table: "2", "1.5", "0.25".
std::string compact_cores(double cores) {
  std::string text = fmt::format("{:.2f}", cores);
  while (text.back() == '0')
    text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

std::string figure_text(Resource resource, double value) {
  switch (resource) {
    case Resource::Memory:
      return format_bytes(static_cast<Bytes>(std::llround(std::max(value, 0.0))));
    case Resource::Cores:
      return compact_cores(value);
    case Resource::Wall:
      return format_seconds(value);
    case Resource::Iops:
      return fmt::format("{:.0f}", value);
  }
  return "-";
}

template <typename T>
std::string or_dash(const std::optional<T>& value, std::string (*format)(T)) {
  return value ? format(*value) : "-";
}

// Columns padded to their widest cell (in characters, not bytes), two
// spaces apart; the first row is the header.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

  std::string str(std::string_view indent = "") const {
    std::vector<size_t> widths;
    for (const auto& row : rows_) {
      widths.resize(std::max(widths.size(), row.size()));
      for (size_t i = 0; i < row.size(); ++i)
        widths[i] = std::max(widths[i], width(row[i]));
    }
    std::string out;
    for (const auto& row : rows_) {
      std::string line(indent);
      for (size_t i = 0; i < row.size(); ++i) {
        line += row[i];
        if (i + 1 < row.size()) line.append(widths[i] - width(row[i]) + 2, ' ');
      }
      out += line + "\n";
    }
    return out;
  }

 private:
  static size_t width(std::string_view text) {
    return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
      return (static_cast<unsigned char>(c) & 0xC0) != 0x80;  // not a UTF-8 continuation byte
    }));
  }
  std::vector<std::vector<std::string>> rows_;
};

// Predicted as a run predicts (LEARNING in wp-run(1)): from the attempts of
// the newest command once enough of them ran their course, else from every
// stored attempt at half the confidence. Accuracy looks at every attempt:
// each carried the prediction of its own day.
Result<ProfileOutlook> outlook_of(profile::Store& store, const profile::ProfileKey& key) {
  auto history = store.attempts(key);
  if (!history) return history.error();
  // A profile several jobs record to (`profile = ...`) pools their
  // commands by design, as `wp run` does.
  std::set<std::string> jobs;
  for (const AttemptRecord& a : *history)
    jobs.insert(a.job);
  std::vector<AttemptRecord> current =
      history->empty()
          ? std::vector<AttemptRecord>()
          : profile::of_command(*history, history->back().fingerprint, jobs.size() > 1);
  bool earlier = profile::usable_count(current) < profile::PredictOptions{}.min_samples &&
                 current.size() < history->size();
  std::span<const AttemptRecord> basis = earlier ? std::span(*history) : std::span(current);
  // The next run's inputs are unknown here: the newest run's stand in.
  std::optional<double> input_bytes;
  if (!history->empty() && history->back().input_bytes)
    input_bytes = static_cast<double>(*history->back().input_bytes);
  ProfileOutlook outlook{profile::forecast(basis, input_bytes), {}, earlier};
  if (earlier) {
    for (auto* p : {&outlook.forecast.memory, &outlook.forecast.cores, &outlook.forecast.wall,
                    &outlook.forecast.iops})
      if (*p) (*p)->confidence /= 2;
  }
  for (size_t i = 0; i < kResources.size(); ++i)
    outlook.accuracy[i] = profile::accuracy(*history, kResources[i]);
  return outlook;
}

std::string where(const Session& s) {
  if (s.command.space.empty()) return s.db.string();
  return fmt::format("namespace '{}' of {}", s.command.space, s.db.string());
}

std::string joined(const std::vector<std::string>& items) {
  return fmt::format("{}", fmt::join(items, ", "));
}

std::vector<std::string> namespaces_of(const std::vector<ProfileSummary>& profiles) {
  std::vector<std::string> spaces;
  spaces.reserve(profiles.size());
  for (const ProfileSummary& p : profiles)
    spaces.push_back("'" + p.key.space + "'");
  return spaces;
}

std::string not_found_hint(profile::Store& store, const ProfileCommand& c) {
  if (!c.space.empty()) {
    auto elsewhere = store.profiles({}, c.name);
    if (elsewhere && !elsewhere->empty())
      return fmt::format("; it is in namespace {}", joined(namespaces_of(*elsewhere)));
  }
  auto all = store.profiles(c.space, {});
  if (!all) return {};
  std::set<std::string> names;
  for (const ProfileSummary& p : *all)
    names.insert(p.key.name);
  return manifest::detail::did_you_mean(c.name, {names.begin(), names.end()});
}

Failure not_found(Session& s) {
  std::string hint = s.store ? not_found_hint(*s.store, s.command) : std::string();
  return {kExitUsage, fmt::format("no profile named '{}' in {}{}", s.command.name, where(s), hint)};
}

// The one profile NAME (and --namespace) means.
Outcome<ProfileSummary> resolve(Session& s) {
  if (!s.store) return not_found(s);
  auto found = s.store->profiles(s.command.space, s.command.name);
  if (!found) return database_failure(found.error());
  if (found->empty()) return not_found(s);
  if (found->size() > 1) {
    return Failure{kExitUsage,
                   fmt::format("profile '{}' is in {} namespaces: {}; choose one with "
                               "--namespace, e.g. --namespace '{}'",
                               s.command.name, found->size(), joined(namespaces_of(*found)),
                               found->front().key.space)};
  }
  return found->front();
}

// --- list -----------------------------------------------------------------

std::string list_text(const std::vector<ProfileSummary>& profiles,
                      const std::vector<ProfileOutlook>& outlooks) {
  Table table({"NAME", "NAMESPACE", "RUNS", "LAST RUN (UTC)", "MEMORY", "CORES", "WALL",
               "CONFIDENCE", "ACCURACY"});
  for (size_t i = 0; i < profiles.size(); ++i) {
    const ProfileSummary& p = profiles[i];
    const ProfileOutlook& o = outlooks[i];
    std::vector<std::string> row{p.key.name, p.key.space, std::to_string(p.runs),
                                 short_time(p.last_seen)};
    for (Resource r : {Resource::Memory, Resource::Cores, Resource::Wall}) {
      auto value = o.value(r);
      row.push_back(value ? figure_text(r, *value) : "-");
    }
    row.push_back(percent(o.confidence()));
    row.push_back(percent(o.memory_accuracy().hit_rate()));
    table.add(std::move(row));
  }
  return table.str();
}

// --names: what shell completion offers after `wp profile show`; a name in
// several namespaces once.
int list_names(Session& s) {
  std::set<std::string> names;
  if (s.store) {
    auto found = s.store->profiles(s.command.space, {});
    if (!found) return report_failure(database_failure(found.error()));
    for (const ProfileSummary& p : *found)
      names.insert(p.key.name);
  }
  std::string text;
  for (const std::string& name : names)
    text += name + "\n";
  return names.empty() ? kExitOk : print(text);
}

int list_profiles(Session& s) {
  if (s.command.names) return list_names(s);
  std::vector<ProfileSummary> profiles;
  std::vector<ProfileOutlook> outlooks;
  if (s.store) {
    auto found = s.store->profiles(s.command.space, {});
    if (!found) return report_failure(database_failure(found.error()));
    profiles = std::move(*found);
    for (const ProfileSummary& p : profiles) {
      auto outlook = outlook_of(*s.store, p.key);
      if (!outlook) return report_failure(database_failure(outlook.error()));
      outlooks.push_back(*outlook);
    }
  }
  if (profiles.empty()) log::get("cli")->info("no profiles in {}", where(s));
  if (s.command.json) return print(list_json(s.db.string(), profiles, outlooks));
  return profiles.empty() ? kExitOk : print(list_text(profiles, outlooks));
}

// --- show -----------------------------------------------------------------

std::string show_text(const ProfileSummary& p, const ProfileOutlook& o) {
  Table identity({"name", p.key.name});
  identity.add({"namespace", p.key.space});
  identity.add({"family", p.family.empty() ? "-" : p.family});
  identity.add({"command", p.command});
  identity.add({"fingerprint", p.fingerprint});
  identity.add({"first seen", short_time(p.first_seen) + " UTC"});
  identity.add({"last seen", short_time(p.last_seen) + " UTC"});
  identity.add({"runs", std::to_string(p.runs)});
  identity.add({"attempts", fmt::format("{} ({} stored)", p.attempts, p.kept)});
  identity.add({"ok", std::to_string(p.ok)});
  identity.add({"OOM kills", std::to_string(p.oom_kills)});
  identity.add({"max memory", or_dash<Bytes>(p.max_memory, format_bytes)});
  identity.add({"CPU time", format_seconds(p.cpu_seconds)});

  Table predictions({"RESOURCE", "VALUE", "UPPER", "PREDICTOR", "CONFIDENCE", "SAMPLES"});
  Table accuracy({"RESOURCE", "PREDICTED", "WITHIN", "UNDER", "MEAN ERROR"});
  for (size_t i = 0; i < kResources.size(); ++i) {
    Resource r = kResources[i];
    std::string name(profile::to_string(r));
    if (const auto& prediction = o.forecast.of(r)) {
      predictions.add({name, figure_text(r, prediction->value), figure_text(r, prediction->upper),
                       std::string(profile::to_string(prediction->predictor)),
                       percent(prediction->confidence), std::to_string(prediction->samples)});
    } else {
      predictions.add({name, "-", "-", "-", "-", "-"});
    }
    const profile::Accuracy& a = o.accuracy[i];
    accuracy.add({name, std::to_string(a.predicted), percent(a.hit_rate()), std::to_string(a.under),
                  a.predicted ? fmt::format("{:.1f}%", a.mean_abs_error * 100) : "-"});
  }
  return identity.str() +
         fmt::format("\npredictions for the next run (from {} usable attempts{}):\n",
                     o.forecast.samples,
                     o.earlier_command ? ", some of an earlier command: half confidence" : "") +
         predictions.str("  ") +
         "\naccuracy of past predictions (within: between the actual and 1.25x it):\n" +
         accuracy.str("  ");
}

int show_profile(Session& s) {
  auto found = resolve(s);
  if (auto* failure = std::get_if<Failure>(&found)) return report_failure(*failure);
  const ProfileSummary& p = std::get<ProfileSummary>(found);
  auto outlook = outlook_of(*s.store, p.key);
  if (!outlook) return report_failure(database_failure(outlook.error()));
  return print(s.command.json ? show_json(s.db.string(), p, *outlook) : show_text(p, *outlook));
}

// --- history --------------------------------------------------------------

// --since: an ISO 8601 date or time (a prefix of what the store keeps,
// compared as text), or a duration meaning that long ago.
Outcome<std::string> since_of(const std::string& text) {
  if (text.empty()) return std::string();
  static const std::regex kIso(R"((\d{4}-\d{2}-\d{2})([T ]\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?)?Z?)");
  if (std::regex_match(text, kIso)) {
    std::string since = text;
    if (since.size() > 10) since[10] = 'T';
    // Without the Z, "…T10:00:00" is a prefix of "…T10:00:00.000Z" and sorts before it.
    if (since.back() == 'Z') since.pop_back();
    return since;
  }
  auto ago = parse_duration(text);
  if (!ago) {
    return Failure{kExitUsage, fmt::format("--since: '{}' is neither a date or time (2026-11-20, "
                                           "2026-11-20T10:00:00Z) nor a duration ago (7d, 12h)",
                                           text)};
  }
  auto now = report::Clock::now();
  if (*ago >= now.time_since_epoch()) return std::string();
  return report::format_time(now - *ago);
}

std::string exit_status(const AttemptRecord& a) {
  if (a.usage.oom_killed) return "OOM";
  if (a.timed_out) return "timeout";
  if (a.requeued) return "requeued";
  if (a.signal) return platform::signal_name(*a.signal);
  if (a.exit_code) return *a.exit_code == 0 ? "ok" : fmt::format("exit {}", *a.exit_code);
  return "-";
}

std::optional<double> actual_cores(const AttemptRecord& a) {
  return a.usage.average_cores ? a.usage.average_cores : a.usage.peak_cores;
}

std::string history_text(const std::vector<AttemptRecord>& attempts) {
  Table table({"STARTED (UTC)", "MANIFEST", "#", "MEM DECL", "MEM PRED", "MEM USED", "CPU DECL",
               "CPU USED", "WALL PRED", "STATUS", "DURATION"});
  auto cores = [](std::optional<double> c) { return c ? compact_cores(*c) : "-"; };
  auto seconds = [](std::optional<double> w) { return w ? format_seconds(*w) : "-"; };
  for (const AttemptRecord& a : attempts) {
    table.add({short_time(a.started), report::display_path(a.manifest), std::to_string(a.number),
               format_bytes(a.declared.memory), or_dash<Bytes>(a.predicted.memory, format_bytes),
               or_dash<Bytes>(a.usage.peak_memory, format_bytes),
               compact_cores(a.declared.cpu.as_double()), cores(actual_cores(a)),
               seconds(a.predicted.wall_seconds), exit_status(a), format_seconds(a.wall_seconds)});
  }
  return table.str();
}

// RFC 4180: a field with a comma, a quote or a line break is quoted, its
// quotes doubled.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text)
    out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

template <typename T>
std::string csv_number(const std::optional<T>& value) {
  return value ? fmt::format("{}", *value) : std::string();
}

std::string history_csv(const std::vector<AttemptRecord>& attempts) {
  std::string out =
      "started,manifest,job,attempt,declared_memory,predicted_memory,peak_memory,declared_cores,"
      "predicted_cores,actual_cores,predicted_wall_seconds,wall_seconds,status,exit_code,signal,"
      "uid\n";
  for (const AttemptRecord& a : attempts) {
    std::vector<std::string> fields{a.started,
                                    a.manifest,
                                    a.job,
                                    std::to_string(a.number),
                                    std::to_string(a.declared.memory),
                                    csv_number(a.predicted.memory),
                                    csv_number(a.usage.peak_memory),
                                    fmt::format("{}", a.declared.cpu.as_double()),
                                    csv_number(a.predicted.cores),
                                    csv_number(actual_cores(a)),
                                    csv_number(a.predicted.wall_seconds),
                                    fmt::format("{}", a.wall_seconds),
                                    exit_status(a),
                                    csv_number(a.exit_code),
                                    a.signal ? platform::signal_name(*a.signal) : std::string(),
                                    a.uid};
    for (size_t i = 0; i < fields.size(); ++i)
      out += (i ? "," : "") + csv_field(fields[i]);
    out += "\n";
  }
  return out;
}

int show_history(Session& s) {
  auto since = since_of(s.command.since);
  if (auto* failure = std::get_if<Failure>(&since)) return report_failure(*failure);
  auto found = resolve(s);
  if (auto* failure = std::get_if<Failure>(&found)) return report_failure(*failure);
  size_t limit = s.command.limit > 0 ? static_cast<size_t>(s.command.limit) : SIZE_MAX;
  auto attempts =
      s.store->attempts(std::get<ProfileSummary>(found).key, std::get<std::string>(since), limit);
  if (!attempts) return report_failure(database_failure(attempts.error()));
  if (s.command.json) return print(attempts_json(*attempts));
  if (s.command.csv) return print(history_csv(*attempts));
  if (attempts->empty()) {
    log::get("cli")->info("no attempts of '{}' stored{}", s.command.name,
                          s.command.since.empty() ? "" : " since " + s.command.since);
    return kExitOk;
  }
  return print(history_text(*attempts));
}

// --- export and import ----------------------------------------------------

size_t profile_count(const std::vector<AttemptRecord>& attempts) {
  std::set<std::pair<std::string, std::string>> keys;
  for (const AttemptRecord& a : attempts)
    keys.emplace(a.key.space, a.key.name);
  return keys.size();
}

bool to_stdio(const std::string& file) {
  return file.empty() || file == "-";
}

Status write_whole_file(const std::string& file, std::string_view text) {
  UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd || !exec::write_all(fd.get(), text))
    return make_error("cannot write {}: {}", file, std::strerror(errno));
  return Ok{};
}

Result<std::string> read_whole_file(const std::string& file) {
  UniqueFd opened;
  if (!to_stdio(file)) {
    opened.reset(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!opened) return make_error("cannot read {}: {}", file, std::strerror(errno));
  }
  auto text = read_all(opened ? opened.get() : STDIN_FILENO);
  if (!text) return make_error("cannot read {}: {}", file, text.error().message);
  return text;
}

int export_profiles(Session& s) {
  std::vector<AttemptRecord> attempts;
  if (s.store) {
    auto all = s.store->all_attempts();
    if (!all) return report_failure(database_failure(all.error()));
    for (AttemptRecord& a : *all)
      if (s.command.space.empty() || a.key.space == s.command.space)
        attempts.push_back(std::move(a));
  }
  std::string document = export_document(attempts, report::format_time(report::Clock::now()));
  const std::string& file = s.command.file;
  if (to_stdio(file)) return print(document);
  if (auto written = write_whole_file(file, document); !written)
    return report_failure({kExitJobsFailed, written.error().message});
  if (!s.command.json) {
    return print(fmt::format("exported {} of {} to {}\n", count_of(attempts.size(), "attempt"),
                             count_of(profile_count(attempts), "profile"), file));
  }
  report::JsonWriter json;
  json.begin_object();
  json.key("database").value(s.db.string());
  json.key("file").value(file);
  json.key("attempts").value(static_cast<uint64_t>(attempts.size()));
  json.key("profiles").value(static_cast<uint64_t>(profile_count(attempts)));
  json.end_object();
  return print(json.str() + "\n");
}

int import_profiles(const ProfileCommand& command, const fs::path& db) {
  std::string source = to_stdio(command.file) ? "standard input" : command.file;
  auto text = read_whole_file(command.file);
  if (!text) return report_failure({kExitUsage, text.error().message});
  // Parsed on a scratch connection first: a bad file leaves no database behind.
  auto scratch = profile::sqlite::Database::open(":memory:");
  if (!scratch) return report_failure(database_failure(scratch.error()));
  auto attempts = parse_export(*scratch, *text, source);
  if (!attempts) return report_failure({kExitUsage, attempts.error().message});

  auto store = profile::Store::open(db);
  if (!store) return report_failure(database_failure(store.error()));
  std::vector<AttemptRecord> considered;
  for (AttemptRecord& a : *attempts) {
    if (command.space.empty() || a.key.space == command.space) considered.push_back(std::move(a));
  }
  // One transaction: an import lands whole or not at all.
  auto added = store->add_attempts(considered, command.keep);
  if (!added) return report_failure(database_failure(added.error()));
  size_t imported = *added;
  size_t present = considered.size() - imported;
  size_t profiles = profile_count(considered);
  if (!command.json) {
    return print(
        fmt::format("imported {} ({} already present or older than the kept history) into {}\n",
                    count_of(imported, "attempt"), present, count_of(profiles, "profile")));
  }
  report::JsonWriter json;
  json.begin_object();
  json.key("database").value(db.string());
  json.key("file").value(to_stdio(command.file) ? std::string("-") : command.file);
  json.key("imported").value(static_cast<uint64_t>(imported));
  json.key("present").value(static_cast<uint64_t>(present));
  json.key("profiles").value(static_cast<uint64_t>(profiles));
  json.end_object();
  return print(json.str() + "\n");
}

// --- forget ---------------------------------------------------------------

int forget_profiles(Session& s) {
  std::vector<ProfileSummary> doomed;
  if (s.command.all) {
    if (s.store) {
      auto found = s.store->profiles(s.command.space, {});
      if (!found) return report_failure(database_failure(found.error()));
      doomed = std::move(*found);
    }
  } else {
    auto found = resolve(s);
    if (auto* failure = std::get_if<Failure>(&found)) return report_failure(*failure);
    doomed.push_back(std::get<ProfileSummary>(found));
  }
  int64_t attempts = 0;
  for (const ProfileSummary& p : doomed)
    attempts += p.kept;
  size_t removed = 0;
  if (s.store && !doomed.empty()) {
    // NAME was resolved to one namespace; --all takes --namespace as given.
    auto gone = s.command.all ? s.store->forget(s.command.space, {})
                              : s.store->forget(doomed.front().key.space, doomed.front().key.name);
    if (!gone) return report_failure(database_failure(gone.error()));
    removed = *gone;
  }
  if (!s.command.json) {
    return print(fmt::format("removed {} ({}) from {}\n", count_of(removed, "profile"),
                             count_of(static_cast<size_t>(attempts), "stored attempt"),
                             s.db.string()));
  }
  report::JsonWriter json;
  json.begin_object();
  json.key("database").value(s.db.string());
  json.key("profiles").value(static_cast<uint64_t>(removed));
  json.key("attempts").value(attempts);
  json.end_object();
  return print(json.str() + "\n");
}

std::optional<Failure> usage_problem(const ProfileCommand& c) {
  if (c.action == "forget" && c.all == !c.name.empty()) {
    return Failure{kExitUsage, c.all ? "forget: give a profile NAME or --all, not both"
                                     : "forget: give a profile NAME, or --all to forget every "
                                       "profile"};
  }
  if (c.action == "list" && c.names && c.json)
    return Failure{kExitUsage, "list: --names and --json exclude each other"};
  if (c.action == "history" && c.csv && c.json)
    return Failure{kExitUsage, "history: --csv and --json exclude each other"};
  return std::nullopt;
}

}  // namespace

int profile_command(const ProfileCommand& command) {
  if (auto problem = usage_problem(command)) return report_failure(*problem);
  auto path = profile::resolve_db_path(command.db);
  if (!path) return report_failure({kExitUsage, path.error().message});
  if (command.action == "import") return import_profiles(command, *path);

  Session s{command, *path, std::nullopt};
  std::error_code ec;
  if (fs::exists(*path, ec)) {
    // Only forget writes: the others read, whatever else uses the file.
    auto store = open_store(*path, command.action == "forget" ? DbUse::Writes : DbUse::ReadOnly);
    if (!store) return report_failure(database_failure(store.error()));
    s.store.emplace(std::move(*store));
  }
  if (command.action == "list") return list_profiles(s);
  if (command.action == "show") return show_profile(s);
  if (command.action == "history") return show_history(s);
  if (command.action == "export") return export_profiles(s);
  if (command.action == "forget") return forget_profiles(s);
  return report_failure({kExitUsage, fmt::format("unknown profile command '{}'", command.action)});
}

}  // namespace wp::cli
