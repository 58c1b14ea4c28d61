// Finds a manifest's [[job]] tables in its text, so that toml++ can parse
// them a piece at a time: it builds a whole document's tree before wp reads
// a value, about 1.2 KB for each table, and 100,000 tables written out by a
// generator would hold 120 MB at once for what becomes 50 MB of templates.
//
// This is not a TOML parser. It only has to tell a header line from a line
// inside a multi-line string or array, reading strings, comments and
// brackets as TOML 1.0 does, and it gives up (the text is then parsed whole)
// on anything it is not sure of. toml++ checks each part it is given: a cut
// inside a string or an array leaves one open at the end of a piece, which
// it refuses, and load.cpp then parses the text whole too. The tests load
// thousands of made-up manifests both ways and compare.
#include <algorithm>

#include "manifest/internal.h"

namespace wp::manifest::detail {

namespace {

enum class Header { job_table, job_part, other, doubt };

bool is_bare_key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

size_t skip_blanks(std::string_view text, size_t i) {
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t'))
    ++i;
  return i;
}

// What a header line names: `line` runs from its '[' to the end of the line.
// [[job]] starts a job's table; [job.env] or [[job.x]] belongs to the last
// one; a quoted part with an escape could spell "job" and is not decoded.
Header classify_header(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const bool array = line.starts_with("[[");
  size_t i = skip_blanks(line, array ? 2 : 1);
  std::string_view first;
  size_t parts = 0;
  for (;;) {
    size_t begin = i;
    std::string_view part;
    if (i < line.size() && (line[i] == '"' || line[i] == '\'')) {
      const size_t close = line.find(line[i], i + 1);
      if (close == std::string_view::npos) return Header::doubt;
      part = line.substr(i + 1, close - i - 1);
      if (line[i] == '"' && part.find('\\') != std::string_view::npos) return Header::doubt;
      i = close + 1;
    } else {
      while (i < line.size() && is_bare_key_char(line[i]))
        ++i;
      if (i == begin) return Header::doubt;
      part = line.substr(begin, i - begin);
    }
    if (parts++ == 0) first = part;
    i = skip_blanks(line, i);
    if (i < line.size() && line[i] == '.') {
      i = skip_blanks(line, i + 1);
      continue;
    }
    break;
  }
  const std::string_view close = array ? "]]" : "]";
  if (line.substr(i, close.size()) != close) return Header::doubt;
  i = skip_blanks(line, i + close.size());
  if (i < line.size() && line[i] != '#') return Header::doubt;
  if (first != "job") return Header::other;
  if (parts > 1) return Header::job_part;
  return array ? Header::job_table : Header::doubt;
}

// Walks a line's keys and values from `i` to the newline that ends it,
// counting brackets and braces still open (an array may go on over lines)
// and stepping over strings and comments, whose brackets and quotes do not
// count. A multi-line string carries the walk over its lines. False where a
// string does not end.
class LineWalker {
 public:
  explicit LineWalker(std::string_view text) : text_(text) {}

  bool walk(size_t& i, uint32_t& line) {
    while (i < text_.size() && text_[i] != '\n') {
      const char c = text_[i];
      if (c == '#') {
        i = std::min(text_.find('\n', i), text_.size());
      } else if (c == '"' || c == '\'') {
        if (!skip_string(i, line)) return false;
      } else {
        if (c == '[' || c == '{') {
          ++depth_;
        } else if (c == ']' || c == '}') {
          if (depth_ == 0) return false;  // closes what was never opened
          --depth_;
        }
        ++i;
      }
    }
    return true;
  }
  // Brackets and braces open: the next line is still inside a value.
  int depth() const { return depth_; }

 private:
  bool skip_string(size_t& i, uint32_t& line) {
    const char quote = text_[i];
    const bool escapes = quote == '"';
    const std::string_view triple = escapes ? R"(""")" : "'''";
    const bool multi_line = text_.substr(i, 3) == triple;
    for (i += multi_line ? 3 : 1; i < text_.size(); ++i) {
      const char c = text_[i];
      if (c == '\n') {
        if (!multi_line) return false;
        ++line;
      } else if (c == '\\' && escapes) {
        if (i + 1 < text_.size() && text_[i + 1] == '\n') ++line;
        ++i;
      } else if (c == quote && !multi_line) {
        ++i;
        return true;
      } else if (c == quote && text_.substr(i, 3) == triple) {
        // """" ends with a quote in the string: up to two may come first.
        i += 3;
        for (int extra = 0; extra < 2 && i < text_.size() && text_[i] == quote; ++extra)
          ++i;
        return true;
      }
    }
    return false;
  }

  std::string_view text_;
  int depth_ = 0;
};

struct HeaderLine {
  size_t begin;   // the line's first byte
  uint32_t line;  // 1-based
  Header kind;
};

// Every header line, or nothing where the text leaves a doubt.
std::optional<std::vector<HeaderLine>> find_headers(std::string_view text, uint32_t& lines) {
  std::vector<HeaderLine> headers;
  LineWalker walker(text);
  uint32_t line = 1;
  size_t i = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  size_t line_begin = 0;
  while (i < text.size()) {
    i = skip_blanks(text, i);
    if (walker.depth() == 0 && i < text.size() && text[i] == '[') {
      const size_t end = std::min(text.find('\n', i), text.size());
      const Header kind = classify_header(text.substr(i, end - i));
      if (kind == Header::doubt) return std::nullopt;
      headers.push_back({line_begin, line, kind});
      i = end;
    } else if (!walker.walk(i, line)) {
      return std::nullopt;
    }
    if (i < text.size()) {
      ++i;
      ++line;
      line_begin = i;
    }
  }
  if (walker.depth() != 0) return std::nullopt;
  lines = line;
  return headers;
}

}  // namespace

std::optional<SplitText> split_jobs(std::string_view text, size_t piece_bytes) {
  uint32_t last_line = 0;
  std::optional<std::vector<HeaderLine>> headers = find_headers(text, last_line);
  if (!headers) return std::nullopt;

  SplitText split;
  // The text from here on is not yet in `rest` nor in a piece.
  size_t rest_from = 0;
  uint32_t rest_from_line = 1;
  uint32_t rest_line = 1;  // the line of `rest` the next text goes to
  auto to_rest = [&](size_t end, uint32_t end_line) {
    if (end > rest_from) {
      split.rest.append(text.substr(rest_from, end - rest_from));
      split.rest_lines.add(rest_line, rest_from_line);
      rest_line += end_line - rest_from_line;
    }
    rest_from = end;
    rest_from_line = end_line;
  };
  std::optional<JobPiece> piece;
  auto close_piece = [&](size_t end, uint32_t end_line) {
    piece->text = text.substr(rest_from, end - rest_from);
    split.pieces.push_back(*piece);
    piece.reset();
    rest_from = end;
    rest_from_line = end_line;
  };
  for (const HeaderLine& header : *headers) {
    if (header.kind == Header::job_part && !piece) return std::nullopt;  // away from its [[job]]
    if (header.kind == Header::job_part) continue;
    const bool full = piece && header.begin - rest_from >= piece_bytes;
    if (piece && (header.kind == Header::other || full)) close_piece(header.begin, header.line);
    if (header.kind == Header::other) continue;
    if (!piece) {
      to_rest(header.begin, header.line);
      piece = JobPiece{{}, header.line, 0};
    }
    ++piece->tables;
    ++split.tables;
  }
  if (piece) close_piece(text.size(), last_line);
  to_rest(text.size(), last_line);
  return split;
}

}  // namespace wp::manifest::detail
