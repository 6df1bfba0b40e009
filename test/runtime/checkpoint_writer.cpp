// kiln_checkpoint_writer: a helper process for the kill test (checkpoint_test.cpp).
//
// Usage: kiln_checkpoint_writer PATH MEGABYTES [--non-atomic]
// Writes a checkpoint of one F32 tensor "w" (MEGABYTES MiB) to PATH over and over, alternating
// between contents A and B (see checkpoint_content()), until it is killed. By default it uses
// kiln::write_safetensors (atomic); with --non-atomic it rewrites PATH in place (truncate, write
// in 1 MiB pieces), the control that shows the kill test can catch a torn file.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "checkpoint_content.h"
#include "kiln/safetensors.h"

static std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int main(int argc, char **argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s PATH MEGABYTES [--non-atomic]\n", argv[0]);
    return 2;
  }
  const std::string path = argv[1];
  const size_t floats = size_t(std::atol(argv[2])) * (1 << 20) / 4;
  const bool atomic = !(argc > 3 && std::strcmp(argv[3], "--non-atomic") == 0);
  const std::vector<float> contents[2] = {checkpoint_content(0, floats), checkpoint_content(1, floats)};
  std::string bytes[2];
  if (!atomic) {
    // The exact bytes the atomic writer would produce, to be written in place.
    for (int k = 0; k < 2; ++k) {
      std::string staging = path + ".staging";
      kiln::write_safetensors(staging, {{"w", "F32", {int64_t(floats)}, contents[k].data()}},
                              {{"content", k == 0 ? "A" : "B"}});
      bytes[k] = read_file(staging);
      std::remove(staging.c_str());
    }
  }
  for (int k = 0;; k ^= 1) {
    if (atomic) {
      kiln::write_safetensors(path, {{"w", "F32", {int64_t(floats)}, contents[k].data()}},
                              {{"content", k == 0 ? "A" : "B"}});
      continue;
    }
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
      return 1;
    for (size_t at = 0; at < bytes[k].size();) {
      ssize_t n = ::write(fd, bytes[k].data() + at, std::min<size_t>(1 << 20, bytes[k].size() - at));
      if (n <= 0)
        return 1;
      at += size_t(n);
    }
    ::close(fd);
  }
}
