// The manifest module's internal stages: parse (TOML -> templates), expand
// (matrix -> jobs), resolve (names -> dependency graph). Each stage reports
// into one Sink so that every problem in a file is found in one pass.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "manifest/diagnostic.h"
#include "manifest/manifest.h"
#include "resources/quantity.h"

namespace wp::manifest::detail {

// Where the lines of a text toml++ was given lie in the file, when the text
// is runs of the file's lines (split_jobs): each run starts at one line of
// the text and another of the file.
class LineMap {
 public:
  LineMap() = default;  // the text is the file
  // A text that is the file's lines from `file_line` on.
  static LineMap from(uint32_t file_line);
  // The next run of lines, from `text_line` on in the text (ascending).
  void add(uint32_t text_line, uint32_t file_line);
  uint32_t file_line(uint32_t text_line) const;

 private:
  struct Run {
    uint32_t text_line, file_line;
  };
  std::vector<Run> runs_;
};

// Collects diagnostics for one file, and says where in it a node is.
class Sink {
 public:
  explicit Sink(std::string file) : file_(std::move(file)) {}

  void error(SourcePos pos, std::string message);
  // At a node or key of the tree being read (see pos()).
  void error(const toml::node& at, std::string message) { error(pos(at), std::move(message)); }
  void error(const toml::key& at, std::string message) { error(pos(at), std::move(message)); }
  bool empty() const { return diagnostics_.empty(); }
  // In file order; identical diagnostics (matrix members sharing a template's
  // positions) are reported once.
  Diagnostics take_sorted();

  // Where a node or key of the tree being read is in the file.
  SourcePos pos(const toml::node& node) const { return pos(node.source()); }
  SourcePos pos(const toml::key& key) const { return pos(key.source()); }
  // The tree being read is of a text made of the file's lines as `lines` says.
  void reading(LineMap lines) { lines_ = std::move(lines); }

 private:
  SourcePos pos(const toml::source_region& region) const;

  std::string file_;
  Diagnostics diagnostics_;
  LineMap lines_;
};

// Where toml++ found a syntax error, in a text parsed whole.
SourcePos pos_of(const toml::source_region& region);

// As a TOML basic string, control characters escaped: "a\u0085".
std::string toml_string(std::string_view text);
// Nothing but ASCII whitespace (space, \t, \n, \v, \f, \r): no command to run.
bool is_blank(std::string_view text);

// Names the jobs one diagnostic is about: "'a'", "'a' and 'b'" or
// "'a' ... 'z'" (first and last, in manifest order), with their count.
class JobRange {
 public:
  void add(std::string_view name);
  size_t count() const { return count_; }
  // Every name added is the same one (a name repeated by a matrix).
  bool one_name() const { return first_ == last_; }
  std::string names() const;
  // "job 'a'" or "jobs 'a' ... 'z' (5000 jobs)", each with its note if any:
  // "job 'a' (<one>)", "jobs 'a' ... 'z' (5000 jobs <many>)".
  std::string subject(std::string_view one, std::string_view many) const;

 private:
  size_t count_ = 0;
  std::string first_, last_;
};

// Problems gathered by what they share, usually the place in the file they
// come from, so that each is reported once, in the order first found.
template <typename Key, typename Group>
class Grouped {
 public:
  // The group of `key`, made by `make()` when new.
  template <typename Make>
  Group& at(const Key& key, Make&& make) {
    auto [it, added] = index_.emplace(key, groups_.size());
    if (added) groups_.push_back(make());
    return groups_[it->second];
  }
  const std::vector<Group>& groups() const { return groups_; }

 private:
  std::map<Key, size_t> index_;
  std::vector<Group> groups_;
};

template <typename T>
struct Located {
  T value;
  SourcePos pos;
};

// Where a table set each resource: the key's position, unknown when unset.
struct ResourceKeys {
  SourcePos cpu, memory, iops, gpu;
};

// Keys shared by [defaults] and [[job]]; unset when the table does not set them.
struct Settings {
  std::optional<Cores> cpu;
  std::optional<Bytes> memory;
  std::optional<Iops> iops;
  std::optional<Gpus> gpu;
  std::optional<std::chrono::milliseconds> timeout;
  std::optional<int> retries;
  std::optional<int64_t> priority;
  std::map<std::string, std::string> env;
  std::optional<std::string> cwd;
  ResourceKeys keys;
};

using MatrixAxis = std::pair<std::string, std::vector<std::string>>;

// What resolve_graph reports a [[job]] table's jobs with: all a table
// keeps once its jobs are made.
struct TemplateHead {
  size_t ordinal = 0;  // 1-based among [[job]] tables, names jobs without a name
  SourcePos table_pos;
  std::optional<Located<std::string>> name;
  std::vector<Located<std::string>> after;

  // "job 'build'" or "job #3" for messages.
  std::string label() const;
};

// One [[job]] table as written, before defaults and matrix expansion.
struct JobTemplate : TemplateHead {
  std::optional<std::string> command;
  SourcePos command_pos;
  std::optional<std::vector<std::string>> argv;
  SourcePos program_pos;  // argv[0]
  Settings settings;
  std::vector<MatrixAxis> matrix;  // in toml++ iteration order (sorted keys)
  SourcePos matrix_pos;
  std::vector<std::string> inputs;
  std::optional<std::string> profile;
  SourcePos profile_pos;
};

struct Document {
  int64_t version = 1;
  std::string space;  // `namespace`; empty when not set
  CapacityLimits capacity;
  Settings defaults;
  std::vector<JobTemplate> jobs;  // empty when parsed in pieces (each piece's go to Expansion)
};

// Walks the parsed TOML, checking keys and types.
Document parse_document(const toml::table& root, Sink& sink);
// Reads the tables of a [[job]] array onto `jobs`; the first is the
// manifest's table number `first_ordinal`.
void parse_job_tables(const toml::array& tables, size_t first_ordinal,
                      std::vector<JobTemplate>& jobs, Sink& sink);

// A run of whole [[job]] tables in a manifest's text (with their [job.x]
// sub-tables), starting at the line of a [[job]] header.
struct JobPiece {
  std::string_view text;
  uint32_t first_line = 1;  // of text's first byte
  size_t tables = 0;        // [[job]] headers in it
};
// A manifest's text with its [[job]] tables cut out in pieces of about
// `piece_bytes` (cut only before a [[job]] header), and the rest of it: the
// lines outside the pieces, one after the other.
struct SplitText {
  std::vector<JobPiece> pieces;
  std::string rest;
  LineMap rest_lines;
  size_t tables = 0;
};
// Nothing where the text leaves a doubt where its headers are (an unclosed
// string or bracket, an escape in a quoted table name, a [job.x] table away
// from its [[job]]): it is then parsed whole.
std::optional<SplitText> split_jobs(std::string_view text, size_t piece_bytes);
// How much of a manifest's [[job]] tables toml++ is given at once: the tree
// of 256 KiB is some 6 MB.
inline constexpr size_t kPieceBytes = 256 << 10;
// load_file and load_string: in pieces of `piece_bytes` (whole if 0).
LoadResult load_text(std::string text, const std::filesystem::path& path, size_t piece_bytes);

// Typed readers for single values; each reports a problem as "<where>: <key>:
// ..." at the value and returns nothing.
struct Field {
  const toml::node& node;
  std::string where;  // "job 'build'", "[defaults]" or "" at the top level
  std::string key;    // "memory", "env.HOME"
  // "job 'build': memory: ", "[defaults] memory: ", "version: "
  std::string prefix() const;
};
std::optional<Cores> read_cores(const Field& field, Sink& sink);
std::optional<Bytes> read_bytes(const Field& field, Sink& sink);
std::optional<std::chrono::milliseconds> read_duration(const Field& field, Sink& sink);
// An integer in [min, max]; floats without a fractional part count as integers.
std::optional<int64_t> read_integer(const Field& field, int64_t min, int64_t max, Sink& sink);
std::optional<std::string> read_string(const Field& field, Sink& sink);
// Strings, integers, floats and booleans, written as text: integers in
// decimal, floats in plain decimal (no exponent), booleans as true or false.
std::optional<std::string> read_scalar(const Field& field, Sink& sink);
std::optional<std::vector<Located<std::string>>> read_string_array(const Field& field, Sink& sink);
std::string describe_type(const toml::node& node);

// A job with the table it came from, for diagnostics about names and
// `after`. The job itself is an element of the manifest's vector, made in
// place: 100,000 jobs are not built in one vector and moved to another.
struct ExpandedJob {
  Job& job;
  const TemplateHead* source = nullptr;
  std::vector<Located<std::string>> after_names;  // substituted, with template positions
};

// Templates -> jobs, as the templates are read: a piece's templates are made
// into jobs (defaults applied, matrices expanded) and dropped before the
// next piece is parsed, so 100,000 templates are never held beside the
// jobs made of them. A template without a matrix gives its one job what it
// holds rather than copies; each leaves its TemplateHead. Templates without
// a name make no job (parse has reported them).
class Expansion {
 public:
  explicit Expansion(std::filesystem::path base_dir) : base_dir_(std::move(base_dir)) {}

  // Appends the jobs of `templates` to `jobs`, and frees `templates`.
  // `tables_after`: how many [[job]] tables are still to come, so that
  // `jobs` grows once rather than by doubling (which holds both copies).
  void add(std::vector<JobTemplate>& templates, size_t tables_after, const Settings& defaults,
           Sink& sink, std::vector<Job>& jobs);
  // Every job made, in order, with its table; `jobs` must not change after.
  std::vector<ExpandedJob> finish(std::vector<Job>& jobs);
  const std::deque<TemplateHead>& heads() const { return heads_; }

 private:
  // The directory `written` (a job's cwd with no matrix value in it) names:
  // one copy for the jobs that write the same.
  SharedText working_dir(std::string written);

  struct Made {
    size_t head = 0;  // into heads_
    std::vector<Located<std::string>> after_names;
  };
  std::filesystem::path base_dir_;
  std::deque<TemplateHead> heads_;                    // every table's, in file order; never moved
  std::vector<Made> made_;                            // one a job, in order
  std::unordered_map<std::string, SharedText> dirs_;  // working_dir's, by what was written
};

// A matrix value that empties a member's name, command, argv[0] or profile,
// or brings a control character into its name or profile: reported once for
// each key of `tmpl`, with the values that did it. `members`: its jobs.
void check_expanded(const JobTemplate& tmpl, std::span<const Job> members, Sink& sink);
// Replaces `{key}` for each key of `values`; other braces are left alone.
std::string substitute(std::string_view text, const NamedValues& values);

// Reports duplicate names, resolves `after` to indices and reports unknown
// names and cycles. `tables` are all the [[job]] tables: those that made
// no job (no valid name) still have their `after` names checked.
void resolve_graph(std::vector<ExpandedJob>& jobs, const std::deque<TemplateHead>& tables,
                   Sink& sink);

// The candidate `word` most likely means: another tool's name for it
// ("depends_on" for "after"), a unique prefix either way ("mem", "cpus"), or
// the nearest by edit distance when near enough to be a plausible typo.
std::optional<std::string> nearest(std::string_view word,
                                   const std::vector<std::string>& candidates);
// The same over views: for candidates picked from a larger set, not copied.
std::optional<std::string> nearest_among(std::string_view word,
                                         const std::vector<std::string_view>& candidates);
// "; did you mean 'X'?" or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);
std::string did_you_mean_among(std::string_view word,
                               const std::vector<std::string_view>& candidates);

}  // namespace wp::manifest::detail
