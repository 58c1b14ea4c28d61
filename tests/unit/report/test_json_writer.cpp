#include <catch2/catch.hpp>

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
