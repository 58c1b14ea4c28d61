// Names -> dependency graph: duplicate names, `after` resolution, cycles.
#include <algorithm>
#include <deque>
#include <functional>
#include <set>
#include <span>
#include <tuple>

#include <fmt/format.h>

#include "manifest/internal.h"

namespace wp::manifest::detail {

namespace {

// Where each edge i -> j of the graph was written: the `after` entry.
using EdgePositions = std::vector<std::map<size_t, SourcePos>>;

// "; add {b} to the name" when the family's name misses matrix keys, which is
// how one template makes two jobs of the same name.
std::string missing_keys_hint(const Job& job) {
  std::vector<std::string> missing;
  for (const auto& [key, value] : job.matrix) {
    std::string placeholder = "{" + key + "}";
    if (job.family.find(placeholder) == std::string::npos) missing.push_back(placeholder);
  }
  if (missing.empty()) return "; give the members different matrix values";
  return fmt::format("; add {} to the name", fmt::join(missing, " and "));
}

// The names one table repeats from one table (itself, when a matrix makes
// the same name twice): one mistake, reported once.
struct Duplicates {
  const ExpandedJob* first;  // the job that has the first repeated name
  const ExpandedJob* again;  // the first job that repeats it
  JobRange names;
};

// "name 'x' (from matrix expansion of 'x-{a}')" or "names 'x-1' ... 'x-9'
// (9 jobs from matrix expansion of 'x-{a}')".
std::string repeated(const Job& job, const JobRange& names) {
  std::string from =
      job.matrix.empty() ? "" : fmt::format("from matrix expansion of '{}'", job.family);
  if (names.one_name()) {
    return from.empty() ? fmt::format("name '{}'", job.name)
                        : fmt::format("name '{}' ({})", job.name, from);
  }
  return fmt::format("names {} ({} jobs{}{})", names.names(), names.count(),
                     from.empty() ? "" : " ", from);
}

void report_duplicates(const Duplicates& duplicates, Sink& sink) {
  const Job& job = duplicates.again->job;
  std::string what = repeated(job, duplicates.names);
  if (duplicates.first->source == duplicates.again->source) {
    sink.error(job.pos, fmt::format("duplicate job {}{}", what, missing_keys_hint(job)));
    return;
  }
  sink.error(job.pos,
             fmt::format("duplicate job {}; {} already used at line {}; rename one of them", what,
                         duplicates.names.one_name() ? "the name is" : "the names are",
                         duplicates.first->job.pos.line));
}

std::map<std::string, size_t> index_names(const std::vector<ExpandedJob>& jobs, Sink& sink) {
  std::map<std::string, size_t> by_name;
  Grouped<std::pair<const TemplateHead*, const TemplateHead*>, Duplicates> duplicates;
  for (size_t i = 0; i < jobs.size(); ++i) {
    auto [it, inserted] = by_name.emplace(jobs[i].job.name, i);
    if (inserted) continue;
    const ExpandedJob& first = jobs[it->second];
    auto make = [&] { return Duplicates{&first, &jobs[i], {}}; };
    duplicates.at({jobs[i].source, first.source}, make).names.add(jobs[i].job.name);
  }
  for (const Duplicates& group : duplicates.groups())
    report_duplicates(group, sink);
  return by_name;
}

// Matrix families by their template name ("test-{shard}"), meaning every member.
std::map<std::string, std::vector<size_t>> index_families(const std::vector<ExpandedJob>& jobs) {
  std::map<std::string, std::vector<size_t>> families;
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (!jobs[i].job.matrix.empty()) families[jobs[i].job.family].push_back(i);
  }
  return families;
}

// "; did you mean ...?" for unknown `after` names. Each lookup scans every
// name, so the same name is looked up once, and past the first few names
// (which are what a reader acts on) no more are.
class Suggestions {
 public:
  Suggestions(const std::vector<ExpandedJob>& jobs, const std::map<std::string, size_t>& by_name,
              const std::map<std::string, std::vector<size_t>>& families) {
    for (const auto& [name, index] : by_name)
      candidates_.push_back({name, jobs[index].source});
    for (const auto& [family, members] : families)
      candidates_.push_back({family, jobs[members.front()].source});
  }

  // Never a job of the asking table: for an entry its members share, the
  // member of that name would wait for itself, a cycle.
  const std::string& hint(const std::string& word, const TemplateHead* asking) {
    constexpr size_t kMaxLookups = 20;
    auto key = std::make_pair(word, asking);
    if (auto found = hints_.find(key); found != hints_.end()) return found->second;
    std::string hint;
    if (hints_.size() < kMaxLookups) {
      std::vector<std::string_view> others;
      for (const Candidate& candidate : candidates_) {
        if (candidate.source != asking) others.push_back(candidate.name);
      }
      hint = did_you_mean_among(word, others);
    }
    return hints_.emplace(std::move(key), std::move(hint)).first->second;
  }

 private:
  struct Candidate {
    std::string_view name;  // a key of the maps given, which outlive this
    const TemplateHead* source;
  };
  std::vector<Candidate> candidates_;
  std::map<std::pair<std::string, const TemplateHead*>, std::string> hints_;
};

// The jobs of one table whose same `after` entry makes no edge: it names no
// job, or each job itself.
struct EntryJobs {
  const ExpandedJob* first;  // the first of them
  size_t entry;              // which of the template's `after` entries
  JobRange members;
  JobRange named;  // the names the entry gave them
};

void report_unknown(const EntryJobs& unknown, Suggestions& suggestions, Sink& sink) {
  const ExpandedJob& first = *unknown.first;
  const Located<std::string>& after = first.after_names[unknown.entry];
  const std::string& hint = suggestions.hint(after.value, first.source);
  // Matrix members share the template's entry: name the family unless
  // substitution made each member's entry its own.
  if (after.value == first.source->after[unknown.entry].value) {
    sink.error(after.pos, fmt::format("job '{}': after: unknown job '{}'{}",
                                      first.source->name->value, after.value, hint));
    return;
  }
  const JobRange& missing = unknown.named;
  sink.error(after.pos, fmt::format("{}: after: unknown job{} {}{}",
                                    unknown.members.subject("", "from this table"),
                                    missing.one_name() ? "" : "s", missing.names(), hint));
}

class CycleFinder {
 public:
  CycleFinder(const std::vector<ExpandedJob>& jobs, const EdgePositions& edges, Sink& sink)
      : jobs_(jobs),
        edges_(edges),
        sink_(sink),
        index_(jobs.size(), kUnvisited),
        low_(jobs.size()),
        on_stack_(jobs.size()) {}

  // Tarjan's strongly connected components: each component of more than one
  // job holds a cycle, and one cycle a component is enough to act on.
  void run() {
    for (size_t v = 0; v < jobs_.size(); ++v) {
      if (index_[v] == kUnvisited) visit(v);
    }
  }

 private:
  static constexpr size_t kUnvisited = static_cast<size_t>(-1);
  using EdgeIterator = std::map<size_t, SourcePos>::const_iterator;

  // A job being visited and the next of its edges to follow.
  struct Frame {
    size_t v;
    EdgeIterator next;
  };

  // Depth-first with an explicit stack: a chain of 100,000 jobs would
  // overflow the call stack.
  void visit(size_t root) {
    std::vector<Frame> path;
    enter(root, path);
    while (!path.empty()) {
      Frame& frame = path.back();
      const size_t v = frame.v;
      if (frame.next != edges_[v].end()) {
        const size_t w = (frame.next++)->first;
        if (index_[w] == kUnvisited) {
          enter(w, path);  // invalidates `frame`
        } else if (on_stack_[w]) {
          low_[v] = std::min(low_[v], index_[w]);
        }
        continue;
      }
      path.pop_back();
      if (!path.empty()) low_[path.back().v] = std::min(low_[path.back().v], low_[v]);
      if (low_[v] == index_[v]) pop_component(v);
    }
  }

  void enter(size_t v, std::vector<Frame>& path) {
    index_[v] = low_[v] = next_index_++;
    stack_.push_back(v);
    on_stack_[v] = true;
    path.push_back({v, edges_[v].begin()});
  }

  void pop_component(size_t root) {
    std::set<size_t> component;
    size_t w = 0;
    do {
      w = stack_.back();
      stack_.pop_back();
      on_stack_[w] = false;
      component.insert(w);
    } while (w != root);
    if (component.size() > 1) report(component);
  }

  // The shortest cycle through the component's first job, by breadth-first search.
  std::vector<size_t> cycle_through(size_t start, const std::set<size_t>& component) const {
    std::map<size_t, size_t> parent;
    std::deque<size_t> queue{start};
    while (!queue.empty()) {
      size_t v = queue.front();
      queue.pop_front();
      for (const auto& [w, pos] : edges_[v]) {
        if (w == start) {
          std::vector<size_t> path{v};
          while (path.back() != start)
            path.push_back(parent.at(path.back()));
          std::reverse(path.begin(), path.end());
          return path;
        }
        if (component.count(w) && !parent.count(w)) {
          parent[w] = v;
          queue.push_back(w);
        }
      }
    }
    return {start};  // unreachable for a strongly connected component
  }

  void report(const std::set<size_t>& component) {
    size_t start = *component.begin();
    std::vector<size_t> cycle = cycle_through(start, component);
    SourcePos pos = edges_[start].at(cycle.size() > 1 ? cycle[1] : start);
    // Matrix members share their template's positions: one cycle a place.
    if (!reported_.emplace(pos.line, pos.column).second) return;
    sink_.error(pos, fmt::format("{}; remove one of these `after` entries", describe(cycle)));
  }

  // "dependency cycle: a -> b -> a"; a long cycle shows its first jobs only,
  // as listing 100,000 names helps no one.
  std::string describe(const std::vector<size_t>& cycle) const {
    constexpr size_t kMaxListed = 10;
    constexpr size_t kShownOfLong = 8;
    const bool is_long = cycle.size() > kMaxListed;
    std::vector<std::string> names;
    for (size_t i = 0; i < (is_long ? kShownOfLong : cycle.size()); ++i)
      names.push_back(jobs_[cycle[i]].job.name);
    if (is_long) names.push_back(fmt::format("... ({} more)", cycle.size() - kShownOfLong));
    names.push_back(jobs_[cycle.front()].job.name);
    if (!is_long) return fmt::format("dependency cycle: {}", fmt::join(names, " -> "));
    return fmt::format("dependency cycle of {} jobs: {}", cycle.size(), fmt::join(names, " -> "));
  }

  const std::vector<ExpandedJob>& jobs_;
  const EdgePositions& edges_;
  Sink& sink_;
  std::vector<size_t> index_;
  std::vector<size_t> low_;
  std::vector<bool> on_stack_;
  std::vector<size_t> stack_;
  size_t next_index_ = 0;
  std::set<std::pair<uint32_t, uint32_t>> reported_;
};

// A [[job]] without a valid name makes no job, but what its `after` names
// is still checked: one pass should report every problem of the file.
void check_nameless_after(const std::deque<TemplateHead>& tables,
                          const std::map<std::string, size_t>& by_name,
                          const std::map<std::string, std::vector<size_t>>& families,
                          Suggestions& suggestions, Sink& sink) {
  for (const TemplateHead& tmpl : tables) {
    if (tmpl.name) continue;
    for (const Located<std::string>& after : tmpl.after) {
      if (by_name.count(after.value) || families.count(after.value)) continue;
      sink.error(after.pos, fmt::format("{}: after: unknown job '{}'{}", tmpl.label(), after.value,
                                        suggestions.hint(after.value, &tmpl)));
    }
  }
}

void report_itself(const EntryJobs& itself, Sink& sink) {
  const ExpandedJob& first = *itself.first;
  const std::string& name = first.job.name;
  const Located<std::string>& after = first.after_names[itself.entry];
  if (itself.members.count() == 1) {
    sink.error(after.pos, fmt::format("job '{}': after: the job depends on itself (dependency "
                                      "cycle: {} -> {}); remove '{}' from after",
                                      name, name, name, after.value));
    return;
  }
  sink.error(after.pos, fmt::format("{}: after: each job depends on itself (dependency cycle: "
                                    "{} -> {}); remove '{}' from after",
                                    itself.members.subject("", "from this table"), name, name,
                                    first.source->after[itself.entry].value));
}

// Turns `after` names into edges, gathering what no edge can be made of by
// the entry that wrote it.
class AfterResolver {
 public:
  AfterResolver(std::vector<ExpandedJob>& jobs, const std::map<std::string, size_t>& by_name,
                const std::map<std::string, std::vector<size_t>>& families)
      : jobs_(jobs), by_name_(by_name), families_(families), edges_(jobs.size()) {}

  void resolve(size_t from, size_t entry) {
    const Located<std::string>& after = jobs_[from].after_names[entry];
    std::span<const size_t> targets = targets_of(after.value);
    if (targets.empty()) {
      EntryJobs& group = group_of(unknown_, from, entry);
      group.members.add(jobs_[from].job.name);
      group.named.add(after.value);
    }
    for (size_t to : targets) {
      if (to == from) {
        group_of(itself_, from, entry).members.add(jobs_[from].job.name);
      } else if (edges_[from].emplace(to, after.pos).second) {
        jobs_[from].job.after.push_back(to);
      }
    }
  }

  void report(Suggestions& suggestions, Sink& sink) const {
    for (const EntryJobs& group : unknown_.groups())
      report_unknown(group, suggestions, sink);
    for (const EntryJobs& group : itself_.groups())
      report_itself(group, sink);
  }

  const EdgePositions& edges() const { return edges_; }

 private:
  using Entries = Grouped<std::pair<const TemplateHead*, size_t>, EntryJobs>;

  // A job's name is one job, a family's every member; neither is none.
  std::span<const size_t> targets_of(const std::string& name) const {
    if (auto named = by_name_.find(name); named != by_name_.end()) return {&named->second, 1};
    if (auto family = families_.find(name); family != families_.end()) return family->second;
    return {};
  }

  EntryJobs& group_of(Entries& entries, size_t job, size_t entry) {
    return entries.at({jobs_[job].source, entry}, [&] {
      return EntryJobs{&jobs_[job], entry, {}, {}};
    });
  }

  std::vector<ExpandedJob>& jobs_;
  const std::map<std::string, size_t>& by_name_;
  const std::map<std::string, std::vector<size_t>>& families_;
  EdgePositions edges_;
  Entries unknown_;
  Entries itself_;
};

}  // namespace

void resolve_graph(std::vector<ExpandedJob>& jobs, const std::deque<TemplateHead>& tables,
                   Sink& sink) {
  const std::map<std::string, size_t> by_name = index_names(jobs, sink);
  const std::map<std::string, std::vector<size_t>> families = index_families(jobs);
  Suggestions suggestions(jobs, by_name, families);
  AfterResolver resolver(jobs, by_name, families);
  for (size_t i = 0; i < jobs.size(); ++i) {
    for (size_t k = 0; k < jobs[i].after_names.size(); ++k)
      resolver.resolve(i, k);
  }
  resolver.report(suggestions, sink);
  check_nameless_after(tables, by_name, families, suggestions, sink);
  CycleFinder(jobs, resolver.edges(), sink).run();
}

}  // namespace wp::manifest::detail
