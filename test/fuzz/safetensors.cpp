// Fuzz target: the safetensors reader (checkpoints, --init, whole nets), with every tensor's
// bytes touched once the file is accepted.
#include "fuzz_file.h"
#include "kiln/safetensors.h"

#include <exception>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    kiln::SafetensorsFile f = kiln::SafetensorsFile::read(as_file(data, size, ".safetensors"));
    volatile uint8_t sum = 0;
    for (const auto &[name, e] : f.tensors())
      for (uint64_t i = e.begin; i < e.end; ++i)
        sum = uint8_t(sum + f.data(e)[i - e.begin]);
  } catch (const std::exception &) {
  }
  return 0;
}
