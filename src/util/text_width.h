// How many terminal columns text takes, for everything wp lines up in
// columns (the status area of `wp run`, the chart of `wp plan`): job names
// come from manifests and may be in any script. Text is UTF-8; a byte that
// does not start a valid sequence counts as one column, as terminals show a
// replacement character for it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace wp::text {

// Columns one code point takes, as wcwidth(3) in a UTF-8 locale would say
// but the same on every machine: 2 for East Asian Wide and Fullwidth
// characters (CJK, Hangul, most emoji), 0 for combining marks, format
// characters (zero-width space and joiner) and conjoining Hangul vowels and
// finals, else 1.
int column_width(char32_t code_point);

// Columns `text` takes. ANSI escape sequences (CSI: ESC [ ... final byte)
// take none, so coloured text measures as the plain text.
size_t display_width(std::string_view text);

// The longest prefix of `text` that takes at most `columns` columns, cut
// between characters: never inside a UTF-8 sequence, never through a wide
// character, and marks that combine with the last character kept stay with
// it.
std::string_view prefix_columns(std::string_view text, size_t columns);

// `text` in exactly `columns` columns: cut as prefix_columns does, then
// padded with spaces (also where a wide character did not fit).
std::string fit_columns(std::string_view text, size_t columns);

}  // namespace wp::text
