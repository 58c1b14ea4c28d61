#include "mini_json.h"

#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace wpit {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Json document() {
    Json value = parse_value(0);
    skip_space();
    if (pos_ != text_.size()) fail("trailing characters after the document");
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("JSON: " + what + " at offset " + std::to_string(pos_));
  }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\t')) {
      ++pos_;
    }
  }

  char peek() {
    skip_space();
    if (pos_ >= text_.size()) fail("unexpected end");
    return text_[pos_];
  }

  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }

  bool consume_word(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Json parse_value(int depth) {
    if (depth > 200) fail("nesting too deep");
    char c = peek();
    if (c == '{') return parse_object(depth);
    if (c == '[') return parse_array(depth);
    if (c == '"') return Json(parse_string());
    if (consume_word("true")) return Json(true);
    if (consume_word("false")) return Json(false);
    if (consume_word("null")) return Json(nullptr);
    return Json(parse_number());
  }

  Json parse_object(int depth) {
    expect('{');
    Json::Object object;
    if (peek() == '}') {
      ++pos_;
      return Json(std::move(object));
    }
    while (true) {
      if (peek() != '"') fail("expected a key");
      std::string key = parse_string();
      expect(':');
      if (object.count(key) != 0) fail("duplicate key '" + key + "'");
      object.emplace(std::move(key), parse_value(depth + 1));
      char c = peek();
      ++pos_;
      if (c == '}') return Json(std::move(object));
      if (c != ',') fail("expected ',' or '}'");
    }
  }

  Json parse_array(int depth) {
    expect('[');
    Json::Array array;
    if (peek() == ']') {
      ++pos_;
      return Json(std::move(array));
    }
    while (true) {
      array.push_back(parse_value(depth + 1));
      char c = peek();
      ++pos_;
      if (c == ']') return Json(std::move(array));
      if (c != ',') fail("expected ',' or ']'");
    }
  }

  unsigned hex4() {
    if (pos_ + 4 > text_.size()) fail("short \\u escape");
    unsigned value = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_++];
      value <<= 4;
      if (c >= '0' && c <= '9') {
        value |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        value |= static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        value |= static_cast<unsigned>(c - 'A' + 10);
      } else {
        fail("bad \\u escape");
      }
    }
    return value;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string parse_string() {
    expect('"');
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) fail("unterminated string");
      char c = text_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) fail("unterminated escape");
      char e = text_[pos_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && consume_word("\\u")) {
            unsigned low = hex4();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          fail("bad escape");
      }
    }
  }

  double parse_number() {
    size_t start = pos_;
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    auto digits = [&] {
      size_t before = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9')
        ++pos_;
      return pos_ - before;
    };
    if (digits() == 0) fail("expected a value");
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) fail("bad fraction");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (digits() == 0) fail("bad exponent");
    }
    std::string number(text_.substr(start, pos_ - start));
    return std::strtod(number.c_str(), nullptr);
  }

  std::string_view text_;
  size_t pos_ = 0;
};

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

[[noreturn]] void wrong_type(const char* expected, const Json& value) {
  throw std::runtime_error(std::string("JSON: expected ") + expected + ", got " + value.dump());
}

}  // namespace

std::optional<Json> Json::parse(std::string_view text, std::string* error) {
  try {
    return Parser(text).document();
  } catch (const std::runtime_error& e) {
    if (error != nullptr) *error = e.what();
    return std::nullopt;
  }
}

bool Json::as_bool() const {
  if (!is_bool()) wrong_type("a boolean", *this);
  return std::get<bool>(value_);
}

double Json::as_number() const {
  if (!is_number()) wrong_type("a number", *this);
  return std::get<double>(value_);
}

long Json::as_int() const {
  double number = as_number();
  if (std::floor(number) != number) wrong_type("an integer", *this);
  return static_cast<long>(number);
}

const std::string& Json::as_string() const {
  if (!is_string()) wrong_type("a string", *this);
  return std::get<std::string>(value_);
}

const Json::Array& Json::as_array() const {
  if (!is_array()) wrong_type("an array", *this);
  return *std::get<std::shared_ptr<Array>>(value_);
}

const Json::Object& Json::as_object() const {
  if (!is_object()) wrong_type("an object", *this);
  return *std::get<std::shared_ptr<Object>>(value_);
}

bool Json::has(const std::string& key) const {
  return is_object() && as_object().count(key) != 0;
}

const Json& Json::operator[](const std::string& key) const {
  const Object& object = as_object();
  auto it = object.find(key);
  if (it == object.end()) throw std::runtime_error("JSON: no key '" + key + "' in " + dump());
  return it->second;
}

const Json& Json::operator[](size_t index) const {
  const Array& array = as_array();
  if (index >= array.size()) throw std::runtime_error("JSON: index out of range in " + dump());
  return array[index];
}

size_t Json::size() const {
  return is_array() ? as_array().size() : as_object().size();
}

std::string Json::dump() const {
  if (is_null()) return "null";
  if (is_bool()) return as_bool() ? "true" : "false";
  if (is_number()) {
    std::string text = std::to_string(as_number());
    return text;
  }
  if (is_string()) return quote(as_string());
  std::string out;
  if (is_array()) {
    out = "[";
    for (const auto& item : as_array())
      out += (out.size() > 1 ? "," : "") + item.dump();
    return out + "]";
  }
  out = "{";
  for (const auto& [key, item] : as_object()) {
    out += (out.size() > 1 ? "," : "") + quote(key) + ":" + item.dump();
  }
  return out + "}";
}

}  // namespace wpit
