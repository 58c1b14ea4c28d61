#include "profile/identity.h"

#include <glob.h>

#include <cctype>
#include <fstream>
#include <set>
#include <system_error>

#include <fmt/format.h>

namespace wp::profile {
namespace {

namespace fs = std::filesystem;

// The directory holding the repository's config: `.git` itself, or for a
// worktree or submodule (where `.git` is a file "gitdir: PATH") the common
// directory its commondir file names.
std::optional<fs::path> git_dir_of(const fs::path& work_tree) {
  std::error_code ec;
  fs::path dot_git = work_tree / ".git";
  if (fs::is_directory(dot_git, ec)) return dot_git;
  std::ifstream file(dot_git);
  std::string line;
  if (!file || !std::getline(file, line) || line.rfind("gitdir:", 0) != 0) return std::nullopt;
  std::string target = line.substr(7);
  target.erase(0, target.find_first_not_of(" \t"));
  fs::path dir = fs::path(target).is_absolute() ? fs::path(target) : work_tree / target;
  std::ifstream common(dir / "commondir");
  std::string common_dir;
  if (common && std::getline(common, common_dir) && !common_dir.empty()) {
    fs::path path(common_dir);
    return path.is_absolute() ? path : dir / path;
  }
  return dir;
}

// The url of [remote "origin"] in a git config file, if any.
std::optional<std::string> origin_url(const fs::path& config) {
  std::ifstream file(config);
  std::string line;
  bool in_origin = false;
  while (std::getline(file, line)) {
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos) continue;
    std::string text = line.substr(start);
    if (text.front() == '[') {
      in_origin = text.rfind("[remote \"origin\"]", 0) == 0;
      continue;
    }
    if (!in_origin || text.rfind("url", 0) != 0) continue;
    size_t eq = text.find('=');
    if (eq == std::string::npos) continue;
    std::string url = text.substr(eq + 1);
    url.erase(0, url.find_first_not_of(" \t"));
    while (!url.empty() && std::isspace(static_cast<unsigned char>(url.back())))
      url.pop_back();
    if (!url.empty()) return url;
  }
  return std::nullopt;
}

void add_size(const fs::path& path, std::set<fs::path>& seen, uint64_t& total) {
  std::error_code ec;
  if (!seen.insert(path).second) return;
  if (fs::is_regular_file(path, ec)) {
    total += fs::file_size(path, ec);
    return;
  }
  if (!fs::is_directory(path, ec)) return;
  for (auto it = fs::recursive_directory_iterator(
           path, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && seen.insert(it->path()).second) total += it->file_size(ec);
  }
}

}  // namespace

std::string normalize_remote(const std::string& url) {
  std::string rest = url;
  if (size_t scheme = rest.find("://"); scheme != std::string::npos) {
    rest = rest.substr(scheme + 3);
  } else if (size_t colon = rest.find(':'); colon != std::string::npos && rest.find('/') > colon) {
    rest[colon] = '/';  // scp-like "host:path"
  }
  size_t slash = rest.find('/');
  if (size_t at = rest.find('@'); at != std::string::npos && at < slash) rest = rest.substr(at + 1);
  slash = rest.find('/');
  // A port belongs to how it was fetched, not to which repository it is.
  if (size_t colon = rest.find(':'); colon != std::string::npos && colon < slash) {
    rest.erase(colon, slash - colon);
    slash = rest.find('/');
  }
  for (size_t i = 0; i < std::min(slash, rest.size()); ++i)
    rest[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(rest[i])));
  while (!rest.empty() && rest.back() == '/')
    rest.pop_back();
  if (rest.size() > 4 && rest.ends_with(".git")) rest.resize(rest.size() - 4);
  return rest;
}

std::string namespace_of(const manifest::Manifest& manifest) {
  if (!manifest.space.empty()) return manifest.space;
  std::error_code ec;
  fs::path file = fs::weakly_canonical(fs::absolute(manifest.path, ec), ec);
  for (fs::path dir = file.parent_path(); !dir.empty(); dir = dir.parent_path()) {
    if (fs::exists(dir / ".git", ec)) {
      std::string relative = file.lexically_relative(dir).generic_string();
      std::optional<std::string> url;
      if (auto git_dir = git_dir_of(dir)) url = origin_url(*git_dir / "config");
      std::string repo = url ? normalize_remote(*url) : dir.filename().string();
      return repo + ":" + relative;
    }
    if (dir == dir.root_path()) break;
  }
  return file.string();
}

ProfileKey key_of(const std::string& space, const manifest::Job& job) {
  return {space, job.profile.empty() ? job.name : job.profile};
}

std::string command_of(const manifest::Job& job) {
  if (job.argv.empty()) return job.command;
  return fmt::format("{}", fmt::join(job.argv, " "));
}

std::string fingerprint_of(const manifest::Job& job) {
  uint64_t hash = 14695981039346656037ull;
  auto feed = [&hash](std::string_view text) {
    for (char c : text) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 1099511628211ull;
    }
  };
  if (job.argv.empty()) {
    feed(job.command);
  } else {
    for (const std::string& arg : job.argv) {
      feed(arg);
      feed(std::string_view("\0", 1));
    }
  }
  return fmt::format("{:016x}", hash);
}

std::optional<uint64_t> input_bytes(const manifest::Job& job) {
  if (job.inputs.empty()) return std::nullopt;
  uint64_t total = 0;
  std::set<fs::path> seen;
  for (const std::string& pattern : job.inputs) {
    fs::path full =
        fs::path(pattern).is_absolute() ? fs::path(pattern) : fs::path(job.cwd.str()) / pattern;
    glob_t matches{};
    if (::glob(full.c_str(), GLOB_NOSORT | GLOB_BRACE, nullptr, &matches) == 0) {
      for (size_t i = 0; i < matches.gl_pathc; ++i)
        add_size(matches.gl_pathv[i], seen, total);
    }
    ::globfree(&matches);
  }
  return total;
}

}  // namespace wp::profile
