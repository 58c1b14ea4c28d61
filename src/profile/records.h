// What the profile store keeps: runs, job attempts with everything measured
// about them, and per-profile aggregates. Plain values; store.h reads and
// writes them, forecast.h and `wp profile` interpret them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "report/run_report.h"
#include "resources/quantity.h"

namespace wp::profile {

// Which history a job feeds and draws from: a namespace that tells projects
// apart (the manifest's `namespace`, else one derived from its repository)
// and a name (the job's `profile` key, else its name).
struct ProfileKey {
  std::string space;  // "github.com/acme/app:ci/jobs.toml"
  std::string name;   // "build"
  friend bool operator==(const ProfileKey&, const ProfileKey&) = default;
};

struct RunRecord {
  std::string uuid;      // random, 32 hex digits
  std::string manifest;  // absolute path as run
  std::string space;
  std::string host;
  std::string wp_version;
  std::string started;               // UTC, ISO 8601 ("2026-11-24T10:00:00.000Z"); sorts as text
  std::optional<std::string> ended;  // unset while running, or if wp died
  Resources capacity;
  std::optional<int> exit_code;
};

// The predictions admission used for an attempt (after the safety margin),
// per resource; unset: none was made for it.
struct Predicted {
  std::optional<Bytes> memory;
  std::optional<double> cores;
  std::optional<double> wall_seconds;
  std::optional<double> iops;
};

struct AttemptRecord {
  std::string uid;  // "<run uuid>/<job>/<number>": unique, how import merges
  ProfileKey key;
  std::string family;       // matrix family ("test-{shard}"); empty when none
  std::string job;          // the job's name in its manifest
  std::string fingerprint;  // of the command, 16 hex digits
  std::string command;      // as run (argv joined with spaces when exec'd directly)
  std::string run_uuid;
  std::string manifest;  // of the run, absolute
  int number = 1;        // attempt number within the run
  std::string started;   // UTC, ISO 8601
  double wall_seconds = 0;
  std::optional<int> exit_code;
  std::optional<int> signal;
  bool timed_out = false;
  bool requeued = false;
  Resources declared;  // from the manifest
  Resources admitted;  // what the scheduler held for it
  Predicted predicted;
  report::Usage usage;                  // method, peak memory, CPU, I/O, oom_killed
  std::optional<uint64_t> input_bytes;  // total size of `inputs`; unset when none declared

  bool succeeded() const { return exit_code == 0 && !timed_out; }
  // Average device operations a second, when counted (cgroup methods).
  std::optional<double> iops() const;
};

// A profile and its lifetime aggregates, which outlive the attempts
// retention removes.
struct ProfileSummary {
  ProfileKey key;
  std::string family;
  std::string fingerprint;  // of the newest attempt
  std::string command;
  std::string first_seen;
  std::string last_seen;
  int64_t runs = 0;      // attempts numbered 1: runs the job took part in
  int64_t attempts = 0;  // every attempt ever recorded
  int64_t ok = 0;
  int64_t oom_kills = 0;
  std::optional<Bytes> max_memory;  // highest peak ever measured
  double cpu_seconds = 0;           // summed over every attempt
  double wall_seconds = 0;
  int64_t kept = 0;  // attempts still stored (at most --keep)
};

}  // namespace wp::profile
