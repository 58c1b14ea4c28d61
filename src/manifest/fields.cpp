// Typed readers for single manifest values: the type checks, units and ranges
// shared by [defaults], [capacity] and [[job]].
#include <array>
#include <cassert>
#include <charconv>
#include <cmath>
#include <string_view>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "manifest/internal.h"

namespace wp::manifest::detail {

namespace {

// More cores than any machine has; also keeps Cores::from_double in range.
constexpr std::string_view kMemoryAdvice = "write e.g. memory = \"512MiB\"";

std::optional<double> as_number(const toml::node& node) {
  if (auto i = node.as_integer()) return static_cast<double>(i->get());
  if (auto d = node.as_floating_point()) return d->get();
  return std::nullopt;
}

void wrong_type(const Field& field, std::string_view expected, Sink& sink) {
  sink.error(field.node, fmt::format("{}expected {}, got {}", field.prefix(), expected,
                                     describe_type(field.node)));
}

// "<prefix>must be <rule>, got <got>[; <advice>]"
void out_of_range(const Field& field, std::string_view rule, std::string_view got,
                  std::string_view advice, Sink& sink) {
  std::string message = fmt::format("{}must be {}, got {}", field.prefix(), rule, got);
  if (!advice.empty()) message += fmt::format("; {}", advice);
  sink.error(field.node, std::move(message));
}

// A float without a fractional part, within what Bytes and int64_t hold.
bool is_whole(double value) {
  return std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 9e18;
}

// TOML writes 2.0 for a whole float; so do we (fmt would write "2").
std::string float_text(double value) {
  std::string text = fmt::format("{}", value);
  if (std::isfinite(value) && text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

// The shortest digits that read back as `value` (not negative, finite), and
// the power of ten of the first: 1e20 is {"1", 20}, 0.25 is {"25", -1}.
std::pair<std::string, int> shortest_digits(double value) {
  std::array<char, 32> buffer{};  // "d.ddddddddddddddddde-ddd": 17 digits at most
  auto [end, error] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value,
                                    std::chars_format::scientific);
  assert(error == std::errc());
  std::string_view text(buffer.data(), static_cast<size_t>(end - buffer.data()));
  size_t e = text.find('e');
  std::string digits;
  for (char c : text.substr(0, e)) {
    if (c != '.') digits += c;
  }
  return {digits, std::stoi(std::string(text.substr(e + 1)))};
}

// A float that becomes text in a command, a name or the environment: the
// shortest digits that read back as the same double, with the point placed
// and never an exponent, which names and arguments do not expect ("1e+20").
// Whole floats keep ".0", as TOML writes them.
std::string decimal_text(double value) {
  if (!std::isfinite(value)) return float_text(value);  // inf, nan
  auto [digits, exponent] = shortest_digits(std::fabs(value));
  const std::string sign = std::signbit(value) ? "-" : "";
  const int point = exponent + 1;  // digits before the decimal point
  if (point <= 0) return sign + "0." + std::string(static_cast<size_t>(-point), '0') + digits;
  const auto whole = static_cast<size_t>(point);
  if (whole >= digits.size()) return sign + digits + std::string(whole - digits.size(), '0') + ".0";
  return sign + digits.substr(0, whole) + "." + digits.substr(whole);
}

}  // namespace

std::string Field::prefix() const {
  if (where.empty()) return key + ": ";
  if (where.front() == '[') return where + " " + key + ": ";
  return where + ": " + key + ": ";
}

std::string describe_type(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

std::optional<Cores> read_cores(const Field& field, Sink& sink) {
  std::optional<double> value = as_number(field.node);
  if (!value) {
    wrong_type(field, "a number of cores such as 2 or 0.5", sink);
    return std::nullopt;
  }
  std::string got = field.node.is_integer() ? fmt::format("{}", *value) : float_text(*value);
  if (!std::isfinite(*value) || *value > Cores::kMax) {
    out_of_range(field, fmt::format("a number of cores up to {}", Cores::kMax), got, "", sink);
  } else if (*value <= 0) {
    out_of_range(field, "greater than 0", got, "write e.g. cpu = 0.5 or cpu = 2", sink);
  } else if (*value < Cores::kMin) {
    out_of_range(field, "at least 0.001 cores", got, "wp tracks cpu in thousandths of a core",
                 sink);
  } else {
    return Cores::from_double(*value);
  }
  return std::nullopt;
}

std::optional<Bytes> read_bytes(const Field& field, Sink& sink) {
  Bytes bytes = 0;
  std::string got;
  if (auto text = field.node.as_string()) {
    Result<Bytes> parsed = parse_bytes(text->get());
    if (!parsed) {
      sink.error(field.node, field.prefix() + parsed.error().message);
      return std::nullopt;
    }
    bytes = *parsed;
    got = fmt::format("'{}'", text->get());
  } else if (auto integer = field.node.as_integer()) {
    if (integer->get() <= 0) {
      out_of_range(field, "greater than 0", fmt::format("{}", integer->get()), kMemoryAdvice, sink);
      return std::nullopt;
    }
    bytes = static_cast<Bytes>(integer->get());
  } else if (auto number = field.node.as_floating_point(); number && is_whole(number->get())) {
    // 1048576.0 is a whole number of bytes, as 2.0 is an integer elsewhere
    // (and in JSON, which the manifest's schema describes, the two are one).
    if (number->get() <= 0) {
      out_of_range(field, "greater than 0", float_text(number->get()), kMemoryAdvice, sink);
      return std::nullopt;
    }
    bytes = static_cast<Bytes>(number->get());
  } else {
    wrong_type(field, "a size such as \"512MiB\" or an integer number of bytes", sink);
    return std::nullopt;
  }
  if (bytes == 0) {
    out_of_range(field, "greater than 0", got, kMemoryAdvice, sink);
    return std::nullopt;
  }
  return bytes;
}

std::optional<std::chrono::milliseconds> read_duration(const Field& field, Sink& sink) {
  std::chrono::milliseconds duration{0};
  std::string got;
  if (auto text = field.node.as_string()) {
    auto parsed = parse_duration(text->get());
    if (!parsed) {
      sink.error(field.node, field.prefix() + parsed.error().message);
      return std::nullopt;
    }
    duration = *parsed;
    got = fmt::format("'{}'", text->get());
  } else if (std::optional<double> seconds = as_number(field.node)) {
    got = field.node.is_integer() ? fmt::format("{}", *seconds) : float_text(*seconds);
    if (!std::isfinite(*seconds) || *seconds > 1e12) {
      out_of_range(field, "at most 1e12 seconds", got, "", sink);
      return std::nullopt;
    }
    // As parse_duration: under a millisecond would round to nothing (or up
    // to a whole one), and is refused for what it is.
    if (*seconds > 0 && *seconds < 0.001) {
      out_of_range(field, "at least 0.001 (1ms, the finest wp counts)", got, "", sink);
      return std::nullopt;
    }
    duration = std::chrono::milliseconds(std::llround(*seconds * 1000));
  } else {
    wrong_type(field, "a duration such as \"90s\" or \"1h30m\", or a number of seconds", sink);
    return std::nullopt;
  }
  if (duration.count() <= 0) {
    out_of_range(field, "greater than 0", got,
                 "write e.g. timeout = \"10m\", or leave it out for no limit", sink);
    return std::nullopt;
  }
  return duration;
}

std::optional<int64_t> read_integer(const Field& field, int64_t min, int64_t max, Sink& sink) {
  int64_t value = 0;
  if (auto integer = field.node.as_integer()) {
    value = integer->get();
  } else if (auto number = field.node.as_floating_point()) {
    double d = number->get();
    // 2.0 is an integer written as a float; 2.5 is not.
    if (!is_whole(d)) {
      wrong_type(field, "an integer", sink);
      return std::nullopt;
    }
    value = static_cast<int64_t>(d);
  } else {
    wrong_type(field, "an integer", sink);
    return std::nullopt;
  }
  if (value < min) {
    out_of_range(field, min == 0 ? "0 or more" : fmt::format("at least {}", min),
                 fmt::format("{}", value), "", sink);
    return std::nullopt;
  }
  if (value > max) {
    out_of_range(field, fmt::format("at most {}", max), fmt::format("{}", value), "", sink);
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> read_string(const Field& field, Sink& sink) {
  if (auto text = field.node.as_string()) return text->get();
  wrong_type(field, "a string", sink);
  return std::nullopt;
}

std::optional<std::string> read_scalar(const Field& field, Sink& sink) {
  if (auto text = field.node.as_string()) return text->get();
  if (auto integer = field.node.as_integer()) return fmt::format("{}", integer->get());
  if (auto number = field.node.as_floating_point()) return decimal_text(number->get());
  if (auto boolean = field.node.as_boolean()) return boolean->get() ? "true" : "false";
  wrong_type(field, "a string, number or boolean", sink);
  return std::nullopt;
}

std::optional<std::vector<Located<std::string>>> read_string_array(const Field& field, Sink& sink) {
  const toml::array* array = field.node.as_array();
  if (array == nullptr) {
    wrong_type(field, "an array of strings", sink);
    return std::nullopt;
  }
  std::vector<Located<std::string>> out;
  bool ok = true;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    Field item{element, field.where, fmt::format("{}[{}]", field.key, i)};
    if (std::optional<std::string> text = read_string(item, sink)) {
      out.push_back({std::move(*text), sink.pos(element)});
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace wp::manifest::detail
