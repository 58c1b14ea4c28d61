// Names -> dependency graph: duplicate names, `after` resolution, cycles.
#include <algorithm>
#include <deque>
#include <functional>
#include <set>
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

void report_duplicate(const ExpandedJob& first, const ExpandedJob& again, Sink& sink) {
  const Job& job = again.job;
  std::string from =
      job.matrix.empty() ? "" : fmt::format(" (from matrix expansion of '{}')", job.family);
  if (first.source == again.source) {
    sink.error(job.pos,
               fmt::format("duplicate job name '{}'{}{}", job.name, from, missing_keys_hint(job)));
    return;
  }
  sink.error(job.pos, fmt::format("duplicate job name '{}'{}; the name is already used at line "
                                  "{}; rename one of them",
                                  job.name, from, first.job.pos.line));
}

std::map<std::string, size_t> index_names(const std::vector<ExpandedJob>& jobs, Sink& sink) {
  std::map<std::string, size_t> by_name;
  for (size_t i = 0; i < jobs.size(); ++i) {
    auto [it, inserted] = by_name.emplace(jobs[i].job.name, i);
    if (!inserted) report_duplicate(jobs[it->second], jobs[i], sink);
  }
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

std::vector<std::string> known_names(const std::map<std::string, size_t>& by_name,
                                     const std::map<std::string, std::vector<size_t>>& families) {
  std::vector<std::string> names;
  for (const auto& entry : by_name)
    names.push_back(entry.first);
  for (const auto& entry : families)
    names.push_back(entry.first);
  return names;
}

// "; did you mean ...?" for unknown `after` names. Each lookup scans every
// name, so a matrix whose every member names a missing job would cost
// members * names: the same name is looked up once, and past the first few
// names (which are what a reader acts on) no more are.
class Suggestions {
 public:
  explicit Suggestions(std::vector<std::string> candidates) : candidates_(std::move(candidates)) {}

  const std::string& hint(const std::string& word) {
    constexpr size_t kMaxLookups = 20;
    if (auto found = hints_.find(word); found != hints_.end()) return found->second;
    std::string hint = hints_.size() < kMaxLookups ? did_you_mean(word, candidates_) : "";
    return hints_.emplace(word, std::move(hint)).first->second;
  }

 private:
  std::vector<std::string> candidates_;
  std::map<std::string, std::string> hints_;
};

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

void add_edge(std::vector<ExpandedJob>& jobs, size_t from, size_t to, SourcePos pos,
              EdgePositions& edges, Sink& sink) {
  Job& job = jobs[from].job;
  if (from == to) {
    sink.error(pos, fmt::format("job '{}': after: the job depends on itself (dependency cycle: "
                                "{} -> {}); remove '{}' from after",
                                job.name, job.name, job.name, job.name));
    return;
  }
  if (edges[from].emplace(to, pos).second) job.after.push_back(to);
}

// A [[job]] without a valid name makes no job, but what its `after` names
// is still checked: one pass should report every problem of the file.
void check_nameless_after(const std::vector<JobTemplate>& templates,
                          const std::map<std::string, size_t>& by_name,
                          const std::map<std::string, std::vector<size_t>>& families,
                          Suggestions& suggestions, Sink& sink) {
  for (const JobTemplate& tmpl : templates) {
    if (tmpl.name) continue;
    for (const Located<std::string>& after : tmpl.after) {
      if (by_name.count(after.value) || families.count(after.value)) continue;
      sink.error(after.pos, fmt::format("{}: after: unknown job '{}'{}", tmpl.label(), after.value,
                                        suggestions.hint(after.value)));
    }
  }
}

}  // namespace

void resolve_graph(std::vector<ExpandedJob>& jobs, const std::vector<JobTemplate>& templates,
                   Sink& sink) {
  const std::map<std::string, size_t> by_name = index_names(jobs, sink);
  const std::map<std::string, std::vector<size_t>> families = index_families(jobs);
  Suggestions suggestions(known_names(by_name, families));
  EdgePositions edges(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    for (size_t k = 0; k < jobs[i].after_names.size(); ++k) {
      const Located<std::string>& after = jobs[i].after_names[k];
      if (auto named = by_name.find(after.value); named != by_name.end()) {
        add_edge(jobs, i, named->second, after.pos, edges, sink);
      } else if (auto family = families.find(after.value); family != families.end()) {
        for (size_t member : family->second)
          add_edge(jobs, i, member, after.pos, edges, sink);
      } else {
        // Matrix members share the template's entry: name the family unless
        // substitution made this member's entry its own.
        const Job& job = jobs[i].job;
        bool shared = after.value == jobs[i].source->after[k].value;
        sink.error(after.pos, fmt::format("job '{}': after: unknown job '{}'{}",
                                          shared ? job.family : job.name, after.value,
                                          suggestions.hint(after.value)));
      }
    }
  }
  check_nameless_after(templates, by_name, families, suggestions, sink);
  CycleFinder(jobs, edges, sink).run();
}

}  // namespace wp::manifest::detail
