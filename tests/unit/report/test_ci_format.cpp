// GitHub workflow commands and GitLab sections, as their runners parse them.
#include <catch2/catch.hpp>

#include "report/ci_format.h"

using namespace wp::report;

TEST_CASE("ci format: auto follows the runner's variable", "[report][ci]") {
  CHECK(detect_ci_format(nullptr, nullptr) == CiFormat::Plain);
  CHECK(detect_ci_format("true", nullptr) == CiFormat::Github);
  CHECK(detect_ci_format(nullptr, "true") == CiFormat::Gitlab);
  CHECK(detect_ci_format("false", "") == CiFormat::Plain);
  CHECK(parse_ci_format("gitlab") == CiFormat::Gitlab);
  CHECK_FALSE(parse_ci_format("auto").has_value());
}

TEST_CASE("github: messages and properties escaped as the runner unescapes them", "[report][ci]") {
  CHECK(github_escape_data("50% a:b,c\r\nnext") == "50%25 a:b,c%0D%0Anext");
  CHECK(github_escape_property("50% a:b,c\r\nnext") == "50%25 a%3Ab%2Cc%0D%0Anext");
  Annotation a{"ci/jobs, v2.toml", 12, 3, "wp: job x failed", "exit 1\nerror: boom"};
  CHECK(github_error(a) ==
        "::error file=ci/jobs%2C v2.toml,line=12,col=3,title=wp%3A job x failed::exit "
        "1%0Aerror: boom\n");
  Block block{"build: 100% ok", "", 0, 0};
  CHECK(begin_block(CiFormat::Github, block) == "::group::build: 100%25 ok\n");
  CHECK(end_block(CiFormat::Github, block) == "::endgroup::\n");
}

TEST_CASE("gitlab: sections with names it accepts and their times", "[report][ci]") {
  CHECK(gitlab_section_name("test py3.12/unit", 2) == "wp_test_py3.12_unit_2");
  Block block{"test: exit 1\nafter 2s", gitlab_section_name("test", 1), 100, 160};
  CHECK(begin_block(CiFormat::Gitlab, block) ==
        "\x1b[0Ksection_start:100:wp_test_1[collapsed=true]\r\x1b[0Ktest: exit 1 after 2s\n");
  CHECK(end_block(CiFormat::Gitlab, block) == "\x1b[0Ksection_end:160:wp_test_1\r\x1b[0K\n");
  CHECK(begin_block(CiFormat::Plain, block).empty());
}
