#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <string_view>

#include "report/json_writer.h"

using wp::report::JsonWriter;

TEST_CASE("json writer nests, separates and escapes", "[report]") {
  JsonWriter json(0);
  json.begin_object();
  json.key("name").value("a \"quoted\"\nline\x01");
  json.key("n").value(int64_t{-3});
  json.key("x").value(0.5);
  json.key("none").null();
  json.key("list").begin_array().value(true).value(false).end_array();
  json.key("empty").begin_object().end_object();
  json.end_object();
  CHECK(
      json.str() ==
      R"({"name":"a \"quoted\"\nline\u0001","n":-3,"x":0.5,"none":null,"list":[true,false],"empty":{}})");
}

TEST_CASE("json writer escapes keys and leaves UTF-8 and DEL as they are", "[report]") {
  JsonWriter json(0);
  json.begin_object();
  json.key("k\\\"ey\t").value("clean prefix, then \\ and \x1f");
  json.key("h\xc3\xa9").value("caf\xc3\xa9 \x7f");
  json.end_object();
  CHECK(json.str() ==
        "{\"k\\\\\\\"ey\\t\":\"clean prefix, then \\\\ and \\u001f\","
        "\"h\xc3\xa9\":\"caf\xc3\xa9 \x7f\"}");
  CHECK(wp::report::json_escape("a\rb") == "a\\rb");
}

namespace {

// A document of `count` members, written by `json`.
void write_sample(JsonWriter& json, int count) {
  json.begin_object();
  json.key("title").value("samples");
  json.key("items").begin_array();
  for (int i = 0; i < count; ++i) {
    json.begin_object();
    json.key("index").value(i);
    json.key("name").value("item \"" + std::to_string(i) + "\"\n");
    json.key("ratio").value(i / 7.0);
    json.key("empty").begin_array().end_array();
    json.end_object();
  }
  json.end_array();
  json.end_object();
}

// Streams into pieces, remembering the largest.
struct Pieces {
  std::string text;
  size_t count = 0;
  size_t largest = 0;
  JsonWriter::Sink sink() {
    return [this](std::string_view piece) {
      text += piece;
      ++count;
      largest = std::max(largest, piece.size());
    };
  }
};

}  // namespace

TEST_CASE("json writer streams the same bytes it builds in memory", "[report]") {
  for (int indent : {0, 2}) {
    for (int count : {0, 3, 5000}) {
      JsonWriter whole(indent);
      write_sample(whole, count);
      Pieces pieces;
      JsonWriter streamed(pieces.sink(), indent);
      write_sample(streamed, count);
      streamed.finish();
      INFO("indent " << indent << ", " << count << " items");
      CHECK(pieces.text == whole.str());
      CHECK(streamed.str().empty());
      if (count == 5000) {
        // Larger than one piece, and handed over in bounded pieces.
        REQUIRE(whole.str().size() > 3 * JsonWriter::kFlushSize);
        CHECK(pieces.count > 3);
        CHECK(pieces.largest < JsonWriter::kFlushSize + 1024);
      }
    }
  }
}

TEST_CASE("json writer hands over nothing before finish() when small", "[report]") {
  Pieces pieces;
  JsonWriter json(pieces.sink());
  write_sample(json, 2);
  CHECK(pieces.count == 0);
  json.finish();
  CHECK(pieces.count == 1);
  json.finish();  // nothing left: no empty piece
  CHECK(pieces.count == 1);
}
