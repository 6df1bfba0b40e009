// Halide's error messages kept for the runtime's own (contract in kiln/kernel_errors.h).
#include "kiln/kernel_errors.h"

#include <fmt/format.h>

#include <mutex>

extern "C" {
typedef void (*halide_error_handler_t)(void *user_context, const char *message);
// Defined by Halide's runtime, which compiled models link; absent from kiln's own test binaries.
__attribute__((weak)) halide_error_handler_t halide_set_error_handler(halide_error_handler_t handler);
}

namespace kiln {
namespace {

std::mutex lock;
std::string last;
int asked = -1;

void keep(void *, const char *message) {
  std::lock_guard<std::mutex> guard(lock);
  last = message ? message : "";
  while (!last.empty() && (last.back() == '\n' || last.back() == ' '))
    last.pop_back();
}

} // namespace

void capture_kernel_errors(int device) {
  asked = device;
  if (halide_set_error_handler)
    halide_set_error_handler(keep);
}

std::string kernel_error_detail(const Manifest &manifest) {
  std::lock_guard<std::mutex> guard(lock);
  if (last.empty())
    return "";
  std::string detail = ": " + last;
  if (manifest.device != "host")
    detail += fmt::format(" (built with --target={}: this machine has no usable {} driver or {}; rebuild "
                          "with --target=host to train on the CPU)",
                          manifest.device, manifest.device == "cuda" ? "CUDA" : "OpenCL",
                          asked >= 0 ? fmt::format("device {} (--device)", asked) : std::string("device"));
  return detail;
}

} // namespace kiln
