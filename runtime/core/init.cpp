// PyTorch-default parameter initialisation (contract in kiln/init.h).
#include "kiln/init.h"

#include <algorithm>
#include <cmath>

#include "kiln/rng.h"

namespace kiln {

void init_params(const Manifest &manifest, Arena &arena, uint64_t seed) {
  Rng rng(seed, RngStream::Init);
  for (const TensorSpec *spec : manifest.with_role(Role::Buffer))
    std::fill_n(arena.f32(*spec), spec->numel(), float(spec->init.value_or(0.0)));
  for (const TensorSpec *spec : manifest.with_role(Role::Param)) {
    if (spec->init) {
      std::fill_n(arena.f32(*spec), spec->numel(), float(*spec->init));
      continue;
    }
    double bound = 1.0 / std::sqrt(double(spec->fan_in));
    float *w = arena.f32(*spec);
    for (uint64_t i = 0; i < spec->numel(); ++i) {
      // Rounding to float could reach +bound exactly; PyTorch's bound is inclusive anyway.
      w[i] = float(rng.uniform(-bound, bound));
    }
  }
}

} // namespace kiln
