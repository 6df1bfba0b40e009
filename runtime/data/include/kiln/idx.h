// Reading MNIST-format idx files (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS"), plain or gzip.
//
// Layout: a big-endian 32-bit magic 0x000008RR (two zero bytes, type 0x08 = unsigned byte, rank RR),
// RR big-endian 32-bit dimensions, then the product of the dimensions in bytes, row-major.
// Contract: read_idx_images() accepts exactly magic 0x00000803 (idx3: N images of H x W) and
// read_idx_labels() exactly 0x00000801 (idx1: N labels). Either returns the dimensions and the
// bytes as they are in the file (no conversion, so 60,000 images stay 47 MB), or throws UserError
// whose message starts with the path and says why: missing or unreadable file, not gzip-decodable,
// wrong magic, an implausible size, fewer bytes than the header promises (truncated), or bytes
// after them. gzip is detected by zlib from the content, not the file name.
#ifndef KILN_IDX_H
#define KILN_IDX_H

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

struct IdxArray {
  std::vector<int64_t> dims; // (N, H, W) for images, (N,) for labels
  std::vector<uint8_t> data; // product(dims) bytes, row-major
};

IdxArray read_idx_images(const std::string &path);
IdxArray read_idx_labels(const std::string &path);

} // namespace kiln

#endif
