#include "util/console.h"

#include <utility>

namespace wp::console {
namespace {

// One status area at most, drawn from the run loop's thread, which is also
// the only thread that writes lines while it is shown.
std::function<void(int)>& hook() {
  static std::function<void(int)> before;
  return before;
}

}  // namespace

void set_before_output(std::function<void(int)> before) {
  hook() = std::move(before);
}

void before_output(int fd) {
  if (hook()) hook()(fd);
}

}  // namespace wp::console
