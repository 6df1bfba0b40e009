// What the fuzz targets share: the input as a file (kiln's readers take paths), and the rule
// that a reader may refuse its input only with an exception.
#ifndef KILN_FUZZ_FILE_H
#define KILN_FUZZ_FILE_H

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

// The fuzzer's bytes written to a file of this process (in memory when /dev/shm exists).
inline std::string as_file(const uint8_t *data, size_t size, const char *suffix) {
  static const std::string dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  const std::string path = dir + "/kiln-fuzz-" + std::to_string(getpid()) + suffix;
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    std::abort();
  if (size)
    std::fwrite(data, 1, size, f);
  std::fclose(f);
  return path;
}

#endif
