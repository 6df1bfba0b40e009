// The runtime's seeded random numbers.
//
// Contract: for a given (seed, stream), the sequence of uniform01() values is the same on every
// platform and standard library. std::mt19937_64's output is fixed by the standard, but
// std::uniform_real_distribution is not, so the conversion from bits to [0,1) is done here.
// Streams keep init and data independent: changing how many numbers the init draws does not
// change the dataset for the same seed.
// normal() is Box-Muller: one call draws u1 then u2 (both uniform01()) and returns
// z0 = sqrt(-2 ln(1 - u1)) cos(2 pi u2); the next call returns the pair's
// z1 = sqrt(-2 ln(1 - u1)) sin(2 pi u2) without drawing. below(n) rejects the top partial range
// of 64-bit draws, so it is exactly uniform and takes one draw almost always.
#ifndef KILN_RNG_H
#define KILN_RNG_H

#include <cstdint>
#include <cmath>
#include <random>

namespace kiln {

enum class RngStream : uint64_t { Init = 1, Data = 2, Shuffle = 3 };

class Rng {
public:
  Rng(uint64_t seed, RngStream stream) : engine_(mix(seed ^ mix(uint64_t(stream)))) {}
  // A numbered sub-stream, e.g. one per epoch of shuffling.
  Rng(uint64_t seed, RngStream stream, uint64_t index)
      : engine_(mix(mix(seed ^ mix(uint64_t(stream))) ^ mix(~index))) {}

  // Uniform in [0, 1): the top 53 bits scaled by 2^-53, exact in a double.
  double uniform01() { return double(engine_() >> 11) * 0x1.0p-53; }
  // Uniform in [0, 1) as a float: 24 bits, so rounding can never produce 1.0f.
  float uniform01f() { return float(engine_() >> 40) * 0x1.0p-24f; }
  // Uniform in [lo, hi), as torch.Tensor.uniform_(lo, hi) draws it: lo + (hi - lo) * u.
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform01(); }

  // Uniform integer in [0, n), n > 0.
  uint64_t below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n; // draws >= limit would favour small values
    uint64_t v;
    do
      v = engine_();
    while (v >= limit);
    return v % n;
  }
  // Standard normal (Box-Muller; see the contract above for the order of draws).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = uniform01(), u2 = uniform01();
    double r = std::sqrt(-2.0 * std::log(1.0 - u1)); // 1 - u1 is in (0, 1]: no log(0)
    const double two_pi = 6.283185307179586;
    spare_ = r * std::sin(two_pi * u2);
    has_spare_ = true;
    return r * std::cos(two_pi * u2);
  }

private:
  // splitmix64's finalizer: nearby seeds (0, 1, 2) give unrelated engine states.
  static uint64_t mix(uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::mt19937_64 engine_;
  double spare_ = 0;
  bool has_spare_ = false;
};

} // namespace kiln

#endif
