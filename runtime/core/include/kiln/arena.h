// The arena: the one block of memory a compiled model works in.
//
// Contract: Arena(bytes) owns a zeroed, 64-byte aligned allocation of at least `bytes` (rounded up
// to 64, as aligned_alloc requires), so optimizer state starts at zero without further work.
// at(spec), f32(spec) and i32(spec) are valid for any spec of a manifest whose arena_bytes this
// arena was made with, because parse_manifest() checked every offset and size against it; use the
// typed accessor that matches spec.dtype.
#ifndef KILN_ARENA_H
#define KILN_ARENA_H

#include <cstdint>
#include <memory>

#include "kiln/manifest.h"

namespace kiln {

class Arena {
public:
  explicit Arena(uint64_t bytes); // throws UserError when the allocation fails

  uint8_t *data() { return base_.get(); }
  uint64_t size() const { return size_; }
  uint8_t *at(const TensorSpec &spec) { return base_.get() + spec.offset; }
  const uint8_t *at(const TensorSpec &spec) const { return base_.get() + spec.offset; }
  int32_t *i32(const TensorSpec &spec) { return reinterpret_cast<int32_t *>(base_.get() + spec.offset); }
  const int32_t *i32(const TensorSpec &spec) const {
    return reinterpret_cast<const int32_t *>(base_.get() + spec.offset);
  }
  float *f32(const TensorSpec &spec) { return reinterpret_cast<float *>(base_.get() + spec.offset); }
  const float *f32(const TensorSpec &spec) const { return reinterpret_cast<const float *>(base_.get() + spec.offset); }

private:
  struct Free {
    void operator()(uint8_t *p) const;
  };
  std::unique_ptr<uint8_t, Free> base_;
  uint64_t size_ = 0;
};

} // namespace kiln

#endif
