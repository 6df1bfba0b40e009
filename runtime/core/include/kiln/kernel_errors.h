// What a failing kernel said. Halide reports a kernel's failure (no GPU driver or device, a
// failed launch) through halide_error, whose default handler aborts the process; the runtime
// keeps the message instead, and the step's error says it.
#ifndef KILN_KERNEL_ERRORS_H
#define KILN_KERNEL_ERRORS_H

#include <string>

#include "kiln/manifest.h"

namespace kiln {

// Installs the handler (when the binary links Halide's runtime, as compiled models do);
// `device` is the GPU asked for with --device (-1: the default one).
void capture_kernel_errors(int device = -1);

// ": <Halide's last message>" and, for a GPU build, what to do about a missing device; "" when
// Halide said nothing.
std::string kernel_error_detail(const Manifest &manifest);

} // namespace kiln

#endif
