// A file that appears whole or not at all: written to a temporary file next
// to it and renamed over it on commit, so a reader (a CI system collecting a
// report) never sees half of it. The temporary file is removed unless
// committed.
#pragma once

#include <filesystem>
#include <string_view>
#include <utility>

#include "util/result.h"
#include "util/unique_fd.h"

namespace wp {

class AtomicFile {
 public:
  // Creates the temporary file now: a path that cannot be written is known
  // before anything is spent on what goes into it.
  static Result<AtomicFile> create(const std::filesystem::path& path);

  AtomicFile(AtomicFile&& other) noexcept
      : path_(std::move(other.path_)),
        temp_(std::exchange(other.temp_, {})),
        fd_(std::move(other.fd_)),
        error_(other.error_) {}
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  const std::filesystem::path& path() const { return path_; }
  // Appends; after a failure later writes do nothing and commit() says why.
  void write(std::string_view data);
  // Renames the temporary file to the path; an Error names the path.
  Status commit();

 private:
  AtomicFile(std::filesystem::path path, std::filesystem::path temp, UniqueFd fd)
      : path_(std::move(path)), temp_(std::move(temp)), fd_(std::move(fd)) {}

  std::filesystem::path path_;
  std::filesystem::path temp_;  // empty once renamed, or moved from
  UniqueFd fd_;
  int error_ = 0;  // errno of the first failed write
};

}  // namespace wp
