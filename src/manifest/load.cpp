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

// What loading makes. A fallback to parsing the whole text starts afresh.
struct Loading {
  explicit Loading(const std::filesystem::path& path)
      : sink(path.string()), expansion(base_directory(path)) {}

  detail::Sink sink;
  detail::Document doc;  // `jobs` filled only by parse_whole
  std::vector<Job> jobs;
  detail::Expansion expansion;
};

// A piece's tables, read with the file's line numbers, then made into jobs;
// the first is the file's table number `first_ordinal`. False where it is
// not [[job]] tables alone.
bool parse_piece(const detail::JobPiece& piece, const std::filesystem::path& path,
                 size_t first_ordinal, size_t tables_after, Loading& out) {
  // Outside the tree's scope: the tree is gone before the jobs are made.
  std::vector<detail::JobTemplate> templates;
  {
    toml::table root;
    try {
      root = toml::parse(piece.text, path.string());
    } catch (const toml::parse_error&) {
      return false;
    }
    const toml::array* tables = root.get_as<toml::array>("job");
    if (root.size() != 1 || tables == nullptr || tables->size() != piece.tables) return false;
    out.sink.reading(detail::LineMap::from(piece.first_line));
    templates.reserve(piece.tables);
    detail::parse_job_tables(*tables, first_ordinal, templates, out.sink);
  }
  out.expansion.add(templates, tables_after, out.doc.defaults, out.sink, out.jobs);
  return true;
}

// The tree toml++ builds for a [[job]] table is twice the size of the
// template read from it, and the template as big as the job made of it.
// Parsed a piece at a time, and each piece's templates made into jobs
// before the next, only one piece's tree and templates are held beside the
// jobs. False where the text does not split cleanly or a part of it is not
// valid alone: the whole text is then parsed, and says what is wrong with
// it (an invalid file is parsed twice).
bool parse_in_pieces(std::string_view text, const std::filesystem::path& path, size_t piece_bytes,
                     Loading& out) {
  std::optional<detail::SplitText> split = detail::split_jobs(text, piece_bytes);
  if (!split || split->tables == 0) return false;
  {
    toml::table root;
    try {
      root = toml::parse(split->rest, path.string());
    } catch (const toml::parse_error&) {
      return false;
    }
    std::string().swap(split->rest);
    if (root.contains("job")) return false;  // a second `job` besides the [[job]] tables
    out.sink.reading(split->rest_lines);
    out.doc = detail::parse_document(root, out.sink);
  }
  size_t tables_before = 0;
  for (const detail::JobPiece& piece : split->pieces) {
    size_t first_ordinal = tables_before + 1;
    tables_before += piece.tables;
    if (!parse_piece(piece, path, first_ordinal, split->tables - tables_before, out)) return false;
  }
  return true;
}

// The text is freed once parsed: the tree holds copies of its strings.
bool parse_whole(std::string& text, const std::filesystem::path& path, Diagnostics& syntax,
                 Loading& out) {
  {
    toml::table root;
    try {
      root = toml::parse(text, path.string());
    } catch (const toml::parse_error& error) {
      syntax.push_back(syntax_error(error, path));
      return false;
    }
    std::string().swap(text);
    out.doc = detail::parse_document(root, out.sink);
  }
  out.expansion.add(out.doc.jobs, 0, out.doc.defaults, out.sink, out.jobs);
  return true;
}

}  // namespace

namespace detail {

LoadResult load_text(std::string text, const std::filesystem::path& path, size_t piece_bytes) {
  std::optional<Loading> loading(std::in_place, path);
  if (piece_bytes == 0 || !parse_in_pieces(text, path, piece_bytes, *loading)) {
    loading.emplace(path);  // what the pieces made is freed first
    Diagnostics syntax;
    if (!parse_whole(text, path, syntax, *loading)) return {std::nullopt, std::move(syntax)};
  }
  // The jobs hold copies of all they need: the text (9 MB for 100,000
  // [[job]] tables) need not lie beside them.
  std::string().swap(text);
  detail::Document& doc = loading->doc;
  detail::Sink& sink = loading->sink;
  // Returned with its errors too, so that checks which need more than the
  // file (check_fits) still report in the same pass.
  Manifest manifest{path, doc.version, doc.space, doc.capacity, std::move(loading->jobs)};
  std::vector<detail::ExpandedJob> expanded = loading->expansion.finish(manifest.jobs);
  detail::resolve_graph(expanded, loading->expansion.heads(), sink);
  return {std::move(manifest), sink.take_sorted()};
}

}  // namespace detail

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
  return detail::load_text(std::move(*text), path, detail::kPieceBytes);
}

LoadResult load_string(std::string_view text, const std::filesystem::path& path) {
  return detail::load_text(std::string(text), path, detail::kPieceBytes);
}

}  // namespace wp::manifest
