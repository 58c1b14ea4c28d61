// Terminal columns of UTF-8 text: wide, zero-width and invalid input, and
// cutting without breaking a character.
#include <catch2/catch.hpp>

#include <string>

#include "util/text_width.h"

using wp::text::column_width;
using wp::text::display_width;
using wp::text::fit_columns;
using wp::text::prefix_columns;

namespace {

const std::string kNihongo = "\u65e5\u672c\u8a9e";  // 日本語: three wide characters
const std::string kCafe = "cafe\u0301";             // "café" with a combining acute
const std::string kRocket = "\U0001F680";           // an emoji, four bytes
const std::string kHangul = "\u1100\u1161\u11a8";   // a syllable of conjoining jamo
const std::string kFullwidthA = "\uff21";           // Ａ
const std::string kZeroWidthJoiner = "a\u200db";

}  // namespace

TEST_CASE("text width: one code point", "[util][text]") {
  CHECK(column_width(U'a') == 1);
  CHECK(column_width(U'\u00e9') == 1);      // é, precomposed
  CHECK(column_width(U'\u0301') == 0);      // combining acute accent
  CHECK(column_width(U'\u200b') == 0);      // zero-width space
  CHECK(column_width(U'\ufe0f') == 0);      // variation selector
  CHECK(column_width(U'\u65e5') == 2);      // 日
  CHECK(column_width(U'\uac00') == 2);      // 가, a Hangul syllable
  CHECK(column_width(U'\u1160') == 0);      // a conjoining Hangul vowel
  CHECK(column_width(U'\uff21') == 2);      // fullwidth A
  CHECK(column_width(U'\U0001F680') == 2);  // rocket
  CHECK(column_width(U'\U00020000') == 2);  // CJK extension B
  CHECK(column_width(U'\u2026') == 1);      // …, ambiguous: narrow
  CHECK(column_width(U'\u2588') == 1);      // █, the status area's bars
}

TEST_CASE("text width: strings in columns, not bytes", "[util][text]") {
  CHECK(display_width("") == 0);
  CHECK(display_width("plain") == 5);
  CHECK(display_width(kNihongo) == 6);
  CHECK(kNihongo.size() == 9);
  CHECK(display_width(kCafe) == 4);
  CHECK(display_width("\u00e9t\u00e9") == 3);
  CHECK(display_width(kRocket + "go") == 4);
  CHECK(display_width(kHangul) == 2);
  CHECK(display_width(kFullwidthA) == 2);
  CHECK(display_width(kZeroWidthJoiner) == 2);
  // Escape sequences take no columns: coloured text measures as plain.
  CHECK(display_width("\x1b[31mred\x1b[0m") == 3);
  CHECK(display_width("\x1b[") == 0);  // cut short
}

TEST_CASE("text width: invalid UTF-8 counts a column a byte", "[util][text]") {
  CHECK(display_width("\xff") == 1);
  CHECK(display_width("a\x80z") == 3);
  CHECK(display_width("\xe6\x97") == 2);          // 日 cut short
  CHECK(display_width("\xc0\xaf") == 2);          // overlong '/'
  CHECK(display_width("\xed\xa0\x80") == 3);      // a surrogate
  CHECK(display_width("\xf4\x90\x80\x80") == 4);  // beyond U+10FFFF
  CHECK(prefix_columns("\xff\xfe", 1) == "\xff");
}

TEST_CASE("text width: cutting keeps whole characters", "[util][text]") {
  CHECK(prefix_columns("abcdef", 3) == "abc");
  CHECK(prefix_columns("abc", 10) == "abc");
  CHECK(prefix_columns("abc", 0).empty());
  // A wide character that would take the last column and one more is left out.
  CHECK(prefix_columns(kNihongo, 5) == "\u65e5\u672c");
  CHECK(prefix_columns(kNihongo, 4) == "\u65e5\u672c");
  CHECK(prefix_columns(kNihongo, 1).empty());
  CHECK(prefix_columns(kRocket + "x", 1).empty());
  // The accent stays on its letter.
  CHECK(prefix_columns(kCafe + "!", 4) == kCafe);
  CHECK(prefix_columns(kCafe, 3) == "caf");
  // Cut inside a sequence, the two halves would measure as invalid bytes.
  std::string text = kNihongo + kCafe + kRocket;
  for (size_t columns = 0; columns <= 12; ++columns) {
    std::string_view kept = prefix_columns(text, columns);
    INFO(columns);
    CHECK(display_width(kept) <= columns);
    CHECK(display_width(kept) + 1 >= std::min<size_t>(columns, 12));  // short by a wide one at most
    CHECK(display_width(kept) + display_width(text.substr(kept.size())) == 12);
  }
}

TEST_CASE("text width: fit pads to exactly the columns", "[util][text]") {
  CHECK(fit_columns("ab", 4) == "ab  ");
  CHECK(fit_columns("abcdef", 4) == "abcd");
  CHECK(fit_columns(kNihongo, 5) == "\u65e5\u672c ");  // the third does not fit: a space
  CHECK(fit_columns(kNihongo, 6) == kNihongo);
  CHECK(fit_columns(kCafe, 6) == kCafe + "  ");
  CHECK(fit_columns(kRocket, 3) == kRocket + " ");
  for (size_t columns = 0; columns < 12; ++columns)
    CHECK(display_width(fit_columns(kNihongo + kCafe + kRocket, columns)) == columns);
}
