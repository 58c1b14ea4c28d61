// How a job's command becomes a process: its argv, its executable and its
// environment.
#pragma once

#include <filesystem>
#include <map>
#include <string>
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

// Like make, a command with no shell syntax is split on blanks and exec'd
// directly: it halves the cost of a launch. `path_var` is the job's PATH.
Result<LaunchPlan> plan_launch(const manifest::Job& job, const std::string& path_var);

using EnvMap = std::map<std::string, std::string>;

// wp's own environment, read once per run.
EnvMap inherited_environment();

// The job's environment: the inherited one, then the job's env, then the WP_*
// variables every job receives.
std::vector<std::string> job_environment(const EnvMap& inherited, const manifest::Job& job,
                                         const EnvMap& wp_vars);

}  // namespace wp::exec
