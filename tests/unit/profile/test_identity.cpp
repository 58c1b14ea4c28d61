// Job identity across runs: namespaces from git remotes and work trees,
// command fingerprints, and input sizes, on real files.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "manifest/manifest.h"
#include "profile/identity.h"

using namespace wp;
using namespace wp::profile;
namespace fs = std::filesystem;

namespace {

class Scratch {
 public:
  Scratch() {
    std::string name = (fs::temp_directory_path() / "wp-identity-XXXXXX").string();
    REQUIRE(::mkdtemp(name.data()) != nullptr);
    path_ = name;
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  fs::path operator/(const std::string& child) const { return path_ / child; }

 private:
  fs::path path_;
};

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

manifest::Manifest manifest_at(const fs::path& path) {
  manifest::Manifest m;
  m.path = path;
  return m;
}

}  // namespace

TEST_CASE("identity: remotes normalise to host/path", "[profile]") {
  CHECK(normalize_remote("git@github.com:acme/app.git") == "github.com/acme/app");
  CHECK(normalize_remote("https://user:token@GitHub.com/acme/app.git") == "github.com/acme/app");
  CHECK(normalize_remote("ssh://git@gitlab.example.org:2222/group/sub/app.git") ==
        "gitlab.example.org/group/sub/app");
  CHECK(normalize_remote("https://github.com/acme/app/") == "github.com/acme/app");
  CHECK(normalize_remote("/srv/git/app.git") == "/srv/git/app");
}

TEST_CASE("identity: two checkouts of one repository share a namespace", "[profile]") {
  Scratch dir;
  for (const char* checkout : {"ci-1/src", "ci-2/work/src"}) {
    write(dir / checkout / ".git/config",
          "[core]\n\tbare = false\n[remote \"origin\"]\n\turl = git@github.com:acme/app.git\n"
          "\tfetch = +refs/heads/*:refs/remotes/origin/*\n");
    write(dir / checkout / "ci/jobs.toml", "");
  }
  std::string first = namespace_of(manifest_at(dir / "ci-1/src/ci/jobs.toml"));
  CHECK(first == "github.com/acme/app:ci/jobs.toml");
  CHECK(namespace_of(manifest_at(dir / "ci-2/work/src/ci/jobs.toml")) == first);
}

TEST_CASE("identity: a worktree's .git file leads to the common config", "[profile]") {
  Scratch dir;
  write(dir / "main/.git/config", "[remote \"origin\"]\n  url = https://example.com/x/y\n");
  write(dir / "main/.git/worktrees/wt/commondir", "../..\n");
  write(dir / "wt/.git", "gitdir: " + (dir / "main/.git/worktrees/wt").string() + "\n");
  write(dir / "wt/jobs.toml", "");
  CHECK(namespace_of(manifest_at(dir / "wt/jobs.toml")) == "example.com/x/y:jobs.toml");
}

TEST_CASE("identity: without a remote the work tree's name, outside git the path", "[profile]") {
  Scratch dir;
  write(dir / "proj/.git/config", "[core]\n");
  write(dir / "proj/jobs.toml", "");
  CHECK(namespace_of(manifest_at(dir / "proj/jobs.toml")) == "proj:jobs.toml");
  write(dir / "plain/jobs.toml", "");
  std::string outside = namespace_of(manifest_at(dir / "plain/jobs.toml"));
  CHECK(outside == fs::canonical(dir / "plain/jobs.toml").string());
  manifest::Manifest named = manifest_at(dir / "plain/jobs.toml");
  named.space = "team-a";
  CHECK(namespace_of(named) == "team-a");
}

TEST_CASE("identity: profile key, command and fingerprint", "[profile]") {
  manifest::Job job;
  job.name = "test-2";
  job.command = "make test SHARD=2";
  CHECK(key_of("ns", job) == ProfileKey{"ns", "test-2"});
  job.profile = "tests";
  CHECK(key_of("ns", job) == ProfileKey{"ns", "tests"});
  std::string fingerprint = fingerprint_of(job);
  CHECK(fingerprint.size() == 16);
  job.command = "make test SHARD=3";
  CHECK(fingerprint_of(job) != fingerprint);
  // argv elements are kept apart: ["a b"] is not ["a", "b"].
  manifest::Job one, two;
  one.argv = {"a b"};
  two.argv = {"a", "b"};
  CHECK(command_of(one) == command_of(two));
  CHECK(fingerprint_of(one) != fingerprint_of(two));
}

TEST_CASE("identity: input size sums matched files and directories once", "[profile]") {
  Scratch dir;
  write(dir / "data/a.csv", std::string(1000, 'a'));
  write(dir / "data/b.csv", std::string(500, 'b'));
  write(dir / "data/nested/c.bin", std::string(250, 'c'));
  manifest::Job job;
  job.cwd = (dir / "").string();
  CHECK_FALSE(input_bytes(job).has_value());
  job.inputs = {"data/*.csv"};
  CHECK(input_bytes(job) == 1500);
  job.inputs = {"data/*.csv", "data/a.csv", "data"};  // overlaps counted once
  CHECK(input_bytes(job) == 1750);
  job.inputs = {"missing/*"};
  CHECK(input_bytes(job) == 0);
}
