// Lines wp writes to the terminal while a live status area may sit at its
// bottom (see exec/status_area.h). Whoever draws the area registers a hook
// that takes it off the screen; every writer of a line to stdout or stderr
// during a run (job output, wp's own messages) calls before_output() first,
// so a line never lands inside the area.
#pragma once

#include <functional>

namespace wp::console {

// Replaces the hook; an empty one removes it. It is told the fd the line
// goes to (1 or 2).
void set_before_output(std::function<void(int)> hook);
// Calls the hook, if any, before a line goes to `fd`. The event loop's
// thread only.
void before_output(int fd);

}  // namespace wp::console
