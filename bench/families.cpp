// kiln-families: every primitive family's kernels against their roofline, over shapes drawn
// at random (and a fixed set of awkward ones).
//
// Each kernel (a convolution's forward and both gradients; max and average pooling with
// their gradients, windows from 2 to global; matrix products; reductions by axis; an
// elementwise op) is compiled by codegen through Halide's JIT, exactly as a one-op model's
// kernel would be, timed (median of repeats after a warm-up run), and set against its
// roofline: its FLOPs at this machine's measured multiply-add peak, or its bytes at its
// measured memory bandwidth, whichever takes longer. Prints the seed, the worst kernels and
// the median share of the roofline reached, and exits 1 when a kernel whose roofline time is
// at least 20 us reaches less than 20% of it, or the median is below 50%.
//
//   kiln-families [--shapes N] [--seed S] [--awkward] [--threads T] [--worst K] [--only TEXT]
// --shapes N: N random draws per family (default 20); --seed: the draws' seed (default: new
// each run, printed); --awkward: only the fixed awkward set; --threads: kernel threads
// (default 1); --only: only the kernels whose description contains TEXT (and no floors).
#include "codegen/KernelSpec.h"
#include "codegen/host/Plan.h"
#include "ir/Dialect.h"

#include "mlir/IR/MLIRContext.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <vector>

namespace {

using kiln::DType;
using kiln::KernelSpec;

using Shapes = std::vector<std::vector<int64_t>>;

// Kernel buffers aligned as a compiled model's arena aligns them (64 bytes): runKernel copies
// unaligned memory into aligned buffers first, and a measurement would count those copies.
template <typename T> struct Aligned {
  using value_type = T;
  Aligned() = default;
  template <typename U> Aligned(const Aligned<U> &) {}
  T *allocate(size_t n) { return static_cast<T *>(::operator new(n * sizeof(T), std::align_val_t(64))); }
  void deallocate(T *p, size_t) { ::operator delete(p, std::align_val_t(64)); }
  template <typename U> bool operator==(const Aligned<U> &) const { return true; }
};
using Floats = std::vector<float, Aligned<float>>;

struct Drawn {
  KernelSpec spec;
  std::string shape; // in words, for the report
};

struct Measured {
  std::string what;
  double us, boundUs, fraction;
};

mlir::MLIRContext *dialect = nullptr;

KernelSpec specOf(kiln::Primitive op, Shapes inputs, std::vector<int64_t> output) {
  KernelSpec s;
  s.op = op;
  mlir::OperationName name(kiln::KilnDialect::getDialectNamespace().str() + "." + std::string(kiln::mnemonic(op)),
                           dialect);
  s.family = kiln::familyOf(name).value_or(kiln::Family::elementwise);
  s.name = "families_" + std::string(kiln::mnemonic(op));
  for (auto &shape : inputs)
    s.inputs.push_back({DType::f32, shape});
  s.output = {DType::f32, output};
  return s;
}

int64_t outSize(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d) {
  return (in + 2 * p - d * (k - 1) - 1) / s + 1;
}

// A convolution's three kernels: n x c x h x w input, o filters of kh x kw.
void convolutions(std::vector<Drawn> &out, int64_t n, int64_t c, int64_t h, int64_t w, int64_t o, int64_t k, int64_t s,
                  int64_t p, int64_t d) {
  int64_t oh = outSize(h, k, s, p, d), ow = outSize(w, k, s, p, d);
  if (oh < 1 || ow < 1)
    return;
  std::vector<int64_t> x{n, c, h, w}, f{o, c, k, k}, y{n, o, oh, ow};
  char words[160];
  std::snprintf(words, sizeof words, "x %ldx%ldx%ldx%ld, %ld filters %ldx%ld, stride %ld, pad %ld, dilation %ld",
                long(n), long(c), long(h), long(w), long(o), long(k), long(k), long(s), long(p), long(d));
  for (auto [op, ins, res] : {std::tuple{kiln::Primitive::conv2d, Shapes{x, f}, y},
                              std::tuple{kiln::Primitive::conv2d_input_grad, Shapes{y, f}, x},
                              std::tuple{kiln::Primitive::conv2d_filter_grad, Shapes{x, y}, f}}) {
    KernelSpec spec = specOf(op, ins, res);
    spec.stride = {s, s};
    spec.padding = {p, p};
    spec.dilation = {d, d};
    out.push_back({spec, words});
  }
}

// Max and average pooling and their gradients over an n x c x h x w input.
void poolings(std::vector<Drawn> &out, int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t s, int64_t p) {
  int64_t oh = outSize(h, k, s, p, 1), ow = outSize(w, k, s, p, 1);
  if (oh < 1 || ow < 1 || p > k / 2)
    return;
  std::vector<int64_t> x{n, c, h, w}, y{n, c, oh, ow};
  char words[128];
  std::snprintf(words, sizeof words, "x %ldx%ldx%ldx%ld, window %ld, stride %ld, pad %ld", long(n), long(c), long(h),
                long(w), long(k), long(s), long(p));
  using P = kiln::Primitive;
  for (auto [op, ins, res] :
       {std::tuple{P::max_pool2d, Shapes{x}, y}, std::tuple{P::avg_pool2d, Shapes{x}, y},
        std::tuple{P::max_pool2d_grad, Shapes{x, y}, x}, std::tuple{P::avg_pool2d_grad, Shapes{y}, x}}) {
    KernelSpec spec = specOf(op, ins, res);
    spec.window = {k, k};
    spec.stride = {s, s};
    spec.padding = {p, p};
    out.push_back({spec, words});
  }
}

void matmul(std::vector<Drawn> &out, int64_t m, int64_t k, int64_t n) {
  char words[64];
  std::snprintf(words, sizeof words, "%ldx%ld times %ldx%ld", long(m), long(k), long(k), long(n));
  out.push_back({specOf(kiln::Primitive::matmul, {{m, k}, {k, n}}, {m, n}), words});
}

void reductionAndElementwise(std::vector<Drawn> &out, int64_t rows, int64_t cols, bool innermost) {
  char words[64];
  std::snprintf(words, sizeof words, "%ldx%ld over its %s axis", long(rows), long(cols), innermost ? "inner" : "outer");
  KernelSpec sum = specOf(kiln::Primitive::reduce_sum, {{rows, cols}}, {innermost ? rows : cols});
  sum.dims = {innermost ? 1 : 0};
  out.push_back({sum, words});
  std::snprintf(words, sizeof words, "%ldx%ld", long(rows), long(cols));
  out.push_back({specOf(kiln::Primitive::exp, {{rows, cols}}, {rows, cols}), words});
}

// Shapes that have been slow or wrong: few channels, rows that fill no vector, strides inside
// the net, global and overlapping windows, thin and wide products.
std::vector<Drawn> awkward() {
  std::vector<Drawn> out;
  convolutions(out, 50, 10, 28, 28, 20, 3, 2, 1, 1);
  convolutions(out, 32, 16, 32, 32, 32, 3, 2, 1, 1);
  convolutions(out, 50, 4, 14, 14, 12, 5, 1, 2, 1);
  convolutions(out, 32, 3, 32, 32, 24, 7, 2, 3, 1);
  convolutions(out, 16, 17, 9, 27, 5, 3, 1, 1, 2);
  poolings(out, 50, 24, 14, 14, 14, 14, 0);
  poolings(out, 32, 17, 22, 22, 3, 1, 1);
  poolings(out, 50, 10, 27, 27, 3, 2, 0);
  matmul(out, 256, 784, 1024);
  matmul(out, 1, 32, 64);
  matmul(out, 512, 1024, 10);
  reductionAndElementwise(out, 50, 784, true);
  reductionAndElementwise(out, 4096, 10, false);
  return out;
}

std::vector<Drawn> drawn(int perFamily, unsigned seed) {
  std::mt19937 rng(seed);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  std::vector<Drawn> out;
  for (int i = 0; i < perFamily; ++i) {
    int64_t k = pick(1, 7), size = pick(3, 64);
    convolutions(out, pick(1, 32), pick(1, 96), size, size + pick(-2, 2), pick(1, 96), k, pick(1, 3), pick(0, k / 2),
                 k > 1 ? pick(1, 2) : 1);
    int64_t psize = pick(2, 56), window = std::max<int64_t>(2, pick(2, 7) > 6 ? psize : pick(2, 5));
    poolings(out, pick(1, 32), pick(1, 64), psize, psize, window, pick(1, window), pick(0, window / 2));
    matmul(out, pick(1, 1024), pick(1, 1024), pick(1, 1024));
    reductionAndElementwise(out, pick(1, 4096), pick(1, 4096), pick(0, 1) == 1);
  }
  return out;
}

double medianUs(const kiln::FusedKernel &kernel, std::vector<Floats> &buffers) {
  std::vector<const void *> in;
  for (size_t i = 0; i + 1 < buffers.size(); ++i)
    in.push_back(buffers[i].data());
  std::vector<void *> out{buffers.back().data()};
  if (std::string err = kiln::runKernel(kernel, in, out); !err.empty()) {
    std::fprintf(stderr, "kiln-families: %s: %s\n", kernel.ops().c_str(), err.c_str());
    std::exit(2);
  }
  std::vector<double> us;
  double spent = 0;
  while (us.size() < 3 || (spent < 2e4 && us.size() < 50)) {
    auto start = std::chrono::steady_clock::now();
    kiln::runKernel(kernel, in, out);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
    spent += us.back();
  }
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

Measured measure(const Drawn &d, const kiln::MachineLimits &limits) {
  kiln::FusedKernel kernel = kiln::FusedKernel::of(d.spec);
  std::vector<Floats> buffers;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> value(-1, 1);
  for (const kiln::TensorDesc &t : kernel.inputs) {
    buffers.emplace_back(size_t(t.elements()));
    for (float &v : buffers.back())
      v = value(rng);
  }
  buffers.emplace_back(size_t(kernel.output(0).elements()));
  double us = medianUs(kernel, buffers);
  double bound =
      std::max(double(kernel.flops()) / (limits.gflops * 1e3), double(kernel.bytesMoved()) / (limits.gbps * 1e3));
  return {std::string(kiln::mnemonic(d.spec.op)) + " " + d.shape, us, bound, bound / us};
}

} // namespace

int main(int argc, char **argv) {
  int perFamily = 20, threads = 1, worst = 10;
  unsigned seed = std::random_device{}();
  bool onlyAwkward = false;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> long { return i + 1 < argc ? std::strtol(argv[++i], nullptr, 10) : 0; };
    if (a == "--shapes")
      perFamily = int(next());
    else if (a == "--seed")
      seed = unsigned(next());
    else if (a == "--threads")
      threads = int(next());
    else if (a == "--worst")
      worst = int(next());
    else if (a == "--awkward")
      onlyAwkward = true;
    else if (a == "--only" && i + 1 < argc)
      only = argv[++i];
    else {
      std::fprintf(
          stderr, "usage: kiln-families [--shapes N] [--seed S] [--awkward] [--threads T] [--worst K] [--only TEXT]\n");
      return 2;
    }
  }
  if (perFamily < 0 || threads < 1 || threads > 4096) {
    std::fprintf(stderr, "kiln-families: --shapes must be >= 0 and --threads in 1..4096\n");
    return 2;
  }
  setenv("HL_NUM_THREADS", std::to_string(threads).c_str(), 1); // before Halide's JIT starts its pool
  mlir::MLIRContext context;
  context.loadDialect<kiln::KilnDialect>();
  dialect = &context;
  kiln::MachineLimits limits = kiln::measureMachineLimits(threads);
  if (limits.gflops <= 0) {
    std::fprintf(stderr, "kiln-families: the machine probe failed\n");
    return 2;
  }
  std::vector<Drawn> kernels = awkward();
  if (!onlyAwkward) {
    std::vector<Drawn> more = drawn(perFamily, seed);
    kernels.insert(kernels.end(), more.begin(), more.end());
  }
  std::printf("kiln-families: %zu kernels (%s), %d thread(s); roofline %.1f GFLOP/s, %.1f GB/s (measured)\n",
              kernels.size(), onlyAwkward ? "the awkward set" : ("seed " + std::to_string(seed)).c_str(), threads,
              limits.gflops, limits.gbps);
  std::vector<Measured> all;
  for (const Drawn &d : kernels)
    if (only.empty() || (std::string(kiln::mnemonic(d.spec.op)) + " " + d.shape).find(only) != std::string::npos) {
      all.push_back(measure(d, limits));
      if (!only.empty()) // what each chosen kernel ran as
        for (const std::string &note : kiln::describeSchedule(kiln::FusedKernel::of(d.spec)))
          std::printf("  %8.1f us  %s: %s\n", all.back().us, all.back().what.c_str(), note.c_str());
    }
  std::vector<Measured> judged;
  for (const Measured &m : all)
    if (m.boundUs >= 20)
      judged.push_back(m);
  std::sort(judged.begin(), judged.end(), [](const Measured &a, const Measured &b) { return a.fraction < b.fraction; });
  std::vector<double> fractions;
  for (const Measured &m : all)
    fractions.push_back(m.fraction);
  std::sort(fractions.begin(), fractions.end());
  double median = fractions.empty() ? 1 : fractions[fractions.size() / 2];
  std::printf("worst of the %zu kernels whose roofline time is at least 20 us:\n  %9s %9s %6s  kernel\n", judged.size(),
              "time us", "bound us", "share");
  for (size_t i = 0; i < judged.size() && int(i) < worst; ++i)
    std::printf("  %9.1f %9.1f %5.0f%%  %s\n", judged[i].us, judged[i].boundUs, 100 * judged[i].fraction,
                judged[i].what.c_str());
  bool floorHolds = judged.empty() || judged.front().fraction >= 0.2;
  std::printf("median share of the roofline over all %zu kernels: %.0f%% (floor 50%%); worst judged: %s (floor 20%%)\n",
              all.size(), 100 * median,
              judged.empty() ? "none" : (std::to_string(int(100 * judged.front().fraction)) + "%").c_str());
  return (floorHolds && median >= 0.5) || !only.empty() ? 0 : 1;
}
