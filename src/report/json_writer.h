// A small streaming JSON writer: wp emits JSON documents but never reads one,
// so a library would be more than the job needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wp::report {

class JsonWriter {
 public:
  // Receives a streamed document in pieces, in order.
  using Sink = std::function<void(std::string_view)>;
  // Pieces are about this size: a run summary of 100,000 jobs is 160 MB,
  // which a writer must not hold whole.
  static constexpr size_t kFlushSize = 64 * 1024;

  // Builds the document in memory: str().
  explicit JsonWriter(int indent = 2) : indent_(indent) {}
  // Streams the document to `sink`; finish() hands over the last piece.
  explicit JsonWriter(Sink sink, int indent = 2) : indent_(indent), sink_(std::move(sink)) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);  // the next value is this member's

  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(int64_t number);
  JsonWriter& value(uint64_t number);
  JsonWriter& value(int number) { return value(static_cast<int64_t>(number)); }
  JsonWriter& value(double number);
  JsonWriter& value(bool flag);
  JsonWriter& null();
  template <typename T>
  JsonWriter& value(const std::optional<T>& maybe) {
    return maybe ? value(*maybe) : null();
  }
  // wp's reports leave text fields empty for "none": those are null.
  JsonWriter& text_or_null(std::string_view text) { return text.empty() ? null() : value(text); }

  // The document so far; with a sink, only what is not yet handed over.
  const std::string& str() const { return out_; }
  // With a sink: hands it what is buffered.
  void finish();

 private:
  void before_value();
  void newline();

  int indent_;
  Sink sink_;
  std::string out_;
  std::vector<bool> first_;  // per open container: no member written yet
  bool after_key_ = false;
};

std::string json_escape(std::string_view text);
// json_escape(text), appended to `out`.
void append_escaped(std::string& out, std::string_view text);

}  // namespace wp::report
