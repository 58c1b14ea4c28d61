// The profile store's runs, attempts and profiles (the Store's connection,
// schema and calibrations are in store.cpp).
#include <algorithm>
#include <cstdint>
#include <utility>

#include <fmt/format.h>

#include "profile/store.h"

namespace wp::profile {
namespace {

// The attempt columns in the order read_attempt() reads them; `a` is the
// attempt table, `p` its profile.
constexpr std::string_view kAttemptColumns =
    "a.uid, p.namespace, p.name, p.family, a.job, a.fingerprint, a.command, a.run_uuid, "
    "a.manifest, a.number, a.started, a.wall_seconds, a.exit_code, a.signal, a.timed_out, "
    "a.requeued, a.oom_killed, a.declared_cpu, a.declared_memory, a.declared_iops, "
    "a.declared_gpu, a.admitted_cpu, a.admitted_memory, a.admitted_iops, a.admitted_gpu, "
    "a.predicted_memory, a.predicted_cores, a.predicted_wall, a.predicted_iops, a.method, "
    "a.peak_memory, a.cpu_seconds, a.user_seconds, a.system_seconds, a.average_cores, "
    "a.peak_cores, a.read_ops, a.write_ops, a.read_bytes, a.write_bytes, a.read_calls, "
    "a.write_calls, a.input_bytes";

template <typename T>
std::optional<T> optional_int(const sqlite::Statement& s, int column) {
  auto value = s.column_optional_int(column);
  if (!value) return std::nullopt;
  return static_cast<T>(*value);
}

Resources resources_at(const sqlite::Statement& s, int column) {
  Resources r;
  r.cpu = Cores::from_double(s.column_double(column));
  r.memory = static_cast<Bytes>(s.column_int(column + 1));
  r.iops = static_cast<Iops>(s.column_int(column + 2));
  r.gpu = static_cast<Gpus>(s.column_int(column + 3));
  return r;
}

AttemptRecord read_attempt(const sqlite::Statement& s) {
  AttemptRecord a;
  a.uid = s.column_text(0);
  a.key = {s.column_text(1), s.column_text(2)};
  a.family = s.column_text(3);
  a.job = s.column_text(4);
  a.fingerprint = s.column_text(5);
  a.command = s.column_text(6);
  a.run_uuid = s.column_text(7);
  a.manifest = s.column_text(8);
  a.number = static_cast<int>(s.column_int(9));
  a.started = s.column_text(10);
  a.wall_seconds = s.column_double(11);
  a.exit_code = optional_int<int>(s, 12);
  a.signal = optional_int<int>(s, 13);
  a.timed_out = s.column_int(14) != 0;
  a.requeued = s.column_int(15) != 0;
  a.usage.oom_killed = s.column_int(16) != 0;
  a.declared = resources_at(s, 17);
  a.admitted = resources_at(s, 21);
  a.predicted.memory = optional_int<Bytes>(s, 25);
  a.predicted.cores = s.column_optional_double(26);
  a.predicted.wall_seconds = s.column_optional_double(27);
  a.predicted.iops = s.column_optional_double(28);
  report::Usage& u = a.usage;
  u.method = s.column_text(29);
  u.peak_memory = optional_int<Bytes>(s, 30);
  u.cpu_seconds = s.column_optional_double(31);
  u.user_seconds = s.column_optional_double(32);
  u.system_seconds = s.column_optional_double(33);
  u.average_cores = s.column_optional_double(34);
  u.peak_cores = s.column_optional_double(35);
  u.read_ops = optional_int<uint64_t>(s, 36);
  u.write_ops = optional_int<uint64_t>(s, 37);
  u.read_bytes = optional_int<uint64_t>(s, 38);
  u.write_bytes = optional_int<uint64_t>(s, 39);
  u.read_calls = optional_int<uint64_t>(s, 40);
  u.write_calls = optional_int<uint64_t>(s, 41);
  a.input_bytes = optional_int<uint64_t>(s, 42);
  return a;
}

// What learning reads of an attempt, in the order read_learning() reads
// them: every one is in the attempt_history index, so that a query of these
// alone never reads the table.
constexpr std::string_view kLearningColumns =
    "fingerprint, wall_seconds, exit_code, signal, timed_out, requeued, oom_killed, "
    "admitted_memory, peak_memory, average_cores, peak_cores, read_ops, write_ops, input_bytes";

AttemptRecord read_learning(const sqlite::Statement& s) {
  AttemptRecord a;
  a.fingerprint = s.column_text(0);
  a.wall_seconds = s.column_double(1);
  a.exit_code = optional_int<int>(s, 2);
  a.signal = optional_int<int>(s, 3);
  a.timed_out = s.column_int(4) != 0;
  a.requeued = s.column_int(5) != 0;
  a.usage.oom_killed = s.column_int(6) != 0;
  a.admitted.memory = static_cast<Bytes>(s.column_int(7));
  a.usage.peak_memory = optional_int<Bytes>(s, 8);
  a.usage.average_cores = s.column_optional_double(9);
  a.usage.peak_cores = s.column_optional_double(10);
  a.usage.read_ops = optional_int<uint64_t>(s, 11);
  a.usage.write_ops = optional_int<uint64_t>(s, 12);
  a.input_bytes = optional_int<uint64_t>(s, 13);
  return a;
}

void bind_resources(sqlite::Statement& s, int index, const Resources& r) {
  s.bind(index, r.cpu.as_double())
      .bind(index + 1, static_cast<int64_t>(r.memory))
      .bind(index + 2, static_cast<int64_t>(r.iops))
      .bind(index + 3, static_cast<int64_t>(r.gpu));
}

// Every row of `select`, each made a record by `read` (whole rows:
// read_attempt); `expected` rows are made room for at once.
template <typename Read = AttemptRecord (*)(const sqlite::Statement&)>
Result<std::vector<AttemptRecord>> collect(sqlite::Statement& select, Read read = read_attempt,
                                           size_t expected = 0) {
  std::vector<AttemptRecord> attempts;
  attempts.reserve(expected);
  for (;;) {
    auto row = select.step();
    if (!row) return row.error();
    if (!*row) break;
    attempts.push_back(read(select));
  }
  // Selected newest first (for the LIMIT); handed out oldest first.
  std::reverse(attempts.begin(), attempts.end());
  return attempts;
}

int64_t as_limit(size_t limit) {
  return limit > static_cast<size_t>(INT64_MAX) ? -1 : static_cast<int64_t>(limit);
}

}  // namespace

Status Store::begin_run(const RunRecord& run) {
  auto transaction = sqlite::Transaction::begin(*db_);
  if (!transaction) return transaction.error();
  auto insert = sqlite::Statement::prepare(
      *db_,
      "INSERT OR IGNORE INTO run(uuid, manifest, namespace, host, wp_version, started, ended, "
      "capacity_cpu, capacity_memory, capacity_iops, capacity_gpu, exit_code) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
  if (!insert) return insert.error();
  insert->bind(1, std::string_view(run.uuid))
      .bind(2, std::string_view(run.manifest))
      .bind(3, std::string_view(run.space))
      .bind(4, std::string_view(run.host))
      .bind(5, std::string_view(run.wp_version))
      .bind(6, std::string_view(run.started));
  if (run.ended)
    insert->bind(7, std::string_view(*run.ended));
  else
    insert->bind_null(7);
  bind_resources(*insert, 8, run.capacity);
  insert->bind_optional(12, run.exit_code);
  if (auto done = insert->step(); !done) return done.error();
  return transaction->commit();
}

Status Store::end_run(const std::string& uuid, const std::string& ended, int exit_code) {
  auto transaction = sqlite::Transaction::begin(*db_);
  if (!transaction) return transaction.error();
  auto update =
      sqlite::Statement::prepare(*db_, "UPDATE run SET ended = ?2, exit_code = ?3 WHERE uuid = ?1");
  if (!update) return update.error();
  update->bind(1, std::string_view(uuid))
      .bind(2, std::string_view(ended))
      .bind(3, static_cast<int64_t>(exit_code));
  if (auto done = update->step(); !done) return done.error();
  return transaction->commit();
}

Result<std::optional<RunRecord>> Store::run(const std::string& uuid) {
  auto select = sqlite::Statement::prepare(
      *db_,
      "SELECT uuid, manifest, namespace, host, wp_version, started, ended, capacity_cpu, "
      "capacity_memory, capacity_iops, capacity_gpu, exit_code FROM run WHERE uuid = ?1");
  if (!select) return select.error();
  select->bind(1, std::string_view(uuid));
  auto row = select->step();
  if (!row) return row.error();
  if (!*row) return std::optional<RunRecord>();
  RunRecord run;
  run.uuid = select->column_text(0);
  run.manifest = select->column_text(1);
  run.space = select->column_text(2);
  run.host = select->column_text(3);
  run.wp_version = select->column_text(4);
  run.started = select->column_text(5);
  if (!select->column_is_null(6)) run.ended = select->column_text(6);
  run.capacity = resources_at(*select, 7);
  run.exit_code = optional_int<int>(*select, 11);
  return std::optional<RunRecord>(std::move(run));
}

Result<bool> Store::add_attempt(const AttemptRecord& attempt, int keep) {
  auto added = add_attempts(std::span<const AttemptRecord>(&attempt, 1), keep);
  if (!added) return added.error();
  return *added == 1;
}

// One transaction: the profile rows, the attempts, the aggregates and the
// trimming land together or not at all.
Result<size_t> Store::add_attempts(std::span<const AttemptRecord> attempts, int keep) {
  auto transaction = sqlite::Transaction::begin(*db_);
  if (!transaction) return transaction.error();
  size_t added = 0;
  for (const AttemptRecord& a : attempts) {
    auto inserted = insert_attempt(a, keep);
    if (!inserted) return inserted.error();
    added += *inserted ? 1 : 0;
  }
  if (auto status = transaction->commit(); !status) return status.error();
  return added;
}

Result<Store::ProfileRow> Store::profile_row(const AttemptRecord& a) {
  auto find_cached =
      prepared("SELECT id, kept_since FROM profile WHERE namespace = ?1 AND name = ?2");
  if (!find_cached) return find_cached.error();
  sqlite::Statement& find = **find_cached;
  find.bind(1, std::string_view(a.key.space)).bind(2, std::string_view(a.key.name));
  auto row = find.step();
  if (!row) return row.error();
  if (*row) {
    ProfileRow existing{find.column_int(0),
                        find.column_is_null(1) ? std::string() : find.column_text(1)};
    find.reset();
    return existing;
  }
  // New: the transaction is IMMEDIATE, so no other writer can add it between
  // the look and the insert.
  auto make_cached = prepared(
      "INSERT INTO profile(namespace, name, family, fingerprint, command, first_seen, last_seen) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)");
  if (!make_cached) return make_cached.error();
  sqlite::Statement& make = **make_cached;
  make.bind(1, std::string_view(a.key.space))
      .bind(2, std::string_view(a.key.name))
      .bind(3, std::string_view(a.family))
      .bind(4, std::string_view(a.fingerprint))
      .bind(5, std::string_view(a.command))
      .bind(6, std::string_view(a.started));
  if (auto done = make.step(); !done) return done.error();
  return ProfileRow{db_->last_insert_id(), {}};
}

Result<bool> Store::insert_attempt(const AttemptRecord& a, int keep) {
  // The profile is looked up once by name; every statement after this one
  // finds it, and its attempts, by id.
  auto profile = profile_row(a);
  if (!profile) return profile.error();
  if (!profile->kept_since.empty() && a.started < profile->kept_since) return false;

  auto insert_cached = prepared(
      "INSERT OR IGNORE INTO attempt(uid, profile_id, run_uuid, manifest, job, number, "
      "fingerprint, command, started, wall_seconds, exit_code, signal, timed_out, requeued, "
      "oom_killed, declared_cpu, declared_memory, declared_iops, declared_gpu, admitted_cpu, "
      "admitted_memory, admitted_iops, admitted_gpu, predicted_memory, predicted_cores, "
      "predicted_wall, predicted_iops, method, peak_memory, cpu_seconds, user_seconds, "
      "system_seconds, average_cores, peak_cores, read_ops, write_ops, read_bytes, write_bytes, "
      "read_calls, write_calls, input_bytes) "
      "VALUES (?1, ?41, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
      "?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, "
      "?36, ?37, ?38, ?39, ?40)");
  if (!insert_cached) return insert_cached.error();
  sqlite::Statement& insert = **insert_cached;
  const report::Usage& u = a.usage;
  insert.bind(1, std::string_view(a.uid))
      .bind(2, std::string_view(a.run_uuid))
      .bind(3, std::string_view(a.manifest))
      .bind(4, std::string_view(a.job))
      .bind(5, static_cast<int64_t>(a.number))
      .bind(6, std::string_view(a.fingerprint))
      .bind(7, std::string_view(a.command))
      .bind(8, std::string_view(a.started))
      .bind(9, a.wall_seconds)
      .bind_optional(10, a.exit_code)
      .bind_optional(11, a.signal)
      .bind(12, static_cast<int64_t>(a.timed_out))
      .bind(13, static_cast<int64_t>(a.requeued))
      .bind(14, static_cast<int64_t>(u.oom_killed));
  bind_resources(insert, 15, a.declared);
  bind_resources(insert, 19, a.admitted);
  insert.bind_optional(23, a.predicted.memory)
      .bind_optional(24, a.predicted.cores)
      .bind_optional(25, a.predicted.wall_seconds)
      .bind_optional(26, a.predicted.iops)
      .bind(27, std::string_view(u.method))
      .bind_optional(28, u.peak_memory)
      .bind_optional(29, u.cpu_seconds)
      .bind_optional(30, u.user_seconds)
      .bind_optional(31, u.system_seconds)
      .bind_optional(32, u.average_cores)
      .bind_optional(33, u.peak_cores)
      .bind_optional(34, u.read_ops)
      .bind_optional(35, u.write_ops)
      .bind_optional(36, u.read_bytes)
      .bind_optional(37, u.write_bytes)
      .bind_optional(38, u.read_calls)
      .bind_optional(39, u.write_calls)
      .bind_optional(40, a.input_bytes)
      .bind(41, profile->id);
  if (auto done = insert.step(); !done) return done.error();
  if (insert.changes() == 0) return false;  // already stored: nothing to add up

  // The newest attempt names the command; last_seen only moves forward, so
  // an import of old attempts does not make a profile look fresh.
  auto aggregate_cached = prepared(
      "UPDATE profile SET "
      "fingerprint = CASE WHEN ?3 >= last_seen THEN ?4 ELSE fingerprint END, "
      "command = CASE WHEN ?3 >= last_seen THEN ?5 ELSE command END, "
      "family = CASE WHEN ?3 >= last_seen THEN ?10 ELSE family END, "
      "first_seen = min(first_seen, ?3), last_seen = max(last_seen, ?3), "
      "runs = runs + ?6, attempts = attempts + 1, ok = ok + ?7, oom_kills = oom_kills + ?8, "
      "max_memory = CASE WHEN ?9 IS NULL THEN max_memory "
      "  WHEN max_memory IS NULL OR ?9 > max_memory THEN ?9 ELSE max_memory END, "
      "cpu_seconds = cpu_seconds + coalesce(?11, 0), wall_seconds = wall_seconds + ?12 "
      "WHERE id = ?1");
  if (!aggregate_cached) return aggregate_cached.error();
  sqlite::Statement& aggregate = **aggregate_cached;
  aggregate.bind(1, profile->id)
      .bind(3, std::string_view(a.started))
      .bind(4, std::string_view(a.fingerprint))
      .bind(5, std::string_view(a.command))
      .bind(6, static_cast<int64_t>(a.number == 1))
      .bind(7, static_cast<int64_t>(a.succeeded()))
      .bind(8, static_cast<int64_t>(u.oom_killed))
      .bind_optional(9, u.peak_memory)
      .bind(10, std::string_view(a.family))
      .bind_optional(11, u.cpu_seconds)
      .bind(12, a.wall_seconds);
  if (auto done = aggregate.step(); !done) return done.error();

  // Past the newest `keep` down attempt_history: a walk of the index that
  // usually finds nothing, where keeping a set of the newest ids to test
  // every attempt against cost twice as much on every insert.
  auto trim_cached = prepared(
      "DELETE FROM attempt WHERE id IN (SELECT id FROM attempt INDEXED BY attempt_history "
      "WHERE profile_id = ?1 ORDER BY started DESC, id DESC LIMIT -1 OFFSET ?2)");
  if (!trim_cached) return trim_cached.error();
  sqlite::Statement& trim = **trim_cached;
  trim.bind(1, profile->id).bind(2, static_cast<int64_t>(std::max(1, keep)));
  if (auto done = trim.step(); !done) return done.error();
  if (trim.changes() > 0) {
    auto mark_cached = prepared(
        "UPDATE profile SET kept_since = (SELECT min(started) FROM attempt WHERE profile_id = "
        "?1) WHERE id = ?1");
    if (!mark_cached) return mark_cached.error();
    sqlite::Statement& mark = **mark_cached;
    mark.bind(1, profile->id);
    if (auto done = mark.step(); !done) return done.error();
  }
  return true;
}

Result<std::vector<AttemptRecord>> Store::attempts(const ProfileKey& key, const std::string& since,
                                                   size_t limit) {
  auto select_cached =
      prepared(fmt::format("SELECT {} FROM attempt a JOIN profile p ON a.profile_id = p.id "
                           "WHERE p.namespace = ?1 AND p.name = ?2 AND a.started >= ?3 "
                           "ORDER BY a.started DESC, a.id DESC LIMIT ?4",
                           kAttemptColumns));
  if (!select_cached) return select_cached.error();
  sqlite::Statement& select = **select_cached;
  select.bind(1, std::string_view(key.space))
      .bind(2, std::string_view(key.name))
      .bind(3, std::string_view(since))
      .bind(4, as_limit(limit));
  return collect(select);
}

Result<std::vector<AttemptRecord>> Store::family_attempts(const std::string& space,
                                                          const std::string& family, size_t limit) {
  auto select_cached =
      prepared(fmt::format("SELECT {} FROM attempt a JOIN profile p ON a.profile_id = p.id "
                           "WHERE p.namespace = ?1 AND p.family = ?2 "
                           "ORDER BY a.started DESC, a.id DESC LIMIT ?3",
                           kAttemptColumns));
  if (!select_cached) return select_cached.error();
  sqlite::Statement& select = **select_cached;
  select.bind(1, std::string_view(space))
      .bind(2, std::string_view(family))
      .bind(3, as_limit(limit));
  return collect(select);
}

Status Store::namespace_attempts(const std::string& space, size_t per_profile,
                                 const std::function<void(ProfileHistory)>& each) {
  // One walk down attempt_history a profile, newest first, stopping after
  // `per_profile` entries: the cost follows what is read, never what is
  // kept (up to --keep a profile), and no row of the table is read. (A
  // window function over the namespace sorted every attempt kept; reading
  // whole rows sought each one in the table.)
  auto profiles = sqlite::Statement::prepare(
      *db_, "SELECT id, name, family FROM profile WHERE namespace = ?1 ORDER BY name");
  if (!profiles) return profiles.error();
  auto newest = sqlite::Statement::prepare(
      *db_, fmt::format("SELECT {} FROM attempt INDEXED BY attempt_history WHERE profile_id = ?1 "
                        "ORDER BY started DESC, id DESC LIMIT ?2",
                        kLearningColumns));
  if (!newest) return newest.error();
  profiles->bind(1, std::string_view(space));
  for (;;) {
    auto row = profiles->step();
    if (!row) return row.error();
    if (!*row) break;
    newest->reset();
    newest->bind(1, profiles->column_int(0)).bind(2, as_limit(per_profile));
    // Room for what learning reads back (30), not for a limit of "all";
    // given back when a profile has few, as most do after a first run: a
    // hundred thousand of them, a few hundred at a time on their way to
    // learning, held 5 MiB of room.
    constexpr size_t kRoomFor = 32;
    auto attempts = collect(*newest, read_learning, std::min(per_profile, kRoomFor));
    if (!attempts) return attempts.error();
    if (attempts->empty()) continue;
    if (attempts->capacity() > 2 * attempts->size()) attempts->shrink_to_fit();
    each(ProfileHistory{
        {space, profiles->column_text(1)}, profiles->column_text(2), std::move(*attempts)});
  }
  return Ok{};
}

Result<std::vector<AttemptRecord>> Store::all_attempts() {
  auto select = sqlite::Statement::prepare(
      *db_, fmt::format("SELECT {} FROM attempt a JOIN profile p ON a.profile_id = p.id "
                        "ORDER BY a.started DESC, a.id DESC",
                        kAttemptColumns));
  if (!select) return select.error();
  return collect(*select);
}

Result<std::vector<ProfileSummary>> Store::profiles(const std::string& space,
                                                    const std::string& name) {
  auto select = sqlite::Statement::prepare(
      *db_,
      "SELECT p.namespace, p.name, p.family, p.fingerprint, p.command, p.first_seen, "
      "p.last_seen, p.runs, p.attempts, p.ok, p.oom_kills, p.max_memory, p.cpu_seconds, "
      "p.wall_seconds, (SELECT count(*) FROM attempt a WHERE a.profile_id = p.id) "
      "FROM profile p WHERE (?1 = '' OR p.namespace = ?1) AND (?2 = '' OR p.name = ?2) "
      "ORDER BY p.namespace, p.name");
  if (!select) return select.error();
  select->bind(1, std::string_view(space)).bind(2, std::string_view(name));
  std::vector<ProfileSummary> profiles;
  for (;;) {
    auto row = select->step();
    if (!row) return row.error();
    if (!*row) break;
    ProfileSummary p;
    p.key = {select->column_text(0), select->column_text(1)};
    p.family = select->column_text(2);
    p.fingerprint = select->column_text(3);
    p.command = select->column_text(4);
    p.first_seen = select->column_text(5);
    p.last_seen = select->column_text(6);
    p.runs = select->column_int(7);
    p.attempts = select->column_int(8);
    p.ok = select->column_int(9);
    p.oom_kills = select->column_int(10);
    p.max_memory = optional_int<Bytes>(*select, 11);
    p.cpu_seconds = select->column_double(12);
    p.wall_seconds = select->column_double(13);
    p.kept = select->column_int(14);
    profiles.push_back(std::move(p));
  }
  return profiles;
}

Result<size_t> Store::forget(const std::string& space, const std::string& name) {
  auto transaction = sqlite::Transaction::begin(*db_);
  if (!transaction) return transaction.error();
  // Attempts go with their profile (ON DELETE CASCADE).
  auto remove = sqlite::Statement::prepare(
      *db_, "DELETE FROM profile WHERE (?1 = '' OR namespace = ?1) AND (?2 = '' OR name = ?2)");
  if (!remove) return remove.error();
  remove->bind(1, std::string_view(space)).bind(2, std::string_view(name));
  if (auto done = remove->step(); !done) return done.error();
  auto removed = static_cast<size_t>(remove->changes());
  if (auto status = transaction->commit(); !status) return status.error();
  return removed;
}

}  // namespace wp::profile
