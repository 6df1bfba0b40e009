// Measured limits of this machine for the kernels codegen generates (contract in
// codegen/KernelSpec.h): JIT-compiled for the same target as the kernels, so that the peak is
// what a kernel can reach, not a datasheet's.
#include "codegen/KernelSpec.h"
#include "codegen/halide/Kernel.h"

#include <algorithm>
#include <chrono>

using namespace Halide;

namespace kiln {
namespace {

using lowering::hostTarget;
using lowering::lanes;

// The shortest of `repeats` runs, in seconds: the first run also pays for page faults.
template <typename Run> double fastest(Run run, int repeats) {
  double best = 1e30;
  for (int i = 0; i < repeats; ++i) {
    auto start = std::chrono::steady_clock::now();
    run();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

// Multiply-adds on `threads` tasks, each updating 12 vectors of accumulators held in
// registers (enough independent chains to cover the FMA units' latency) `steps` times.
double measureGflops(int threads) {
  const int accumulators = 12, steps = 1 << 15;
  Var x("x"), k("k"), t("t");
  RDom r(0, steps, "r");
  Param<float> scale("scale"), shift("shift");
  Func acc("acc"), out("out");
  acc(x, k, t) = cast<float>(x + k + t);
  acc(x, k, t) = acc(x, k, t) * scale + shift + cast<float>(r.x) * 0.0f;
  out(x, k, t) = acc(x, k, t);
  out.bound(x, 0, lanes()).bound(k, 0, accumulators).bound(t, 0, threads);
  out.vectorize(x).unroll(k).parallel(t);
  acc.compute_at(out, t).store_in(MemoryType::Stack).vectorize(x).unroll(k);
  acc.update().reorder(x, k, r.x).vectorize(x).unroll(k);
  out.compile_jit(hostTarget());
  scale.set(0.999f);
  shift.set(0.001f);
  Buffer<float> result(lanes(), accumulators, threads);
  double seconds = fastest([&] { out.realize(result); }, 5);
  return 2.0 * lanes() * accumulators * double(steps) * threads / seconds / 1e9;
}

// A streaming pass over 256 MB on `threads` tasks: each element read once and written once.
double measureGbps(int threads) {
  const int elements = 1 << 26;
  Buffer<float> input(elements), output(elements);
  input.fill(1.0f);
  output.fill(0.0f);
  ImageParam in(Float(32), 1, "in");
  Var x("x"), xo("xo"), xi("xi");
  Func pass("pass");
  pass(x) = in(x) * 0.5f + 1.0f;
  const int chunk = elements / threads;
  pass.bound(x, 0, elements).split(x, xo, xi, chunk, TailStrategy::GuardWithIf).parallel(xo).vectorize(xi, lanes());
  pass.compile_jit(hostTarget());
  in.set(input);
  double seconds = fastest([&] { pass.realize(output); }, 5);
  return 2.0 * 4.0 * elements / seconds / 1e9;
}

} // namespace

MachineLimits measureMachineLimits(int threads) {
  threads = std::max(1, threads);
  try {
    return {measureGflops(threads), measureGbps(threads)};
  } catch (const Halide::Error &) {
    return {};
  }
}

} // namespace kiln
