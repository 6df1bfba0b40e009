// Subnormal floats flushed or kept (contract in kiln/denormals.h). Some x86 cores take a
// microcode assist of a hundred cycles or more for every subnormal operand or result; values
// that small (below 1.2e-38) carry nothing a training step needs, so kiln flushes them by
// default, as TensorFlow and XLA do on CPUs.
#include "kiln/denormals.h"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace kiln {

bool flush_denormals(bool flush) {
#if defined(__x86_64__) || defined(__i386__)
  constexpr unsigned kFlushToZero = 0x8000, kDenormalsAreZero = 0x0040;
  const unsigned csr = _mm_getcsr() & ~(kFlushToZero | kDenormalsAreZero);
  _mm_setcsr(flush ? csr | kFlushToZero | kDenormalsAreZero : csr);
  return true;
#else
  (void)flush;
  return false;
#endif
}

} // namespace kiln
