// A scratch machine root for platform tests: a temporary directory holding
// the proc/, sys/ and dev/ trees a test writes, with HostRoots pointing at
// it and nothing read from the real machine or environment. Removed on
// scope exit.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "platform/host.h"

namespace wp::test {

class ScratchRoot {
 public:
  ScratchRoot() {
    static int counter = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("wp-scratch-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~ScratchRoot() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  ScratchRoot(const ScratchRoot&) = delete;
  ScratchRoot& operator=(const ScratchRoot&) = delete;

  std::filesystem::path path(const std::filesystem::path& relative = {}) const {
    return dir_ / relative;
  }
  // Copies a fixture tree over this root (a later one replaces some files).
  void load(const std::filesystem::path& fixture) const {
    std::filesystem::copy(fixture, dir_,
                          std::filesystem::copy_options::recursive |
                              std::filesystem::copy_options::overwrite_existing);
  }
  void write(const std::filesystem::path& relative, const std::string& text) const {
    std::filesystem::create_directories(path(relative).parent_path());
    std::ofstream(path(relative)) << text;
  }
  std::string read(const std::filesystem::path& relative) const {
    std::ifstream in(path(relative));
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  void mkdir(const std::filesystem::path& relative) const {
    std::filesystem::create_directories(path(relative));
  }
  bool exists(const std::filesystem::path& relative) const {
    return std::filesystem::exists(path(relative));
  }
  void remove(const std::filesystem::path& relative) const {
    std::filesystem::remove(path(relative));
  }

  platform::HostRoots roots() const {
    platform::HostRoots roots;
    roots.proc = dir_ / "proc";
    roots.sys = dir_ / "sys";
    roots.dev = dir_ / "dev";
    roots.root = dir_;
    roots.use_environ = false;
    return roots;
  }

 private:
  std::filesystem::path dir_;
};

}  // namespace wp::test
