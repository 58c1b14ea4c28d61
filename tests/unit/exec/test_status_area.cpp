// When `wp run` draws its live status area, and how: the decisions taken
// from the environment, and the bytes the area writes to its terminal.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <string>

#include "exec/status_area.h"
#include "util/console.h"

using namespace wp::exec;

TEST_CASE("status area: auto draws on a terminal that understands escapes", "[progress]") {
  CHECK(progress_wanted(ProgressMode::Auto, true, "xterm-256color", nullptr, false));
  CHECK_FALSE(
      progress_wanted(ProgressMode::Auto, false, "xterm", nullptr, false));  // a pipe or file
  CHECK_FALSE(progress_wanted(ProgressMode::Auto, true, "dumb", nullptr, false));
  CHECK_FALSE(progress_wanted(ProgressMode::Auto, true, nullptr, nullptr, false));
  CHECK_FALSE(progress_wanted(ProgressMode::Auto, true, "", nullptr, false));
  CHECK_FALSE(progress_wanted(ProgressMode::Auto, true, "xterm", nullptr, true));  // -q
  // NO_COLOR: no escape sequences of wp's own, unless the area is asked for.
  CHECK_FALSE(progress_wanted(ProgressMode::Auto, true, "xterm", "1", false));
  CHECK(progress_wanted(ProgressMode::Auto, true, "xterm", "", false));
  CHECK(progress_wanted(ProgressMode::Always, true, "xterm", "1", false));
  CHECK(progress_wanted(ProgressMode::Always, false, "dumb", nullptr, true));
  CHECK_FALSE(progress_wanted(ProgressMode::Never, true, "xterm", nullptr, false));
}

TEST_CASE("status area: unicode from the locale, colours unless NO_COLOR", "[progress]") {
  CHECK(utf8_locale(nullptr, nullptr, "en_GB.UTF-8"));
  CHECK(utf8_locale(nullptr, "C.utf8", "C"));
  CHECK_FALSE(utf8_locale("C", "en_US.UTF-8", "en_US.UTF-8"));  // LC_ALL wins
  CHECK(utf8_locale("", "", "de_DE.utf8"));
  CHECK_FALSE(utf8_locale(nullptr, nullptr, nullptr));
  CHECK_FALSE(utf8_locale(nullptr, nullptr, "POSIX"));
  CHECK(color_wanted(nullptr, "xterm"));
  CHECK(color_wanted("", "xterm"));  // set but empty: not a request (no-color.org)
  CHECK_FALSE(color_wanted("1", "xterm"));
  CHECK_FALSE(color_wanted(nullptr, "dumb"));
}

namespace {

// A pipe standing in for the terminal: what the area wrote to it.
struct Capture {
  Capture() { REQUIRE(::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0); }
  ~Capture() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  std::string take() {
    std::string out;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0)
      out.append(buffer, static_cast<size_t>(n));
    return out;
  }
  int fds[2];
};

}  // namespace

TEST_CASE("status area: erased before output, drawn again after, gone at the end", "[progress]") {
  Capture terminal;
  ProgressOptions options;
  options.enabled = true;
  options.fd = terminal.fds[1];
  auto now = StatusArea::Clock::now();
  {
    StatusArea area(options);
    CHECK(area.due(now));
    area.show({"one", "two", "three"}, now);
    CHECK(terminal.take() == "one\ntwo\nthree");
    CHECK_FALSE(area.due(now));
    CHECK(area.next_due() == now + StatusArea::kInterval);

    // A line for standard output, which is not where the area is drawn:
    // the area stays.
    wp::console::before_output(1);
    CHECK(terminal.take().empty());
    // A line of output: the hook takes the area off first.
    wp::console::before_output(2);
    CHECK(terminal.take() == "\r\x1b[2A\x1b[J");
    wp::console::before_output(2);  // already off: nothing more
    CHECK(terminal.take().empty());
    area.restore();
    CHECK(terminal.take() == "one\ntwo\nthree");
    area.restore();  // already on
    CHECK(terminal.take().empty());

    // The same picture again writes nothing; a new one replaces it in one write.
    area.show({"one", "two", "three"}, now + StatusArea::kInterval);
    CHECK(terminal.take().empty());
    area.show({"four"}, now + 2 * StatusArea::kInterval);
    CHECK(terminal.take() == "\r\x1b[2A\x1b[Jfour");
    wp::console::before_output(2);
    CHECK(terminal.take() == "\r\x1b[J");
    area.restore();
    CHECK(terminal.take() == "four");
  }
  // Destroyed: erased, and the hook is gone.
  CHECK(terminal.take() == "\r\x1b[J");
  wp::console::before_output(2);
  CHECK(terminal.take().empty());
}
