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

struct Parsed {
  detail::Document doc;
  detail::Sink sink;
};

// A piece's tables, read with the file's line numbers. False where it is
// not [[job]] tables alone.
bool parse_piece(const detail::JobPiece& piece, const std::filesystem::path& path, Parsed& out) {
  toml::table root;
  try {
    root = toml::parse(piece.text, path.string());
  } catch (const toml::parse_error&) {
    return false;
  }
  const toml::array* tables = root.get_as<toml::array>("job");
  if (root.size() != 1 || tables == nullptr || tables->size() != piece.tables) return false;
  out.sink.reading(detail::LineMap::from(piece.first_line));
  detail::parse_job_tables(*tables, out.doc.jobs, out.sink);
  return true;
}

// The tree toml++ builds for a [[job]] table is twice the size of the
// template read from it. Parsed a piece at a time, only one piece's tree is
// held beside the templates. Nothing where the text does not split cleanly
// or a part of it is not valid alone: the whole text is then parsed, and
// says what is wrong with it (an invalid file is parsed twice).
std::optional<Parsed> parse_in_pieces(std::string_view text, const std::filesystem::path& path,
                                      size_t piece_bytes) {
  std::optional<detail::SplitText> split = detail::split_jobs(text, piece_bytes);
  if (!split || split->tables == 0) return std::nullopt;
  Parsed parsed{{}, detail::Sink(path.string())};
  {
    toml::table root;
    try {
      root = toml::parse(split->rest, path.string());
    } catch (const toml::parse_error&) {
      return std::nullopt;
    }
    std::string().swap(split->rest);
    if (root.contains("job")) return std::nullopt;  // a second `job` besides the [[job]] tables
    parsed.sink.reading(split->rest_lines);
    parsed.doc = detail::parse_document(root, parsed.sink);
  }
  parsed.doc.jobs.reserve(split->tables);
  for (const detail::JobPiece& piece : split->pieces) {
    if (!parse_piece(piece, path, parsed)) return std::nullopt;
  }
  return parsed;
}

// The text is freed once parsed: the tree holds copies of its strings.
std::optional<Parsed> parse_whole(std::string& text, const std::filesystem::path& path,
                                  Diagnostics& syntax) {
  toml::table root;
  try {
    root = toml::parse(text, path.string());
  } catch (const toml::parse_error& error) {
    syntax.push_back(syntax_error(error, path));
    return std::nullopt;
  }
  std::string().swap(text);
  Parsed parsed{{}, detail::Sink(path.string())};
  parsed.doc = detail::parse_document(root, parsed.sink);
  return parsed;
}

}  // namespace

namespace detail {

LoadResult load_text(std::string text, const std::filesystem::path& path, size_t piece_bytes) {
  std::optional<Parsed> parsed;
  if (piece_bytes != 0) parsed = parse_in_pieces(text, path, piece_bytes);
  if (!parsed) {
    Diagnostics syntax;
    parsed = parse_whole(text, path, syntax);
    if (!parsed) return {std::nullopt, std::move(syntax)};
  }
  // The templates hold copies of all they need: the text (9 MB for 100,000
  // [[job]] tables) need not lie beside the jobs made from them.
  std::string().swap(text);
  detail::Document& doc = parsed->doc;
  detail::Sink& sink = parsed->sink;
  // Returned with its errors too, so that checks which need more than the
  // file (check_fits) still report in the same pass.
  Manifest manifest{path, doc.version, doc.space, doc.capacity, {}};
  std::vector<detail::ExpandedJob> expanded =
      detail::expand_jobs(doc, base_directory(path), sink, manifest.jobs);
  detail::resolve_graph(expanded, doc.jobs, sink);
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
