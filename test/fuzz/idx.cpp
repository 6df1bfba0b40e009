// Fuzz target: the idx readers (the MNIST-style image and label files, plain or gzipped).
#include "fuzz_file.h"
#include "kiln/idx.h"

#include <exception>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string path = as_file(data, size, ".idx");
  try {
    kiln::read_idx_images(path);
  } catch (const std::exception &) {
  }
  try {
    kiln::read_idx_labels(path);
  } catch (const std::exception &) {
  }
  return 0;
}
