// What wp asks of the terminal it prints to. Implemented per platform
// (platform/linux/terminal.cpp).
#pragma once

#include <optional>

namespace wp::platform {

bool is_terminal(int fd);
// The width in columns of the terminal on `fd`; nullopt when `fd` is not a
// terminal or the terminal does not say.
std::optional<int> terminal_columns(int fd);

struct TerminalSize {
  int columns = 0;
  int rows = 0;
};
// Both figures of the terminal on `fd` (TIOCGWINSZ); nullopt as above, or
// when it gives no rows.
std::optional<TerminalSize> terminal_size(int fd);

}  // namespace wp::platform
