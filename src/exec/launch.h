// How a job's command becomes a process: its argv, its executable and its
// environment.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "manifest/manifest.h"
#include "util/result.h"

namespace wp::exec {

struct LaunchPlan {
  std::filesystem::path executable;
  std::vector<std::string> argv;
  bool through_shell = false;
};

// True when `command` needs /bin/sh: quoting, expansion, redirection,
// operators, or a shell keyword or builtin as its first word.
bool needs_shell(const std::string& command);

// Where each program name was found on PATH, kept for a run as a shell keeps
// its command hash (bash's `hash`): a search costs one failed lookup for every
// PATH entry before the program's, and thousands of jobs run the same few
// programs. Keyed on the PATH, the job's directory (an empty or relative
// entry is relative to it) and the name, so a job whose env sets another
// PATH searches that one. A hit is looked at again (one stat) and searched
// afresh when it is no longer an executable file; as with bash, a program
// that appears earlier on PATH during the run is not seen.
class ExecutableCache {
 public:
  Result<std::filesystem::path> find(const std::string& name, const std::string& path_var,
                                     const std::string& cwd);
  size_t size() const { return found_.size(); }

 private:
  std::unordered_map<std::string, std::filesystem::path> found_;
};

// Like make, a command with no shell syntax is split on blanks and exec'd
// directly: it halves the cost of a launch. `path_var` is the job's PATH;
// with a `cache`, names are looked up through it.
Result<LaunchPlan> plan_launch(const manifest::Job& job, const std::string& path_var,
                               ExecutableCache* cache = nullptr);

using EnvMap = std::map<std::string, std::string>;

// wp's own environment, read once per run.
EnvMap inherited_environment();

// The job's environment: the inherited one, then the job's env, then the WP_*
// variables every job receives.
std::vector<std::string> job_environment(const EnvMap& inherited, const manifest::Job& job,
                                         const EnvMap& wp_vars);

}  // namespace wp::exec
