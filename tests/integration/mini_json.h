// A small JSON reader for checking wp's --json output in tests. It parses the
// whole grammar (RFC 8259) strictly enough to reject a malformed document, and
// nothing more: no writer, no numbers beyond double.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace wpit {

class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::map<std::string, Json>;

  Json() = default;
  explicit Json(std::nullptr_t) {}
  explicit Json(bool value) : value_(value) {}
  explicit Json(double value) : value_(value) {}
  explicit Json(std::string value) : value_(std::move(value)) {}
  explicit Json(Array value) : value_(std::make_shared<Array>(std::move(value))) {}
  explicit Json(Object value) : value_(std::make_shared<Object>(std::move(value))) {}

  // Parses exactly one document (surrounding whitespace allowed); nullopt and
  // a message in *error when the text is not valid JSON.
  static std::optional<Json> parse(std::string_view text, std::string* error = nullptr);

  bool is_null() const { return std::holds_alternative<std::monostate>(value_); }
  bool is_bool() const { return std::holds_alternative<bool>(value_); }
  bool is_number() const { return std::holds_alternative<double>(value_); }
  bool is_string() const { return std::holds_alternative<std::string>(value_); }
  bool is_array() const { return std::holds_alternative<std::shared_ptr<Array>>(value_); }
  bool is_object() const { return std::holds_alternative<std::shared_ptr<Object>>(value_); }

  // Accessors throw std::runtime_error naming the expected type, so a test
  // fails with a readable message rather than crashing.
  bool as_bool() const;
  double as_number() const;
  long as_int() const;
  const std::string& as_string() const;
  const Array& as_array() const;
  const Object& as_object() const;

  bool has(const std::string& key) const;
  const Json& operator[](const std::string& key) const;  // throws if missing
  const Json& operator[](size_t index) const;
  size_t size() const;

  std::string dump() const;  // compact, for test diagnostics

 private:
  std::variant<std::monostate, bool, double, std::string, std::shared_ptr<Array>,
               std::shared_ptr<Object>>
      value_;
};

}  // namespace wpit
