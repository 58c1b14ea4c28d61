// The manifest as wp runs it: defaults applied, matrices expanded, `after`
// resolved to job indices. Everything here has been validated.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "manifest/diagnostic.h"
#include "resources/capacity.h"
#include "resources/quantity.h"
#include "util/shared_text.h"

namespace wp::manifest {

// Where a job's request for one resource was set, so that a value that is
// wrong for every job it reaches is reported once, at the key that set it.
struct RequestSource {
  enum class From : uint8_t { builtin, defaults, job };
  From from = From::builtin;
  SourcePos pos;  // the key in the job's table or in [defaults]; unknown for builtin
};
struct RequestSources {
  RequestSource cpu, memory, iops, gpu;
};

// Names and their values, sorted by name, each name once: a job's env, a
// matrix member's values. A sorted vector rather than a std::map: a job's
// entries are written once and looked up rarely, and for 100,000 jobs with
// two env entries each, maps' nodes held 19 MB where vectors hold 13 MB.
using NamedValues = std::vector<std::pair<std::string, std::string>>;

// The value `values` gives `name`, or null.
const std::string* find_value(const NamedValues& values, std::string_view name);

struct Job {
  std::string name;     // after matrix expansion: "test-2"
  std::string family;   // a matrix member's name before expansion, "test-{shard}"; else empty
  NamedValues matrix;   // a matrix member's values: {shard: "2"}; else empty
  std::string command;  // run by /bin/sh -c (or directly, see exec)
  std::vector<std::string> argv;  // exec'd directly; set instead of command
  Resources request;              // declared cpu, memory, iops, gpu
  RequestSources request_from;    // where each part of `request` was set
  std::vector<size_t> after;      // indices into Manifest::jobs
  int64_t priority = 0;           // higher runs first
  std::optional<std::chrono::milliseconds> timeout;
  int retries = 0;  // further attempts after a failed one
  NamedValues env;  // on top of the inherited environment
  // Absolute; default the manifest's directory. Text, not a path: a path's
  // parsed components would cost every matrix member 200 bytes. Shared by
  // the jobs that write the same one: 100,000 copies of a 19-character
  // path took 5 MB.
  SharedText cwd;
  std::vector<std::string> inputs;  // glob patterns, relative to cwd
  // `tags` are checked and not kept: wp does nothing with them, and 100,000
  // jobs' three tags took 11 MB.
  std::string profile;  // the history it shares (`profile`); empty: its own, by name
  SourcePos pos;        // the job's `name` value in the manifest
  SourcePos table_pos;  // its [[job]] header (a matrix member's: its template's)
};

// [capacity]: caps on what wp may use. Unset fields leave the machine's figure.
using CapacityLimits = CapacityCaps;

struct Manifest {
  std::filesystem::path path;  // as given on the command line
  int64_t version = 1;
  std::string space;  // `namespace`: whose history; empty: derived from the repository
  CapacityLimits capacity;
  std::vector<Job> jobs;  // manifest order, matrix members in expansion order
};

// The most `retries` a job may have: enough for any flaky job, and few
// enough that one that times out every time cannot keep a run (or a plan's
// simulation of it) going for years.
inline constexpr int kMaxRetries = 100;

// Built-in defaults for keys neither the job nor [defaults] sets.
inline constexpr double kDefaultCpu = 1.0;
inline constexpr Bytes kDefaultMemory = 256ull << 20;

struct LoadResult {
  // Set unless the file could not be read or is not TOML. Only a manifest
  // without errors may be run; with errors it serves further checks.
  std::optional<Manifest> manifest;
  Diagnostics errors;  // every problem found, in file order
};

// Reads, validates and expands a manifest file. A file that cannot be read is
// one diagnostic without a position.
LoadResult load_file(const std::filesystem::path& path);
// The same from text; `path` names the file in diagnostics and anchors
// relative `cwd`s (its parent directory is the default cwd).
LoadResult load_string(std::string_view text, const std::filesystem::path& path);

// The first control character of `text` (UTF-8): C0 (below U+0020), DEL or
// C1 (U+0080..U+009F). None of them is allowed in job names, `namespace` or
// `profile` (nor in `wp exec --name`): a terminal acts on them rather than
// showing them.
std::optional<char32_t> control_character(std::string_view text);
// "U+0085".
std::string code_point(char32_t c);
// `text` with each control character written as \uXXXX ("a\u0085"), the
// rest as it is.
std::string escaped_controls(std::string_view text);

// Jobs that can never start because their demand exceeds `capacity` in some
// dimension: one diagnostic for each place in the file that set a value too
// large (a [[job]] key, a [defaults] key), naming the jobs it reaches; a
// built-in default too large is reported once for each table, at its name.
// `flags_as_given`: --cpus and --memory name the machine checked against
// (wp plan, wp validate), even a larger one, so the advice may be to name one.
Diagnostics check_fits(const Manifest& manifest, const Resources& capacity,
                       bool flags_as_given = false);

}  // namespace wp::manifest
