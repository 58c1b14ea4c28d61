// Whole files into memory, by read(2): a stream's read error (EIO on a
// failing disk) throws from inside std::istreambuf_iterator, and a stream
// that catches it keeps what it had as if the file ended there.
#pragma once

#include <string>

#include "util/result.h"

namespace wp {

// Everything left to read on `fd` (a file, a pipe, a terminal) until its
// end; the error is strerror's text alone, for the caller to name the file.
Result<std::string> read_all(int fd);

}  // namespace wp
