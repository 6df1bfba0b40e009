// Error kinds of the kiln runtime.
//
// Contract: library functions report problems by throwing; only kiln_runtime_main() turns them
// into exit codes. UsageError (bad command line) exits 2, UserError (bad files, bad data, a model
// that fails) exits 1 with "error: <what>". Anything else reaching the top is a bug in kiln and
// is reported as an internal error, so a user can tell "my input is wrong" from "kiln is broken".
#ifndef KILN_ERROR_H
#define KILN_ERROR_H

#include <stdexcept>
#include <string>

namespace kiln {

// Something the user can fix: a missing file, a tensor of the wrong shape, a failing step.
struct UserError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A malformed command line; the message is printed followed by "(see --help)".
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

} // namespace kiln

#endif
