// What `wp --version` prints, made by the build (cmake/version.cmake).
#pragma once

namespace wp::cli {

// "wp 0.1.0 (g1234abc)" from a git checkout (git describe --tags --always
// --dirty), else "wp 0.1.0".
const char* build_version();

}  // namespace wp::cli
