// Fuzz target: a training binary's flag parser, the input split at NUL bytes into arguments.
#include "kiln/flags.h"

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<std::string> args = {"model"};
  std::string current;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      args.push_back(current);
      current.clear();
    } else {
      current += char(data[i]);
    }
  }
  args.push_back(current);
  std::vector<char *> argv;
  for (std::string &a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  try {
    kiln::parse_flags(int(args.size()), argv.data());
  } catch (const std::exception &) {
  }
  return 0;
}
