// Writing small idx files and MNIST-format folders for the tests (plain or gzip, through zlib).
#ifndef KILN_TEST_IDX_UTIL_H
#define KILN_TEST_IDX_UTIL_H

#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kiln/rng.h"
#include "test_util.h"

namespace testutil {

// The bytes of an idx file: magic, big-endian dims, data.
inline std::string idx_bytes(uint32_t magic, const std::vector<uint32_t> &dims, const std::vector<uint8_t> &data) {
  std::string out;
  auto be32 = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8)
      out += char((v >> s) & 0xff);
  };
  be32(magic);
  for (uint32_t d : dims)
    be32(d);
  out.append(data.begin(), data.end());
  return out;
}

inline void write_gzip(const std::string &path, const std::string &bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  ASSERT_EQ(gzwrite(f, bytes.data(), unsigned(bytes.size())), int(bytes.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

inline void write_maybe_gzip(const std::string &path, const std::string &bytes, bool gzip) {
  if (gzip)
    write_gzip(path + ".gz", bytes);
  else
    write_file(path, bytes);
}

// n images of 28x28 with labels 0..9 in turn; class k lights a 6x6 block at a place of its own
// over noise, so a linear classifier learns it in a few dozen steps.
struct MnistSplit {
  std::vector<uint8_t> images, labels;
};
inline MnistSplit synthetic_mnist(int n, uint64_t seed) {
  MnistSplit s;
  kiln::Rng rng(seed, kiln::RngStream::Data);
  for (int i = 0; i < n; ++i) {
    const int label = int(rng.below(10));
    s.labels.push_back(uint8_t(label));
    const int top = 2 + 8 * (label / 4), left = 2 + 6 * (label % 4);
    for (int r = 0; r < 28; ++r)
      for (int c = 0; c < 28; ++c) {
        bool lit = r >= top && r < top + 6 && c >= left && c < left + 6;
        s.images.push_back(uint8_t(lit ? 200 + rng.below(56) : rng.below(60)));
      }
  }
  return s;
}

// dir/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] with n_train and n_test images.
inline void write_mnist_folder(const std::string &dir, int n_train, int n_test, bool gzip) {
  for (auto [prefix, n, seed] : {std::tuple<const char *, int, uint64_t>{"train", n_train, 1}, {"t10k", n_test, 2}}) {
    MnistSplit s = synthetic_mnist(n, seed);
    write_maybe_gzip(dir + "/" + prefix + "-images-idx3-ubyte", idx_bytes(0x803, {uint32_t(n), 28, 28}, s.images),
                     gzip);
    write_maybe_gzip(dir + "/" + prefix + "-labels-idx1-ubyte", idx_bytes(0x801, {uint32_t(n)}, s.labels), gzip);
  }
}

} // namespace testutil

#endif
