// Parameter initialisation.
//
// Contract: init_params() fills every "param" tensor, in manifest order, with
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) -- PyTorch's default for Linear and Conv2d weights
// (kaiming_uniform with a = sqrt(5)) and biases -- drawn from Rng(seed, RngStream::Init).
// Same manifest and seed, same weights. A param with a constant "init" (BatchNorm's weight and
// bias) takes that value and draws nothing, so the others draw what they would without it, as
// in PyTorch. Buffers take their "init" (0 without one). Other roles are left untouched (state
// stays zero).
#ifndef KILN_INIT_H
#define KILN_INIT_H

#include <cstdint>

#include "kiln/arena.h"
#include "kiln/manifest.h"

namespace kiln {

void init_params(const Manifest &manifest, Arena &arena, uint64_t seed);

} // namespace kiln

#endif
