// Bounded reads of input files (contract in kiln/input_file.h).
#include "kiln/input_file.h"

#include <sys/stat.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "kiln/error.h"

namespace kiln {

uint64_t max_input_bytes() {
  const char *text = std::getenv("KILN_MAX_INPUT_BYTES");
  if (!text || !*text)
    return uint64_t(4) << 30;
  char *end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (errno || *end || v == 0 || text[0] == '-')
    throw UserError(fmt::format("KILN_MAX_INPUT_BYTES='{}' is not a positive number of bytes", text));
  return v;
}

std::vector<uint8_t> read_input_file(const std::string &path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0)
    throw UserError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  if (S_ISDIR(st.st_mode))
    throw UserError(fmt::format("{}: is a directory, not a file", path));
  if (!S_ISREG(st.st_mode))
    throw UserError(fmt::format("{}: is not a regular file (a device or a pipe)", path));
  const uint64_t limit = max_input_bytes();
  auto too_large = [&](uint64_t bytes) {
    return UserError(fmt::format("{}: {} bytes, over the limit of {} for an input file (set KILN_MAX_INPUT_BYTES "
                                 "to raise it)",
                                 path, bytes, limit));
  };
  if (uint64_t(st.st_size) > limit)
    throw too_large(uint64_t(st.st_size));
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    throw UserError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  std::vector<uint8_t> bytes;
  bytes.reserve(size_t(st.st_size));
  uint8_t chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (bytes.size() + n > limit) { // it grew while being read
      std::fclose(f);
      throw too_large(bytes.size() + n);
    }
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
  const bool failed = std::ferror(f);
  const int err = errno;
  std::fclose(f);
  if (failed)
    throw UserError(fmt::format("{}: cannot read: {}", path, std::strerror(err)));
  return bytes;
}

size_t json_depth(const char *begin, const char *end) {
  size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (const char *p = begin; p < end; ++p) {
    if (in_string) {
      if (*p == '\\')
        ++p;
      else if (*p == '"')
        in_string = false;
    } else if (*p == '"') {
      in_string = true;
    } else if (*p == '[' || *p == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((*p == ']' || *p == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

} // namespace kiln
