// Fuzz target: NumPy .npz archives (zip, stored or deflated) and the .npy arrays inside them.
#include "fuzz_file.h"
#include "kiln/data_files.h"

#include <exception>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    kiln::read_npz(as_file(data, size, ".npz"));
  } catch (const std::exception &) {
  }
  try {
    kiln::read_npy(as_file(data, size, ".npy"), "x");
  } catch (const std::exception &) {
  }
  return 0;
}
