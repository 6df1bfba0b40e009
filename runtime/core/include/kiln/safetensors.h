// Reading and writing the safetensors format (https://huggingface.co/docs/safetensors).
//
// Layout: 8-byte little-endian header length N, N bytes of JSON
// {name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}},
// then the byte buffer; offsets are relative to the buffer.
//
// Contract: SafetensorsFile::read() either returns a file in which every tensor is well formed
// (known dtype, non-negative shape, end - begin == numel * dtype size, inside the buffer, the
// tensors tiling the buffer without gaps or overlap, as the format requires) or throws UserError
// whose message starts with the path. expect() adds the model's view: name present, dtype and shape
// equal. write_safetensors() replaces `path` atomically (temp file in the same directory, fsync,
// rename), so a crash never leaves a half-written checkpoint under the final name.
// This module knows nothing about manifests; tensor_io.h connects it to the arena.
#ifndef KILN_SAFETENSORS_H
#define KILN_SAFETENSORS_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kiln {

struct SafetensorsEntry {
  std::string dtype; // "F32", "I32", ... as in the file
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0; // byte range within the buffer
};

class SafetensorsFile {
public:
  static SafetensorsFile read(const std::string &path);

  const std::string &path() const { return path_; }
  const std::map<std::string, SafetensorsEntry> &tensors() const { return tensors_; }
  const std::map<std::string, std::string> &metadata() const { return metadata_; }
  const SafetensorsEntry *find(const std::string &name) const;
  // The tensor's bytes (end - begin of them); possibly unaligned, so copy them out with memcpy.
  const uint8_t *data(const SafetensorsEntry &entry) const { return bytes_.data() + buffer_start_ + entry.begin; }

  // The bytes of `name`, after checking it exists with this dtype and shape; throws UserError
  // like "data.safetensors: tensor 'x' has shape [50, 1], the model expects [100, 1]".
  const uint8_t *expect(const std::string &name, const std::string &dtype, const std::vector<int64_t> &shape) const;

private:
  std::string path_;
  std::vector<uint8_t> bytes_; // the whole file
  uint64_t buffer_start_ = 0;  // 8 + header length
  std::map<std::string, SafetensorsEntry> tensors_;
  std::map<std::string, std::string> metadata_;
};

// One tensor to write; `data` holds numel(shape) * size of dtype bytes.
struct SafetensorsTensor {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  const void *data = nullptr;
};

void write_safetensors(const std::string &path, const std::vector<SafetensorsTensor> &tensors,
                       const std::map<std::string, std::string> &metadata = {});

// Bytes per element of a safetensors dtype name, or 0 when the name is unknown.
uint64_t safetensors_dtype_size(const std::string &dtype);

} // namespace kiln

#endif
