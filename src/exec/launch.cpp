#include "exec/launch.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "platform/process.h"

extern char** environ;  // NOLINT(readability-identifier-naming): POSIX's name

namespace wp::exec {
namespace {

// Characters that make a command line more than words (make's list, plus '=',
// which turns the first word into an assignment).
constexpr std::string_view kShellChars = "#;\"*?[]&|<>(){}$`'~!\\=%\n";

// First words that are shell syntax or builtins, not programs on PATH.
constexpr std::array<std::string_view, 30> kShellWords{
    ".",      ":",    "alias", "break",  "case", "cd",     "continue", "do",    "done",  "elif",
    "else",   "esac", "eval",  "exec",   "exit", "export", "fi",       "for",   "if",    "read",
    "return", "set",  "shift", "source", "then", "trap",   "ulimit",   "umask", "unset", "while"};

std::vector<std::string> split_blanks(const std::string& command) {
  std::vector<std::string> words;
  std::string word;
  for (char c : command) {
    if (c == ' ' || c == '\t') {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

}  // namespace

bool needs_shell(const std::string& command) {
  if (command.find_first_of(kShellChars) != std::string::npos) return true;
  std::vector<std::string> words = split_blanks(command);
  if (words.empty()) return true;
  return std::find(kShellWords.begin(), kShellWords.end(), words.front()) != kShellWords.end();
}

Result<std::filesystem::path> ExecutableCache::find(const std::string& name,
                                                    const std::string& path_var,
                                                    const std::string& cwd) {
  // A name with a slash is no search: one look, as before.
  if (name.find('/') != std::string::npos) return platform::resolve_executable(name, path_var, cwd);
  std::string key;
  key.reserve(path_var.size() + cwd.size() + name.size() + 2);
  key.append(path_var).append(1, '\0').append(cwd).append(1, '\0').append(name);
  auto hit = found_.find(key);
  if (hit != found_.end()) {
    if (platform::still_executable(hit->second)) return hit->second;
    found_.erase(hit);
  }
  auto found = platform::resolve_executable(name, path_var, cwd);
  if (found) found_.emplace(std::move(key), *found);
  return found;
}

Result<LaunchPlan> plan_launch(const manifest::Job& job, const std::string& path_var,
                               ExecutableCache* cache) {
  LaunchPlan plan;
  if (!job.argv.empty()) {
    plan.argv = job.argv;
  } else if (needs_shell(job.command)) {
    plan.executable = "/bin/sh";
    plan.argv = {"/bin/sh", "-c", job.command};
    plan.through_shell = true;
    return plan;
  } else {
    plan.argv = split_blanks(job.command);
  }
  auto executable = cache
                        ? cache->find(plan.argv.front(), path_var, job.cwd.str())
                        : platform::resolve_executable(plan.argv.front(), path_var, job.cwd.str());
  if (!executable) return executable.error();
  plan.executable = std::move(*executable);
  return plan;
}

EnvMap inherited_environment() {
  EnvMap env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view kv(*entry);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  return env;
}

// One ordered merge of three lists sorted by name (two maps and the job's
// env), a later one winning a name: no copy of the inherited environment
// for every job.
std::vector<std::string> job_environment(const EnvMap& inherited, const manifest::Job& job,
                                         const EnvMap& wp_vars) {
  std::vector<std::string> env;
  env.reserve(inherited.size() + job.env.size() + wp_vars.size());
  auto a = inherited.begin();
  auto b = job.env.begin();
  auto c = wp_vars.begin();
  while (a != inherited.end() || b != job.env.end() || c != wp_vars.end()) {
    // The smallest key of the three heads; the last map holding it wins.
    const std::string* key = nullptr;
    for (const auto* head :
         {a != inherited.end() ? &a->first : nullptr, b != job.env.end() ? &b->first : nullptr,
          c != wp_vars.end() ? &c->first : nullptr}) {
      if (head && (!key || *head < *key)) key = head;
    }
    const std::string* value = nullptr;
    if (a != inherited.end() && a->first == *key) value = &(a++)->second;
    if (b != job.env.end() && b->first == *key) value = &(b++)->second;
    if (c != wp_vars.end() && c->first == *key) value = &(c++)->second;
    std::string& entry = env.emplace_back();
    entry.reserve(key->size() + 1 + value->size());  // one allocation a variable
    entry.append(*key).append(1, '=').append(*value);
  }
  return env;
}

}  // namespace wp::exec
