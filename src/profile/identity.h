// Who a job is across runs: the namespace that keeps unrelated projects
// apart in one database while staying the same across CI checkouts, the
// fingerprint that notices a changed command, and the size of its inputs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "manifest/manifest.h"
#include "profile/records.h"

namespace wp::profile {

// The manifest's `namespace` if set. Else, inside a git work tree, the
// origin remote's URL without scheme, user and ".git" (else the work tree's
// directory name), a colon, and the manifest's path in the tree:
// "github.com/acme/app:ci/jobs.toml". Outside git, the manifest's absolute
// path: distinct, though not stable if the directory moves.
std::string namespace_of(const manifest::Manifest& manifest);

// "git@github.com:acme/app.git", "https://user@github.com/acme/app" ->
// "github.com/acme/app".
std::string normalize_remote(const std::string& url);

ProfileKey key_of(const std::string& space, const manifest::Job& job);

// The command as run (argv joined with spaces when exec'd directly).
std::string command_of(const manifest::Job& job);
// FNV-1a 64 of the command (argv elements separated by NUL), 16 hex digits.
std::string fingerprint_of(const manifest::Job& job);

// The total size in bytes of the files the job's `inputs` globs match
// (a matched directory counts with everything below it); nullopt when the
// job declares no inputs.
std::optional<uint64_t> input_bytes(const manifest::Job& job);

}  // namespace wp::profile
