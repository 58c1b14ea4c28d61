// TOML tables -> Document: which keys each table may have and what each holds.
#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "manifest/internal.h"

namespace wp::manifest::detail {

namespace {

const std::vector<std::string> kTopLevelKeys{"version", "namespace", "defaults", "capacity", "job"};
const std::vector<std::string> kDefaultsKeys{"cpu",     "memory",   "iops", "gpu", "timeout",
                                             "retries", "priority", "env",  "cwd"};
const std::vector<std::string> kCapacityKeys{"cpu", "memory", "iops", "gpu"};
const std::vector<std::string> kJobKeys{"name", "command", "argv",     "cpu",     "memory",  "iops",
                                        "gpu",  "after",   "priority", "timeout", "retries", "env",
                                        "cwd",  "matrix",  "inputs",   "tags",    "profile"};

constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();
constexpr int64_t kMinInt64 = std::numeric_limits<int64_t>::min();

void unknown_key(const toml::key& key, std::string_view where,
                 const std::vector<std::string>& valid, Sink& sink) {
  std::string hint = did_you_mean(key.str(), valid);
  if (hint.empty()) hint = fmt::format("; valid keys are {}", fmt::join(valid, ", "));
  std::string what = where.empty() ? fmt::format("unknown top-level key '{}'", key.str())
                     : where.front() == '['
                         ? fmt::format("unknown key '{}' in {}", key.str(), where)
                         : fmt::format("{}: unknown key '{}'", where, key.str());
  sink.error(key, what + hint);
}

const toml::table* expect_table(const toml::node& node, std::string_view key, std::string_view what,
                                Sink& sink) {
  if (const toml::table* table = node.as_table()) return table;
  sink.error(node, fmt::format("{}: expected {}, got {}", key, what, describe_type(node)));
  return nullptr;
}

void read_env(const Field& field, std::map<std::string, std::string>& env, Sink& sink) {
  const toml::table* table = field.node.as_table();
  if (table == nullptr) {
    sink.error(field.node, fmt::format("{}expected a table of NAME = \"value\", got {}",
                                       field.prefix(), describe_type(field.node)));
    return;
  }
  for (auto&& [name, value] : *table) {
    Field item{value, field.where, fmt::format("env.{}", name.str())};
    if (std::optional<std::string> text = read_scalar(item, sink)) {
      env[std::string(name.str())] = std::move(*text);
    }
  }
}

template <typename T>
void assign(std::optional<T>& target, std::optional<int64_t> value) {
  if (value) target = static_cast<T>(*value);
}

// Reads one of the keys [defaults] and [[job]] share; false when `key` is not one.
bool read_setting(const Field& field, Settings& settings, Sink& sink) {
  const std::string& key = field.key;
  if (key == "cpu") {
    settings.cpu = read_cores(field, sink);
  } else if (key == "memory") {
    settings.memory = read_bytes(field, sink);
  } else if (key == "iops") {
    assign(settings.iops, read_integer(field, 0, kMaxInt64, sink));
  } else if (key == "gpu") {
    assign(settings.gpu, read_integer(field, 0, std::numeric_limits<Gpus>::max(), sink));
  } else if (key == "timeout") {
    settings.timeout = read_duration(field, sink);
  } else if (key == "retries") {
    assign(settings.retries, read_integer(field, 0, kMaxRetries, sink));
  } else if (key == "priority") {
    settings.priority = read_integer(field, kMinInt64, kMaxInt64, sink);
  } else if (key == "env") {
    read_env(field, settings.env, sink);
  } else if (key == "cwd") {
    settings.cwd = read_string(field, sink);
  } else {
    return false;
  }
  return true;
}

// Where a resource was set: a request too large for the machine is reported
// at its key, once, however many jobs it reaches.
void note_key(const toml::key& key, ResourceKeys& keys, const Sink& sink) {
  const std::string_view name = key.str();
  SourcePos* target = name == "cpu"      ? &keys.cpu
                      : name == "memory" ? &keys.memory
                      : name == "iops"   ? &keys.iops
                      : name == "gpu"    ? &keys.gpu
                                         : nullptr;
  if (target != nullptr) *target = sink.pos(key);
}

void parse_defaults(const toml::node& node, Settings& defaults, Sink& sink) {
  const toml::table* table = expect_table(node, "defaults", "a table ([defaults])", sink);
  if (table == nullptr) return;
  for (auto&& [key, value] : *table) {
    Field field{value, "[defaults]", std::string(key.str())};
    if (!read_setting(field, defaults, sink)) unknown_key(key, "[defaults]", kDefaultsKeys, sink);
    note_key(key, defaults.keys, sink);
  }
}

void parse_capacity(const toml::node& node, CapacityLimits& capacity, Sink& sink) {
  const toml::table* table = expect_table(node, "capacity", "a table ([capacity])", sink);
  if (table == nullptr) return;
  for (auto&& [key, value] : *table) {
    Field field{value, "[capacity]", std::string(key.str())};
    if (field.key == "cpu") {
      capacity.cpu = read_cores(field, sink);
    } else if (field.key == "memory") {
      capacity.memory = read_bytes(field, sink);
    } else if (field.key == "iops") {
      assign(capacity.iops, read_integer(field, 0, kMaxInt64, sink));
    } else if (field.key == "gpu") {
      assign(capacity.gpu, read_integer(field, 0, std::numeric_limits<Gpus>::max(), sink));
    } else {
      unknown_key(key, "[capacity]", kCapacityKeys, sink);
    }
  }
}

void read_name(const toml::table& table, JobTemplate& job, Sink& sink) {
  const toml::node* node = table.get("name");
  if (node == nullptr) {
    sink.error(job.table_pos,
               fmt::format("{}: missing required key 'name'; add name = \"...\"", job.label()));
    return;
  }
  std::optional<std::string> name = read_string(Field{*node, job.label(), "name"}, sink);
  if (!name) return;
  if (name->empty()) {
    sink.error(*node, fmt::format("{}: name: is empty; give the job a name", job.label()));
  } else if (std::optional<char32_t> control = control_character(*name)) {
    sink.error(*node, fmt::format("{}: name: contains a control character ({}); use "
                                  "printable characters only",
                                  job.label(), code_point(*control)));
  } else {
    job.name = Located<std::string>{std::move(*name), sink.pos(*node)};
  }
}

void read_argv(const Field& field, JobTemplate& job, Sink& sink) {
  auto words = read_string_array(field, sink);
  if (!words) return;
  if (words->empty()) {
    sink.error(field.node,
               fmt::format("{}is empty; give the program and its arguments, e.g. argv = "
                           "[\"make\", \"-j4\"]",
                           field.prefix()));
  } else if (words->front().value.empty()) {
    sink.error(words->front().pos,
               fmt::format("{}the program name argv[0] is empty", field.prefix()));
  }
  job.argv.emplace();
  if (!words->empty()) job.program_pos = words->front().pos;
  for (auto& word : *words)
    job.argv->push_back(std::move(word.value));
}

void read_matrix(const Field& field, JobTemplate& job, Sink& sink) {
  const toml::table* table = field.node.as_table();
  if (table == nullptr) {
    sink.error(field.node,
               fmt::format("{}expected a table of key = [values], e.g. matrix = {{ shard = [1, 2] "
                           "}}, got {}",
                           field.prefix(), describe_type(field.node)));
    return;
  }
  for (auto&& [key, value] : *table) {
    Field axis{value, field.where, fmt::format("matrix.{}", key.str())};
    const toml::array* array = value.as_array();
    if (array == nullptr) {
      sink.error(value, fmt::format("{}expected an array of values such as [1, 2, 3], got {}",
                                    axis.prefix(), describe_type(value)));
      continue;
    }
    if (array->empty()) {
      sink.error(value, fmt::format("{}is empty; give at least one value or remove the key",
                                    axis.prefix()));
      continue;
    }
    MatrixAxis parsed{std::string(key.str()), {}};
    for (size_t i = 0; i < array->size(); ++i) {
      Field item{*array->get(i), field.where, fmt::format("{}[{}]", axis.key, i)};
      if (auto text = read_scalar(item, sink)) parsed.second.push_back(std::move(*text));
    }
    if (parsed.second.size() == array->size()) job.matrix.push_back(std::move(parsed));
  }
  // toml++ gives the keys sorted already; expansion relies on it (the first
  // key varies slowest, and each member's values come out sorted by key).
  std::sort(job.matrix.begin(), job.matrix.end(),
            [](const MatrixAxis& a, const MatrixAxis& b) { return a.first < b.first; });
}

// A name for history (`namespace`, `profile`): text a person reads in `wp
// profile list`, so not empty and without control characters.
std::optional<std::string> read_label(const Field& field, Sink& sink) {
  std::optional<std::string> text = read_string(field, sink);
  if (!text) return std::nullopt;
  if (text->empty()) {
    sink.error(field.node,
               fmt::format("{}must be non-empty text without control characters", field.prefix()));
    return std::nullopt;
  }
  if (std::optional<char32_t> control = control_character(*text)) {
    sink.error(field.node,
               fmt::format("{}must be non-empty text without control characters; it contains {}",
                           field.prefix(), code_point(*control)));
    return std::nullopt;
  }
  return text;
}

// "" and "   " both run nothing: /bin/sh -c "   " succeeds without a program.
void check_command_text(const Field& field, std::string_view command, Sink& sink) {
  if (!is_blank(command)) return;
  sink.error(field.node, fmt::format("{}is {}; give the command to run", field.prefix(),
                                     command.empty() ? "empty" : "only whitespace"));
}

void read_job_key(const toml::key& key, const Field& field, JobTemplate& job, Sink& sink) {
  auto strings = [&](std::vector<std::string>& target) {
    if (auto list = read_string_array(field, sink)) {
      for (auto& item : *list)
        target.push_back(std::move(item.value));
    }
  };
  if (field.key == "name") {
    // Read first, for the job's label.
  } else if (field.key == "command") {
    job.command = read_string(field, sink);
    job.command_pos = sink.pos(field.node);
    if (job.command) check_command_text(field, *job.command, sink);
    if (!job.command) job.command.emplace();  // still "set" for the command/argv check
  } else if (field.key == "argv") {
    read_argv(field, job, sink);
    if (!job.argv) job.argv.emplace();
  } else if (field.key == "after") {
    if (auto names = read_string_array(field, sink)) job.after = std::move(*names);
  } else if (field.key == "matrix") {
    job.matrix_pos = sink.pos(field.node);
    read_matrix(field, job, sink);
  } else if (field.key == "inputs") {
    strings(job.inputs);
  } else if (field.key == "tags") {
    read_string_array(field, sink);  // labels for people and other tools: checked, not kept
  } else if (field.key == "profile") {
    job.profile = read_label(field, sink);
    job.profile_pos = sink.pos(field.node);
  } else if (!read_setting(field, job.settings, sink)) {
    unknown_key(key, job.label(), kJobKeys, sink);
  } else {
    note_key(key, job.settings.keys, sink);
  }
}

// A misspelt `comand` has been reported with its fix; "no command" would say
// the same thing again.
bool command_misspelt(const toml::table& table) {
  return std::any_of(table.begin(), table.end(), [](const auto& entry) {
    std::optional<std::string> match = nearest(entry.first.str(), kJobKeys);
    return match && entry.first.str() != *match && (*match == "command" || *match == "argv");
  });
}

void check_command(const toml::table& table, const JobTemplate& job, Sink& sink) {
  if (job.command && job.argv) {
    sink.error(*table.get("argv"),
               fmt::format("{}: both command and argv are set; keep one (command runs through "
                           "the shell, argv runs the program directly)",
                           job.label()));
  } else if (!job.command && !job.argv && !command_misspelt(table)) {
    sink.error(job.name ? job.name->pos : job.table_pos,
               fmt::format("{}: no command; set command = \"...\" or argv = [\"program\", ...]",
                           job.label()));
  }
}

void parse_job(const toml::node& node, size_t ordinal, std::vector<JobTemplate>& jobs, Sink& sink) {
  const toml::table* table = node.as_table();
  if (table == nullptr) {
    sink.error(node, fmt::format("job: expected a table ([[job]]), got {}", describe_type(node)));
    return;
  }
  JobTemplate& job = jobs.emplace_back();
  job.ordinal = ordinal;
  job.table_pos = sink.pos(*table);
  read_name(*table, job, sink);
  for (auto&& [key, value] : *table) {
    read_job_key(key, Field{value, job.label(), std::string(key.str())}, job, sink);
  }
  check_command(*table, job, sink);
}

void parse_jobs(const toml::node& node, std::vector<JobTemplate>& jobs, Sink& sink) {
  const toml::array* array = node.as_array();
  if (array == nullptr) {
    sink.error(node, fmt::format("job: expected [[job]] tables, got {}; write [[job]], "
                                 "not [job]",
                                 describe_type(node)));
    return;
  }
  // Once, not by doubling: 100,000 templates are 50 MB, and a doubling
  // holds the old copy beside the new.
  jobs.reserve(array->size());
  parse_job_tables(*array, 1, jobs, sink);
}

void read_version(const toml::node& node, Document& doc, Sink& sink) {
  std::optional<int64_t> version =
      read_integer(Field{node, "", "version"}, kMinInt64, kMaxInt64, sink);
  if (!version) return;
  doc.version = *version;
  if (*version != 1) {
    sink.error(
        node,
        fmt::format("version: unsupported manifest version {}; this wp reads version 1", *version));
  }
}

}  // namespace

std::string TemplateHead::label() const {
  return name ? fmt::format("job '{}'", name->value) : fmt::format("job #{}", ordinal);
}

void parse_job_tables(const toml::array& tables, size_t first_ordinal,
                      std::vector<JobTemplate>& jobs, Sink& sink) {
  for (size_t i = 0; i < tables.size(); ++i)
    parse_job(*tables.get(i), first_ordinal + i, jobs, sink);
}

Document parse_document(const toml::table& root, Sink& sink) {
  Document doc;
  for (auto&& [key, node] : root) {
    if (key == "version") {
      read_version(node, doc, sink);
    } else if (key == "namespace") {
      doc.space = read_label(Field{node, "", "namespace"}, sink).value_or("");
    } else if (key == "defaults") {
      parse_defaults(node, doc.defaults, sink);
    } else if (key == "capacity") {
      parse_capacity(node, doc.capacity, sink);
    } else if (key == "job") {
      parse_jobs(node, doc.jobs, sink);
    } else {
      unknown_key(key, "", kTopLevelKeys, sink);
    }
  }
  return doc;
}

}  // namespace wp::manifest::detail
