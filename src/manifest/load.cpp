#include <fcntl.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

#include "manifest/internal.h"
#include "manifest/manifest.h"
#include "util/read_file.h"
#include "util/unique_fd.h"

namespace wp::manifest {

namespace {

// The directory relative `cwd`s are anchored to.
std::filesystem::path base_directory(const std::filesystem::path& manifest_path) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(manifest_path, ec);
  if (ec || manifest_path.empty()) return std::filesystem::current_path();
  return absolute.lexically_normal().parent_path();
}

Diagnostic syntax_error(const toml::parse_error& error, const std::filesystem::path& path) {
  std::string description(error.description());
  if (!description.empty()) {
    description[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(description[0])));
  }
  return Diagnostic{path.string(), detail::pos_of(error.source()), "invalid TOML: " + description};
}

LoadResult load_text(std::string text, const std::filesystem::path& path) {
  toml::table root;
  try {
    root = toml::parse(text, path.string());
  } catch (const toml::parse_error& error) {
    return {std::nullopt, {syntax_error(error, path)}};
  }
  // The tree holds copies of its strings: the text (9 MB for 100,000
  // [[job]] tables) need not lie beside what is built from it.
  std::string().swap(text);
  detail::Sink sink(path.string());
  detail::Document doc = detail::parse_document(root, sink);
  // The document holds copies of all it needs: the tree (a node for each of
  // a matrix's 100,000 values) need not outlive it.
  root.clear();
  // Returned with its errors too, so that checks which need more than the
  // file (check_fits) still report in the same pass.
  Manifest manifest{path, doc.version, doc.space, doc.capacity, {}};
  std::vector<detail::ExpandedJob> expanded =
      detail::expand_jobs(doc, base_directory(path), sink, manifest.jobs);
  detail::resolve_graph(expanded, doc.jobs, sink);
  return {std::move(manifest), sink.take_sorted()};
}

}  // namespace

LoadResult load_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return {std::nullopt, {{path.string(), {}, "cannot read the manifest: it is a directory"}}};
  }
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  Result<std::string> text = fd ? read_all(fd.get()) : make_error("{}", std::strerror(errno));
  if (!text) {
    return {
        std::nullopt,
        {{path.string(), {}, fmt::format("cannot read the manifest: {}", text.error().message)}}};
  }
  return load_text(std::move(*text), path);
}

LoadResult load_string(std::string_view text, const std::filesystem::path& path) {
  return load_text(std::string(text), path);
}

}  // namespace wp::manifest
