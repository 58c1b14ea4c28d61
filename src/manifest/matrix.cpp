// Templates -> jobs: defaults applied, matrices expanded, `{key}` substituted.
#include <algorithm>
#include <cassert>
#include <map>

#include <fmt/format.h>

#include "manifest/internal.h"

namespace wp::manifest {

const std::string* find_value(const NamedValues& values, std::string_view name) {
  auto it =
      std::lower_bound(values.begin(), values.end(), name,
                       [](const auto& entry, std::string_view key) { return entry.first < key; });
  return it != values.end() && it->first == name ? &it->second : nullptr;
}

namespace detail {

namespace {

using Values = NamedValues;

// A typo in a matrix can ask for billions of jobs; refuse before allocating them.
constexpr size_t kMaxMembers = 100'000;

// The jobs a template expands to; none when too many (reported).
size_t member_count(const JobTemplate& tmpl, Sink& sink) {
  size_t members = 1;
  for (const auto& axis : tmpl.matrix) {
    members *= axis.second.size();
    if (members > kMaxMembers) {
      sink.error(tmpl.matrix_pos,
                 fmt::format("{}: matrix: expands to more than {} jobs; use fewer values",
                             tmpl.label(), kMaxMembers));
      return 0;
    }
  }
  return members;
}

// The cartesian product of the axes; the first axis varies slowest, so
// {os = [a, b], py = [1, 2]} gives a1, a2, b1, b2. The axes come sorted by
// key, so each member's values are too.
std::vector<Values> combinations(const std::vector<MatrixAxis>& axes) {
  assert(std::is_sorted(axes.begin(), axes.end(),
                        [](const auto& a, const auto& b) { return a.first < b.first; }));
  std::vector<Values> out{Values{}};
  for (const auto& [key, values] : axes) {
    std::vector<Values> next;
    next.reserve(out.size() * values.size());
    for (const Values& partial : out) {
      for (const std::string& value : values) {
        Values& combined = next.emplace_back();
        combined.reserve(axes.size());
        combined = partial;
        combined.emplace_back(key, value);
      }
    }
    out = std::move(next);
  }
  return out;
}

std::vector<std::string> substitute_all(const std::vector<std::string>& texts,
                                        const Values& values) {
  std::vector<std::string> out;
  out.reserve(texts.size());
  for (const std::string& text : texts)
    out.push_back(substitute(text, values));
  return out;
}

// Relative to the manifest's directory; "." and ".." folded, no trailing slash.
std::string resolve_cwd(const std::string& cwd, const std::filesystem::path& base_dir) {
  std::filesystem::path path = (base_dir / cwd).lexically_normal();
  if (!path.has_filename() && path != path.root_path()) path = path.parent_path();
  return path.string();
}

RequestSource source_of(bool own, SourcePos own_key, bool fallback, SourcePos fallback_key) {
  using From = RequestSource::From;
  if (own) return {From::job, own_key};
  if (fallback) return {From::defaults, fallback_key};
  return {};
}

RequestSources sources_of(const Settings& job, const Settings& defaults) {
  const ResourceKeys& own = job.keys;
  const ResourceKeys& fallback = defaults.keys;
  return {
      source_of(job.cpu.has_value(), own.cpu, defaults.cpu.has_value(), fallback.cpu),
      source_of(job.memory.has_value(), own.memory, defaults.memory.has_value(), fallback.memory),
      source_of(job.iops.has_value(), own.iops, defaults.iops.has_value(), fallback.iops),
      source_of(job.gpu.has_value(), own.gpu, defaults.gpu.has_value(), fallback.gpu)};
}

// [defaults] env under the job's own, both sorted by name, into one vector
// of exactly their size. `take`: the job's strings are moved.
void merge_env(const std::map<std::string, std::string>& defaults,
               std::map<std::string, std::string>& own, bool take, NamedValues& out) {
  size_t size = own.size();
  for (const auto& entry : defaults)
    size += own.contains(entry.first) ? 0 : 1;
  out.reserve(size);
  auto d = defaults.begin();
  for (auto& [name, value] : own) {
    for (; d != defaults.end() && d->first < name; ++d)
      out.push_back(*d);
    if (d != defaults.end() && d->first == name) ++d;
    out.emplace_back(name, take ? std::move(value) : value);
  }
  out.insert(out.end(), d, defaults.end());
}

// `take`: the job's own settings are not needed again, so their strings
// are moved rather than copied.
void apply_settings(Settings& job, const Settings& defaults, bool take, Job& out) {
  auto pick = [](const auto& own, const auto& fallback, auto builtin) {
    return own ? *own : fallback ? *fallback : builtin;
  };
  out.request.cpu = pick(job.cpu, defaults.cpu, Cores::from_double(kDefaultCpu));
  out.request.memory = pick(job.memory, defaults.memory, kDefaultMemory);
  out.request.iops = pick(job.iops, defaults.iops, Iops{0});
  out.request.gpu = pick(job.gpu, defaults.gpu, Gpus{0});
  out.request_from = sources_of(job, defaults);
  out.priority = pick(job.priority, defaults.priority, int64_t{0});
  out.retries = pick(job.retries, defaults.retries, 0);
  out.timeout = job.timeout ? job.timeout : defaults.timeout;
  merge_env(defaults.env, job.env, take, out.env);
}

// A template without a matrix has one member, in which `{key}` stands for
// itself: that job takes the template's strings instead of copies of them
// (for 100,000 [[job]] tables with commands, env and tags, copies held 40 MB
// at once). Its head stays, for resolve_graph. Returns the job's `after`
// names, substituted.
std::vector<Located<std::string>> make_job(JobTemplate& tmpl, const Settings& defaults,
                                           Values values, Job& job) {
  const bool take = tmpl.matrix.empty();
  auto text = [&](std::string& from) { return take ? std::move(from) : substitute(from, values); };
  auto texts = [&](std::vector<std::string>& from) {
    return take ? std::move(from) : substitute_all(from, values);
  };
  if (take) {
    job.name = tmpl.name->value;  // the head keeps its own, for resolve_graph
  } else {
    job.family = tmpl.name->value;
    job.name = substitute(job.family, values);
  }
  job.pos = tmpl.name->pos;
  job.table_pos = tmpl.table_pos;
  job.command = tmpl.command ? text(*tmpl.command) : std::string();
  if (tmpl.argv) job.argv = texts(*tmpl.argv);
  apply_settings(tmpl.settings, defaults, take, job);
  if (!take) {
    for (auto& [name, value] : job.env)
      value = substitute(value, values);
  }
  job.inputs = texts(tmpl.inputs);
  if (tmpl.profile) job.profile = text(*tmpl.profile);
  std::vector<Located<std::string>> after_names;
  after_names.reserve(tmpl.after.size());
  for (const auto& after : tmpl.after)
    after_names.push_back({substitute(after.value, values), after.pos});
  job.matrix = std::move(values);
  return after_names;
}

}  // namespace

std::string substitute(std::string_view text, const NamedValues& values) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find('{', i);
    size_t close = open == std::string_view::npos ? open : text.find('}', open + 1);
    if (close == std::string_view::npos) break;
    out.append(text, i, open - i);
    const std::string* found = find_value(values, text.substr(open + 1, close - open - 1));
    if (found == nullptr) {
      out += '{';  // not a matrix key: keep it and look again from the next character
      i = open + 1;
    } else {
      out += *found;
      i = close + 1;
    }
  }
  out.append(text.substr(std::min(i, text.size())));
  return out;
}

void Expansion::add(std::vector<JobTemplate>& templates, size_t tables_after,
                    const Settings& defaults, Sink& sink, std::vector<Job>& jobs) {
  std::vector<size_t> members;
  members.reserve(templates.size());
  size_t total = jobs.size();
  for (const JobTemplate& tmpl : templates) {
    members.push_back(tmpl.name ? member_count(tmpl, sink) : 0);
    total += members.back();
  }
  // A job or none a table to come: a matrix among them grows it again.
  if (jobs.capacity() < total + tables_after) {
    jobs.reserve(total + tables_after);
    made_.reserve(total + tables_after);
  }
  for (size_t t = 0; t < templates.size(); ++t) {
    JobTemplate& tmpl = templates[t];
    const size_t first = jobs.size();
    if (members[t] > 0) {
      const std::string cwd = tmpl.settings.cwd ? *tmpl.settings.cwd : defaults.cwd.value_or("");
      for (Values& values : combinations(tmpl.matrix)) {
        Job& job = jobs.emplace_back();
        std::string dir = substitute(cwd, values);
        // One a member when a matrix value is in it: nothing to share, or to keep.
        job.cwd =
            dir == cwd ? working_dir(std::move(dir)) : SharedText(resolve_cwd(dir, base_dir_));
        auto after = make_job(tmpl, defaults, std::move(values), job);
        made_.push_back({heads_.size(), std::move(after)});
      }
      if (!tmpl.matrix.empty()) check_expanded(tmpl, std::span(jobs).subspan(first), sink);
    }
    heads_.push_back(std::move(static_cast<TemplateHead&>(tmpl)));
  }
  std::vector<JobTemplate>().swap(templates);
}

SharedText Expansion::working_dir(std::string written) {
  auto [it, added] = dirs_.try_emplace(std::move(written));
  if (added) it->second = resolve_cwd(it->first, base_dir_);
  return it->second;
}

std::vector<ExpandedJob> Expansion::finish(std::vector<Job>& jobs) {
  std::vector<ExpandedJob> expanded;
  expanded.reserve(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i)
    expanded.push_back({jobs[i], &heads_[made_[i].head], std::move(made_[i].after_names)});
  std::vector<Made>().swap(made_);
  return expanded;
}

}  // namespace detail
}  // namespace wp::manifest
