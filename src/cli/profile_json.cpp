// Attempts to JSON and back. Numbers are read from the text SQLite keeps of
// them, not from its doubles: an export read back must give the very values
// it was written from, 64-bit byte counts included.
#include "cli/profile_json.h"
#include "report/summary.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <system_error>
#include <type_traits>

#include <fmt/format.h>

namespace wp::cli {
namespace {

using profile::AttemptRecord;
using profile::ProfileSummary;
using profile::Resource;
using profile::sqlite::Statement;

void write_stored_resources(report::JsonWriter& json, const Resources& r) {
  json.begin_object();
  json.key("cpu").value(r.cpu.as_double());
  json.key("memory").value(static_cast<uint64_t>(r.memory));
  json.key("iops").value(static_cast<uint64_t>(r.iops));
  json.key("gpu").value(static_cast<uint64_t>(r.gpu));
  json.end_object();
}

void write_predicted(report::JsonWriter& json, const profile::Predicted& p) {
  json.begin_object();
  json.key("memory").value(p.memory);
  json.key("cores").value(p.cores);
  json.key("wall_seconds").value(p.wall_seconds);
  json.key("iops").value(p.iops);
  json.end_object();
}

void write_predicted_values(report::JsonWriter& json, const ProfileOutlook& o) {
  json.begin_object();
  std::optional<uint64_t> memory;
  if (auto value = o.value(Resource::Memory))
    memory = static_cast<uint64_t>(std::llround(std::max(*value, 0.0)));
  json.key("memory").value(memory);
  json.key("cores").value(o.value(Resource::Cores));
  json.key("wall_seconds").value(o.value(Resource::Wall));
  json.key("iops").value(o.value(Resource::Iops));
  json.end_object();
}

void write_prediction(report::JsonWriter& json, const std::optional<profile::Prediction>& p) {
  if (!p) {
    json.null();
    return;
  }
  json.begin_object();
  json.key("value").value(p->value);
  json.key("upper").value(p->upper);
  json.key("predictor").value(profile::to_string(p->predictor));
  json.key("confidence").value(p->confidence);
  json.key("samples").value(static_cast<uint64_t>(p->samples));
  json.key("backtests").value(static_cast<uint64_t>(p->backtests));
  json.key("backtest_loss").value(p->backtest_loss);
  json.key("coverage").value(p->coverage);
  json.end_object();
}

void write_accuracy(report::JsonWriter& json, const profile::Accuracy& a) {
  json.begin_object();
  json.key("predicted").value(static_cast<uint64_t>(a.predicted));
  json.key("within").value(static_cast<uint64_t>(a.within));
  json.key("under").value(static_cast<uint64_t>(a.under));
  json.key("hit_rate").value(a.hit_rate());
  json.key("mean_abs_error")
      .value(a.predicted ? std::optional<double>(a.mean_abs_error) : std::nullopt);
  json.end_object();
}

// One member of an attempt object: its JSON type as json_tree() names it
// ("integer", "real", "text", "true", "false", "null", "object", "array")
// and its text (a string's value unescaped; a number as written).
struct Member {
  std::string type;
  std::string text;
};

enum class Need { Required, Optional };

// The members of one attempt, by path ("usage.peak_memory"). Reading a
// member that is missing or of the wrong type records the first such
// problem and gives a default, so that a record is read in one straight
// pass and checked once at the end.
class Members {
 public:
  Members(std::map<std::string, Member> members, std::string where)
      : members_(std::move(members)), where_(std::move(where)) {}

  const std::optional<std::string>& problem() const { return problem_; }

  std::string text(const std::string& path, Need need = Need::Required) {
    const Member* m = find(path, need);
    if (m == nullptr) return {};
    if (m->type != "text") {
      wrong_type(path, "a string", *m);
      return {};
    }
    if (need == Need::Required && m->text.empty()) fail(fmt::format("field '{}' is empty", path));
    return m->text;
  }

  template <typename T>
  std::optional<T> integer(const std::string& path, Need need = Need::Optional) {
    const Member* m = find(path, need);
    if (m == nullptr) return std::nullopt;
    if (m->type != "integer") {
      wrong_type(path, "an integer", *m);
      return std::nullopt;
    }
    T value{};
    auto [end, ec] = std::from_chars(m->text.data(), m->text.data() + m->text.size(), value);
    if (ec != std::errc() || end != m->text.data() + m->text.size()) {
      fail(fmt::format("field '{}': {} is out of range", path, m->text));
      return std::nullopt;
    }
    return value;
  }

  std::optional<double> real(const std::string& path, Need need = Need::Optional) {
    const Member* m = find(path, need);
    if (m == nullptr) return std::nullopt;
    if (m->type != "integer" && m->type != "real") {
      wrong_type(path, "a number", *m);
      return std::nullopt;
    }
    double value = 0;
    auto [end, ec] = std::from_chars(m->text.data(), m->text.data() + m->text.size(), value);
    if (ec != std::errc() || end != m->text.data() + m->text.size()) {
      fail(fmt::format("field '{}': {} is out of range", path, m->text));
      return std::nullopt;
    }
    return value;
  }

  bool boolean(const std::string& path) {
    const Member* m = find(path, Need::Optional);
    if (m == nullptr) return false;
    if (m->type != "true" && m->type != "false") {
      wrong_type(path, "true or false", *m);
      return false;
    }
    return m->type == "true";
  }

 private:
  // Null counts as missing: optional fields are written as null when unset.
  const Member* find(const std::string& path, Need need) {
    auto it = members_.find(path);
    if (it != members_.end() && it->second.type != "null") return &it->second;
    if (need == Need::Required) fail(fmt::format("missing field '{}'", path));
    return nullptr;
  }

  void wrong_type(const std::string& path, std::string_view expected, const Member& m) {
    fail(fmt::format("field '{}' must be {}, not {}", path, expected,
                     m.type == "text" ? "a string" : m.type));
  }

  void fail(const std::string& message) {
    if (!problem_) problem_ = where_ + ": " + message;
  }

  std::map<std::string, Member> members_;
  std::string where_;
  std::optional<std::string> problem_;
};

Resources read_resources(Members& m, const std::string& prefix) {
  Resources r;
  r.cpu = Cores::from_double(m.real(prefix + ".cpu").value_or(0));
  r.memory = m.integer<Bytes>(prefix + ".memory").value_or(0);
  r.iops = m.integer<Iops>(prefix + ".iops").value_or(0);
  r.gpu = m.integer<Gpus>(prefix + ".gpu").value_or(0);
  return r;
}

report::Usage read_usage(Members& m) {
  report::Usage u;
  u.method = m.text("usage.method", Need::Optional);
  u.peak_memory = m.integer<Bytes>("usage.peak_memory");
  u.cpu_seconds = m.real("usage.cpu_seconds");
  u.user_seconds = m.real("usage.user_seconds");
  u.system_seconds = m.real("usage.system_seconds");
  u.average_cores = m.real("usage.average_cores");
  u.peak_cores = m.real("usage.peak_cores");
  u.read_ops = m.integer<uint64_t>("usage.read_ops");
  u.write_ops = m.integer<uint64_t>("usage.write_ops");
  u.read_bytes = m.integer<uint64_t>("usage.read_bytes");
  u.write_bytes = m.integer<uint64_t>("usage.write_bytes");
  u.read_calls = m.integer<uint64_t>("usage.read_calls");
  u.write_calls = m.integer<uint64_t>("usage.write_calls");
  u.oom_killed = m.boolean("usage.oom_killed");
  return u;
}

// What identifies an attempt and places it in its profile and run is
// required; what was measured may be missing (it reads as not measured).
AttemptRecord read_attempt(Members& m) {
  AttemptRecord a;
  a.uid = m.text("uid");
  a.key.space = m.text("namespace", Need::Optional);
  a.key.name = m.text("name");
  a.family = m.text("family", Need::Optional);
  a.job = m.text("job");
  a.fingerprint = m.text("fingerprint", Need::Optional);
  a.command = m.text("command", Need::Optional);
  a.run_uuid = m.text("run_uuid");
  a.manifest = m.text("manifest", Need::Optional);
  a.number = m.integer<int>("number", Need::Required).value_or(1);
  a.started = m.text("started");
  a.wall_seconds = m.real("wall_seconds", Need::Required).value_or(0);
  a.exit_code = m.integer<int>("exit_code");
  a.signal = m.integer<int>("signal");
  a.timed_out = m.boolean("timed_out");
  a.requeued = m.boolean("requeued");
  a.input_bytes = m.integer<uint64_t>("input_bytes");
  a.declared = read_resources(m, "declared");
  a.admitted = read_resources(m, "admitted");
  a.predicted.memory = m.integer<Bytes>("predicted.memory");
  a.predicted.cores = m.real("predicted.cores");
  a.predicted.wall_seconds = m.real("predicted.wall_seconds");
  a.predicted.iops = m.real("predicted.iops");
  a.usage = read_usage(m);
  return a;
}

// "$.usage.\"peak_memory\"" -> "usage.peak_memory": json_tree() quotes a
// key that is not all letters and digits.
std::string member_path(std::string_view fullkey) {
  std::string path;
  for (char c : fullkey.substr(std::min<size_t>(2, fullkey.size())))
    if (c != '"') path += c;
  return path;
}

// The members of one attempt object (its JSON text), every level flattened.
Result<std::map<std::string, Member>> members_of(profile::sqlite::Database& db,
                                                 const std::string& object) {
  auto select = Statement::prepare(db,
                                   "SELECT t.fullkey, t.type, "
                                   "CASE WHEN t.type = 'text' THEN t.atom ELSE ?1 -> t.fullkey END "
                                   "FROM json_tree(?1) t WHERE t.fullkey <> '$'");
  if (!select) return select.error();
  select->bind(1, std::string_view(object));
  std::map<std::string, Member> members;
  for (;;) {
    auto row = select->step();
    if (!row) return row.error();
    if (!*row) break;
    members[member_path(select->column_text(0))] = {select->column_text(1), select->column_text(2)};
  }
  return members;
}

// The document is JSON, an object, and says it is an export this wp reads.
Status check_header(profile::sqlite::Database& db, const std::string& text,
                    const std::string& source) {
  auto valid = Statement::prepare(db, "SELECT json_valid(?1)");
  if (!valid) return valid.error();
  valid->bind(1, std::string_view(text));
  if (auto row = valid->step(); !row) return row.error();
  if (valid->column_int(0) == 0)
    return make_error("{}: not valid JSON; expected a document written by 'wp profile export'",
                      source);
  auto header = Statement::prepare(
      db,
      "SELECT json_type(?1), json_type(?1, '$.format'), json_extract(?1, '$.format'), "
      "json_type(?1, '$.version'), ?1 -> '$.version', json_type(?1, '$.attempts')");
  if (!header) return header.error();
  header->bind(1, std::string_view(text));
  if (auto row = header->step(); !row) return row.error();
  if (header->column_text(0) != "object" || header->column_text(1) != "text" ||
      header->column_text(2) != kExportFormat) {
    return make_error("{}: not a wp profile export (its \"format\" is not \"{}\")", source,
                      kExportFormat);
  }
  if (header->column_text(3) != "integer" || header->column_text(4) != "1") {
    std::string version = header->column_is_null(4) ? "missing" : header->column_text(4);
    return make_error("{}: export version {} is not one this wp reads (version {})", source,
                      version, kExportVersion);
  }
  if (header->column_text(5) != "array")
    return make_error("{}: \"attempts\" is missing or not an array", source);
  return Ok{};
}

}  // namespace

void write_attempt_json(report::JsonWriter& json, const AttemptRecord& a) {
  json.begin_object();
  json.key("uid").value(a.uid);
  json.key("namespace").value(a.key.space);
  json.key("name").value(a.key.name);
  json.key("family").value(a.family);
  json.key("job").value(a.job);
  json.key("fingerprint").value(a.fingerprint);
  json.key("command").value(a.command);
  json.key("run_uuid").value(a.run_uuid);
  json.key("manifest").value(a.manifest);
  json.key("number").value(a.number);
  json.key("started").value(a.started);
  json.key("wall_seconds").value(a.wall_seconds);
  json.key("exit_code").value(a.exit_code);
  json.key("signal").value(a.signal);
  json.key("timed_out").value(a.timed_out);
  json.key("requeued").value(a.requeued);
  json.key("input_bytes").value(a.input_bytes);
  json.key("declared");
  write_stored_resources(json, a.declared);
  json.key("admitted");
  write_stored_resources(json, a.admitted);
  json.key("predicted");
  write_predicted(json, a.predicted);
  json.key("usage");
  report::write_usage(json, a.usage);
  json.end_object();
}

std::string list_json(const std::string& db, std::span<const ProfileSummary> profiles,
                      std::span<const ProfileOutlook> outlooks) {
  report::JsonWriter json;
  json.begin_object();
  json.key("database").value(db);
  json.key("profiles").begin_array();
  for (size_t i = 0; i < profiles.size(); ++i) {
    const ProfileSummary& p = profiles[i];
    json.begin_object();
    json.key("namespace").value(p.key.space);
    json.key("name").value(p.key.name);
    json.key("family").value(p.family);
    json.key("runs").value(p.runs);
    json.key("attempts").value(p.attempts);
    json.key("stored").value(p.kept);
    json.key("first_seen").value(p.first_seen);
    json.key("last_seen").value(p.last_seen);
    json.key("predicted");
    write_predicted_values(json, outlooks[i]);
    json.key("confidence").value(outlooks[i].confidence());
    json.key("memory_accuracy").value(outlooks[i].memory_accuracy().hit_rate());
    json.end_object();
  }
  json.end_array();
  json.end_object();
  return json.str() + "\n";
}

std::string show_json(const std::string& db, const ProfileSummary& p, const ProfileOutlook& o) {
  report::JsonWriter json;
  json.begin_object();
  json.key("database").value(db);
  json.key("namespace").value(p.key.space);
  json.key("name").value(p.key.name);
  json.key("family").value(p.family);
  json.key("command").value(p.command);
  json.key("fingerprint").value(p.fingerprint);
  json.key("first_seen").value(p.first_seen);
  json.key("last_seen").value(p.last_seen);
  json.key("runs").value(p.runs);
  json.key("attempts").value(p.attempts);
  json.key("stored").value(p.kept);
  json.key("ok").value(p.ok);
  json.key("oom_kills").value(p.oom_kills);
  json.key("max_memory").value(p.max_memory);
  json.key("cpu_seconds").value(p.cpu_seconds);
  json.key("wall_seconds").value(p.wall_seconds);
  json.key("samples").value(static_cast<uint64_t>(o.forecast.samples));
  json.key("earlier_command").value(o.earlier_command);
  json.key("resources").begin_object();
  for (size_t i = 0; i < ProfileOutlook::kResources.size(); ++i) {
    Resource r = ProfileOutlook::kResources[i];
    json.key(profile::to_string(r)).begin_object();
    json.key("prediction");
    write_prediction(json, o.forecast.of(r));
    json.key("accuracy");
    write_accuracy(json, o.accuracy[i]);
    json.end_object();
  }
  json.end_object();
  json.end_object();
  return json.str() + "\n";
}

std::string attempts_json(std::span<const AttemptRecord> attempts) {
  report::JsonWriter json;
  json.begin_array();
  for (const AttemptRecord& a : attempts)
    write_attempt_json(json, a);
  json.end_array();
  return json.str() + "\n";
}

std::string export_document(std::span<const AttemptRecord> attempts, std::string_view exported_at) {
  report::JsonWriter json;
  json.begin_object();
  json.key("format").value(kExportFormat);
  json.key("version").value(kExportVersion);
  json.key("exported_at").value(exported_at);
  json.key("attempts").begin_array();
  for (const AttemptRecord& attempt : attempts)
    write_attempt_json(json, attempt);
  json.end_array();
  json.end_object();
  return json.str() + "\n";
}

Result<std::vector<AttemptRecord>> parse_export(profile::sqlite::Database& db,
                                                const std::string& text,
                                                const std::string& source) {
  if (auto header = check_header(db, text, source); !header) return header.error();
  auto each = Statement::prepare(db, "SELECT key, type, value FROM json_each(?1, '$.attempts')");
  if (!each) return each.error();
  each->bind(1, std::string_view(text));
  std::vector<AttemptRecord> attempts;
  for (;;) {
    auto row = each->step();
    if (!row) return row.error();
    if (!*row) break;
    std::string where = fmt::format("{}: attempts[{}]", source, each->column_int(0));
    if (each->column_text(1) != "object") return make_error("{}: not an object", where);
    auto members = members_of(db, each->column_text(2));
    if (!members) return members.error();
    Members reader(std::move(*members), where);
    AttemptRecord attempt = read_attempt(reader);
    if (reader.problem()) return Error{*reader.problem()};
    attempts.push_back(std::move(attempt));
  }
  return attempts;
}

}  // namespace wp::cli
