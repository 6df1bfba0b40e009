// How the compiled kernels treat subnormal (denormal) floats.
//
// Contract: flush_denormals(true) makes this thread, and every thread it creates afterwards
// (Halide's worker pool starts at the first kernel), treat subnormal operands as zero and
// write zero for subnormal results: x86's DAZ and FTZ bits of MXCSR. flush_denormals(false)
// clears both (IEEE arithmetic, as PyTorch's default). On other CPUs it does nothing and
// returns false; else true.
#ifndef KILN_DENORMALS_H
#define KILN_DENORMALS_H

namespace kiln {

bool flush_denormals(bool flush);

} // namespace kiln

#endif
