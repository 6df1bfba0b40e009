// The runtime's seeded random numbers.
//
// Contract: for a given (seed, stream), the sequence of uniform01() values is the same on every
// platform and standard library. std::mt19937_64's output is fixed by the standard, but
// std::uniform_real_distribution is not, so the conversion from bits to [0,1) is done here.
// Streams keep init and data independent: changing how many numbers the init draws does not
// change the dataset for the same seed.
#ifndef KILN_RNG_H
#define KILN_RNG_H

#include <cstdint>
#include <random>

namespace kiln {

enum class RngStream : uint64_t { Init = 1, Data = 2 };

class Rng {
  public:
    Rng(uint64_t seed, RngStream stream) : engine_(mix(seed ^ mix(uint64_t(stream)))) {}

    // Uniform in [0, 1): the top 53 bits scaled by 2^-53, exact in a double.
    double uniform01() { return double(engine_() >> 11) * 0x1.0p-53; }
    // Uniform in [0, 1) as a float: 24 bits, so rounding can never produce 1.0f.
    float uniform01f() { return float(engine_() >> 40) * 0x1.0p-24f; }
    // Uniform in [lo, hi), as torch.Tensor.uniform_(lo, hi) draws it: lo + (hi - lo) * u.
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform01(); }

  private:
    // splitmix64's finalizer: nearby seeds (0, 1, 2) give unrelated engine states.
    static uint64_t mix(uint64_t z) {
        z += 0x9e3779b97f4a7c15ULL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    std::mt19937_64 engine_;
};

}  // namespace kiln

#endif
