// Arena allocation (contract in kiln/arena.h).
#include "kiln/arena.h"

#include <fmt/format.h>

#include <cstdlib>
#include <cstring>

#include "kiln/error.h"

namespace kiln {

void Arena::Free::operator()(uint8_t *p) const { std::free(p); }

Arena::Arena(uint64_t bytes) {
  // 64 bytes: a cache line and the widest vector Halide emits (AVX-512), so kernels may assume it.
  uint64_t rounded = (bytes + 63) / 64 * 64;
  if (rounded == 0)
    rounded = 64; // aligned_alloc(…, 0) may return null; keep data() valid
  void *p = std::aligned_alloc(64, rounded);
  if (!p)
    throw UserError(fmt::format("cannot allocate the model's arena of {} bytes", bytes));
  std::memset(p, 0, rounded);
  base_.reset(static_cast<uint8_t *>(p));
  size_ = bytes;
}

} // namespace kiln
