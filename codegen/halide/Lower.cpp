// Lowers kiln primitives to Halide pipelines: the one table of op -> Halide algorithm, the
// (unfused) default schedule, AOT compilation and the in-process JIT.
//
// Layout: kiln tensors are dense row-major, so kiln dimension d of a rank-r tensor is Halide
// dimension r-1-d (Halide's dimension 0 is the innermost). `at()` does that reversal, so the
// algorithms below index in kiln's order.
#include "codegen/KernelSpec.h"

#include "Halide.h"

#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>

namespace kiln {
namespace {

using namespace Halide;

Type halideType(DType t) {
  switch (t) {
  case DType::f32: return Float(32);
  case DType::i32: return Int(32);
  case DType::i1: return UInt(8);  // masks are stored as bytes
  }
  return Float(32);
}

// Reverses kiln-order indices into Halide's argument order.
std::vector<Expr> reversed(const std::vector<Expr> &idx) { return {idx.rbegin(), idx.rend()}; }

struct Kernel {
  const KernelSpec &spec;
  std::vector<ImageParam> in;
  std::vector<Var> vars;  // Halide order: vars[0] is innermost
  Func out;
  bool selfScheduledUpdate = false;  // the algorithm scheduled out.update(0) itself

  std::vector<Expr> index() const {  // the output coordinate in kiln order
    std::vector<Expr> idx;
    for (auto it = vars.rbegin(); it != vars.rend(); ++it)
      idx.push_back(*it);
    return idx;
  }
  Expr at(int input, const std::vector<Expr> &idx) const { return in[input](reversed(idx)); }
  Expr same(int input) const { return at(input, index()); }
  std::vector<Var> outVars() const { return vars; }
  void define(Expr e) { out(std::vector<Var>(vars)) = e; }
};

using Algorithm = std::function<void(Kernel &)>;

enum class Reduction { sum, mean, max };

// sum, mean or max over spec.dims, which are removed from the result.
void reduce(Kernel &k, Reduction how) {
  const auto &inShape = k.spec.inputs[0].shape;
  Region ranges;
  int64_t count = 1;
  for (int64_t d : k.spec.dims) {
    ranges.push_back(Range(0, int(inShape[d])));
    count *= inShape[d];
  }
  RDom r(ranges);
  std::vector<Expr> idx = k.index(), src;
  size_t kept = 0, reduced = 0;
  for (int64_t d = 0; d < int64_t(inShape.size()); ++d) {
    bool isReduced = std::find(k.spec.dims.begin(), k.spec.dims.end(), d) != k.spec.dims.end();
    src.push_back(isReduced ? Expr(r[reduced++]) : idx[kept++]);
  }
  Func acc("acc");
  if (how == Reduction::max) {
    acc(k.outVars()) = Expr(-std::numeric_limits<float>::infinity());
    acc(k.outVars()) = max(acc(k.outVars()), k.at(0, src));
  } else {
    acc(k.outVars()) = 0.0f;
    acc(k.outVars()) += k.at(0, src);
  }
  k.define(how == Reduction::mean ? acc(k.outVars()) / float(count) : acc(k.outVars()));
}


// Spatial geometry of convolutions and pooling, in Halide's (width, height) order.
struct Window {
  int kw, kh, sw, sh, pw, ph, dw, dh;
};

Window windowOf(const KernelSpec &spec, const std::vector<int64_t> &kernelHW) {
  auto at = [](const std::vector<int64_t> &v, int i, int fallback) { return v.empty() ? fallback : int(v[i]); };
  return {at(kernelHW, 1, 1), at(kernelHW, 0, 1), at(spec.stride, 1, 1), at(spec.stride, 0, 1),
          at(spec.padding, 1, 0), at(spec.padding, 0, 0), at(spec.dilation, 1, 1), at(spec.dilation, 0, 1)};
}

// The register-tiled convolution all three forms share when they are dense sums:
//   out(w, h, k, n) = sum_{r} in(w, h, r, n) * weight(k, r)
// computed as acc(k, w, h, n) with k (output channels) innermost: a tile of kBlock channels
// (vectors of 16) by wBlock columns stays in registers while the reduction over input channels
// and taps runs around it; weights are re-laid out once with k innermost so that their loads
// are dense vectors; the padded input is built once per image; parallel over the batch.
struct ConvTile {
  Func acc, weights, input;  // acc(k, w, h, n); weights(k, ...) and input for the schedule
  RDom r;
};

void scheduleConvTile(Kernel &k, ConvTile &t, int channels, int width) {
  Var w = k.vars[0], h = k.vars[1], ch = k.vars[2], n = k.vars[3];
  Var wo("wo"), wi("wi"), ko("ko"), ki("ki");
  int kBlock = channels >= 32 ? 32 : 16;
  int wBlock = width % 7 == 0 ? 7 : std::min(width, 8);
  k.out.split(ch, ko, ki, kBlock, TailStrategy::GuardWithIf)
      .split(w, wo, wi, wBlock, TailStrategy::GuardWithIf)
      .reorder(wi, ki, wo, ko, h, n)
      .parallel(n);
  t.acc.compute_at(k.out, wo).store_in(MemoryType::Stack);
  Var kv("kv"), ku("ku");
  Var aw = t.acc.args()[1], ak = t.acc.args()[0];
  t.acc.vectorize(ak, 16, TailStrategy::GuardWithIf).unroll(aw);
  t.acc.update()
      .reorder(ak, aw, t.r.x, t.r.y, t.r.z)
      .split(ak, ku, kv, 16, TailStrategy::GuardWithIf)
      .vectorize(kv)
      .unroll(ku)
      .unroll(aw);
  t.weights.compute_root();
  t.input.compute_at(k.out, n);
}

// out(w, h, o, n) = sum_{c, p, q} x(w*sw - pw + q*dw, h*sh - ph + p*dh, c, n) * f(q, p, c, o)
void conv2d(Kernel &k) {
  const auto &f = k.spec.inputs[1].shape;  // O, C, KH, KW
  Window g = windowOf(k.spec, {f[2], f[3]});
  ConvTile t{Func("acc"), Func("filter_ok"), BoundaryConditions::constant_exterior(k.in[0], 0.0f),
             RDom(0, g.kw, 0, g.kh, 0, int(f[1]), "r")};
  Var w = k.vars[0], h = k.vars[1], o = k.vars[2], n = k.vars[3], q("q"), p("p"), c("c");
  t.weights(o, q, p, c) = k.in[1](q, p, c, o);
  t.acc(o, w, h, n) = 0.0f;
  t.acc(o, w, h, n) += t.input(w * g.sw - g.pw + t.r.x * g.dw, h * g.sh - g.ph + t.r.y * g.dh, t.r.z, n) *
                       t.weights(o, t.r.x, t.r.y, t.r.z);
  k.out(w, h, o, n) = t.acc(o, w, h, n);
  scheduleConvTile(k, t, int(f[0]), int(k.spec.output.shape[3]));
}

// dx(w, h, c, n) = sum_{o, p, q} dy(i, j, o, n) f(q, p, c, o) over the (i, j) with
// w = i*sw - pw + q*dw and h = j*sh - ph + p*dh.
void conv2dInputGrad(Kernel &k) {
  const auto &f = k.spec.inputs[1].shape;  // O, C, KH, KW
  Window g = windowOf(k.spec, {f[2], f[3]});
  ConvTile t{Func("acc"), Func("filter_ci"), BoundaryConditions::constant_exterior(k.in[0], 0.0f),
             RDom(0, g.kw, 0, g.kh, 0, int(f[0]), "r")};
  Var w = k.vars[0], h = k.vars[1], c = k.vars[2], n = k.vars[3], q("q"), p("p"), o("o");
  t.weights(c, q, p, o) = k.in[1](q, p, c, o);
  Expr iw = w + g.pw - t.r.x * g.dw, ih = h + g.ph - t.r.y * g.dh;
  Expr term = t.input(iw / g.sw, ih / g.sh, t.r.z, n) * t.weights(c, t.r.x, t.r.y, t.r.z);
  if (g.sw != 1 || g.sh != 1)  // only positions a window actually starts from contribute
    term = select(iw % g.sw == 0 && ih % g.sh == 0, term, 0.0f);
  t.acc(c, w, h, n) = 0.0f;
  t.acc(c, w, h, n) += term;
  k.out(w, h, c, n) = t.acc(c, w, h, n);
  scheduleConvTile(k, t, int(f[1]), int(k.spec.output.shape[3]));
}

// df(q, p, c, o) = sum_{n, i, j} dy(i, j, o, n) x(i*sw - pw + q*dw, j*sh - ph + p*dh, c, n),
// accumulated as acc(o, q, p, c): output channels vectorized, the taps of one row unrolled,
// the whole (n, i, j) reduction around that register tile; parallel over input channels.
void conv2dFilterGrad(Kernel &k) {
  const auto &dyShape = k.spec.inputs[1].shape;  // N, O, OH, OW
  Window g = windowOf(k.spec, {k.spec.output.shape[2], k.spec.output.shape[3]});
  Func padded = BoundaryConditions::constant_exterior(k.in[0], 0.0f);
  Func paddedRoot("padded_root"), dyT("grad_oi");
  Var x("x"), y("y"), c = k.vars[2], n("n"), o = k.vars[3], q = k.vars[0], p = k.vars[1];
  paddedRoot(x, y, c, n) = padded(x, y, c, n);
  dyT(o, x, y, n) = k.in[1](x, y, o, n);
  RDom r(0, int(dyShape[3]), 0, int(dyShape[2]), 0, int(dyShape[0]), "r");
  Func acc("acc");
  acc(o, q, p, c) = 0.0f;
  acc(o, q, p, c) += dyT(o, r.x, r.y, r.z) *
                     paddedRoot(r.x * g.sw - g.pw + q * g.dw, r.y * g.sh - g.ph + p * g.dh, c, r.z);
  k.out(q, p, c, o) = acc(o, q, p, c);

  Var ku("ku"), kv("kv");
  k.out.reorder(q, o, p, c).parallel(c);
  acc.compute_at(k.out, p).store_in(MemoryType::Stack);
  acc.vectorize(o, 16, TailStrategy::GuardWithIf).unroll(q);
  acc.update()
      .reorder(o, q, r.x, r.y, r.z)
      .split(o, ku, kv, 16, TailStrategy::GuardWithIf)
      .vectorize(kv)
      .unroll(ku)
      .unroll(q);
  dyT.compute_root().vectorize(o, 16, TailStrategy::GuardWithIf);
  // Every padded position a window can read, computed once.
  paddedRoot.compute_root();
}

// out(w, h, c, n) = max over the window, padding reads -inf
void maxPool2d(Kernel &k) {
  Window g = windowOf(k.spec, k.spec.window);
  Func padded = BoundaryConditions::constant_exterior(k.in[0], Expr(-std::numeric_limits<float>::infinity()));
  RDom r(0, g.kw, 0, g.kh, "r");
  Var w = k.vars[0], h = k.vars[1], c = k.vars[2], n = k.vars[3];
  k.out(w, h, c, n) = maximum(padded(w * g.sw - g.pw + r.x, h * g.sh - g.ph + r.y, c, n));
}

// Each window's adjoint goes to the window's first maximum (row-major), as PyTorch's does.
void maxPool2dGrad(Kernel &k) {
  Window g = windowOf(k.spec, k.spec.window);
  const auto &in = k.spec.inputs[0].shape, &dyShape = k.spec.inputs[1].shape;
  Func padded = BoundaryConditions::constant_exterior(k.in[0], Expr(-std::numeric_limits<float>::infinity()));
  RDom r(0, g.kw, 0, g.kh, "r");
  Var i("i"), j("j"), c = k.vars[2], n = k.vars[3];
  Func first("first_max");
  first(i, j, c, n) = argmax(r, padded(i * g.sw - g.pw + r.x, j * g.sh - g.ph + r.y, c, n));
  RDom o(0, int(dyShape[3]), 0, int(dyShape[2]), "o");
  Expr x = clamp(o.x * g.sw - g.pw + first(o.x, o.y, c, n)[0], 0, int(in[3]) - 1);
  Expr y = clamp(o.y * g.sh - g.ph + first(o.x, o.y, c, n)[1], 0, int(in[2]) - 1);
  k.out(k.vars[0], k.vars[1], c, n) = 0.0f;
  k.out(x, y, c, n) += k.in[1](o.x, o.y, c, n);
  first.compute_at(k.out, n);
}

// out = sum over the window / (kh kw), padding reads 0 and counts (count_include_pad)
void avgPool2d(Kernel &k) {
  Window g = windowOf(k.spec, k.spec.window);
  Func padded = BoundaryConditions::constant_exterior(k.in[0], 0.0f);
  RDom r(0, g.kw, 0, g.kh, "r");
  Var w = k.vars[0], h = k.vars[1], c = k.vars[2], n = k.vars[3];
  k.out(w, h, c, n) = sum(padded(w * g.sw - g.pw + r.x, h * g.sh - g.ph + r.y, c, n)) / float(g.kw * g.kh);
}

// dx(w, h) = sum over the windows (i, j) containing (w, h) of dy(i, j) / (kh kw)
void avgPool2dGrad(Kernel &k) {
  Window g = windowOf(k.spec, k.spec.window);
  Func dy = BoundaryConditions::constant_exterior(k.in[0], 0.0f);
  RDom r(0, g.kw, 0, g.kh, "r");
  Var w = k.vars[0], h = k.vars[1], c = k.vars[2], n = k.vars[3];
  Expr iw = w + g.pw - r.x, ih = h + g.ph - r.y;
  Expr term = dy(iw / g.sw, ih / g.sh, c, n);
  if (g.sw != 1 || g.sh != 1)
    term = select(iw % g.sw == 0 && ih % g.sh == 0, term, 0.0f);
  k.out(w, h, c, n) = sum(term) / float(g.kw * g.kh);
}

// The lowering table: one entry per primitive.
const std::map<std::string, Algorithm> &algorithms() {
  static const std::map<std::string, Algorithm> table = {
      {"add", [](Kernel &k) { k.define(k.same(0) + k.same(1)); }},
      {"sub", [](Kernel &k) { k.define(k.same(0) - k.same(1)); }},
      {"mul", [](Kernel &k) { k.define(k.same(0) * k.same(1)); }},
      {"div", [](Kernel &k) { k.define(k.same(0) / k.same(1)); }},
      {"max", [](Kernel &k) { k.define(max(k.same(0), k.same(1))); }},
      {"neg", [](Kernel &k) { k.define(-k.same(0)); }},
      {"exp", [](Kernel &k) { k.define(exp(k.same(0))); }},
      {"log", [](Kernel &k) { k.define(log(k.same(0))); }},
      {"sqrt", [](Kernel &k) { k.define(sqrt(k.same(0))); }},
      {"stop_gradient", [](Kernel &k) { k.define(k.same(0)); }},
      {"abs", [](Kernel &k) { k.define(abs(k.same(0))); }},
      {"sin", [](Kernel &k) { k.define(sin(k.same(0))); }},
      {"cos", [](Kernel &k) { k.define(cos(k.same(0))); }},
      {"one_hot",
       [](Kernel &k) {
         // The class is the innermost dimension, vars[0]; the label is indexed by the rest.
         std::vector<Expr> idx = k.index();
         idx.pop_back();
         k.define(select(k.at(0, idx) == k.vars[0], 1.0f, 0.0f));
       }},
      {"compare",
       [](Kernel &k) {
         Expr a = k.same(0), b = k.same(1);
         const std::string &d = k.spec.direction;
         Expr c = d == "EQ" ? a == b : d == "NE" ? a != b : d == "LT" ? a < b
                : d == "LE" ? a <= b : d == "GT" ? a > b : a >= b;
         k.define(select(c, cast<uint8_t>(1), cast<uint8_t>(0)));
       }},
      {"select", [](Kernel &k) { k.define(select(k.same(0) != 0, k.same(1), k.same(2))); }},
      {"constant",
       [](Kernel &k) {
         const auto &v = k.spec.values;
         Type t = halideType(k.spec.output.dtype);
         if (v.size() == 1) {
           k.define(cast(t, Expr(v[0])));
           return;
         }
         // A dense constant is embedded in the object as a buffer.
         std::vector<int> extents(k.spec.output.shape.rbegin(), k.spec.output.shape.rend());
         Buffer<float> data(extents);
         std::copy(v.begin(), v.end(), data.data());
         k.define(cast(t, data(std::vector<Expr>(k.vars.begin(), k.vars.end()))));
       }},
      {"broadcast_in_dim",
       [](Kernel &k) {
         // Operand dimension i reads result dimension dims[i], or 0 where it expands from 1.
         std::vector<Expr> idx = k.index(), src;
         const auto &inShape = k.spec.inputs[0].shape;
         for (size_t i = 0; i < k.spec.dims.size(); ++i)
           src.push_back(inShape[i] == 1 ? Expr(0) : idx[k.spec.dims[i]]);
         k.define(k.at(0, src));
       }},
      {"reshape",
       [](Kernel &k) {
         // Row-major linear index of the output coordinate, unflattened in the input's shape.
         Expr linear = 0;
         std::vector<Expr> idx = k.index();
         for (size_t d = 0; d < idx.size(); ++d)
           linear = linear * int(k.spec.output.shape[d]) + idx[d];
         const auto &inShape = k.spec.inputs[0].shape;
         std::vector<Expr> src(inShape.size());
         for (int d = int(inShape.size()) - 1; d >= 0; --d) {
           src[d] = linear % int(inShape[d]);
           linear = linear / int(inShape[d]);
         }
         k.define(k.at(0, src));
       }},
      {"transpose",
       [](Kernel &k) {
         // Result dimension i is operand dimension perm[i].
         std::vector<Expr> idx = k.index(), src(idx.size());
         for (size_t i = 0; i < idx.size(); ++i)
           src[k.spec.dims[i]] = idx[i];
         k.define(k.at(0, src));
       }},
      {"reduce_sum", [](Kernel &k) { reduce(k, Reduction::sum); }},
      {"reduce_mean", [](Kernel &k) { reduce(k, Reduction::mean); }},
      {"reduce_max", [](Kernel &k) { reduce(k, Reduction::max); }},
      {"conv2d", conv2d},
      {"conv2d_input_grad", conv2dInputGrad},
      {"conv2d_filter_grad", conv2dFilterGrad},
      {"max_pool2d", maxPool2d},
      {"max_pool2d_grad", maxPool2dGrad},
      {"avg_pool2d", avgPool2d},
      {"avg_pool2d_grad", avgPool2dGrad},
      {"matmul",
       [](Kernel &k) {
         // result[m, n] = sum_k lhs[m, k] * rhs[k, n]
         RDom r(0, int(k.spec.inputs[0].shape[1]), "k");
         std::vector<Expr> idx = k.index();
         k.out(k.outVars()) = 0.0f;
         k.out(k.outVars()) += k.at(0, {idx[0], r.x}) * k.at(1, {r.x, idx[1]});
         // Narrow outputs (a Linear layer's 10 classes) leave no vector over n: vectorize the
         // long reduction instead, 16 partial sums reduced at the end.
         int n = int(k.spec.output.shape[1]), depth = int(k.spec.inputs[0].shape[1]);
         if (n < 16 && depth >= 32) {
           RVar ko("ko"), ki("ki");
           k.out.update().atomic().split(r.x, ko, ki, 16, TailStrategy::GuardWithIf).vectorize(ki);
           k.selfScheduledUpdate = true;
         }
       }},
  };
  return table;
}

// Default schedule of an unfused kernel: vectorize the innermost dimension when it is wide
// enough, and spread large 4-d (NCHW) kernels over the batch. Fusion and real schedules come
// from the schedule pass.
void schedule(Kernel &k) {
  static const std::set<std::string> selfScheduled = {"conv2d", "conv2d_input_grad", "conv2d_filter_grad"};
  if (k.vars.empty() || selfScheduled.count(k.spec.op))
    return;
  int inner = int(k.spec.output.shape.back());
  int width = inner >= 16 ? 16 : 8;
  // A scatter (max_pool2d_grad) updates positions computed from data: its update has no pure
  // innermost dimension to vectorize.
  bool scatter = k.spec.op == "max_pool2d_grad";
  if (inner >= 8) {
    k.out.vectorize(k.vars[0], width, TailStrategy::GuardWithIf);
    if (k.out.has_update_definition() && !scatter && !k.selfScheduledUpdate)
      k.out.update(0).vectorize(k.vars[0], width, TailStrategy::GuardWithIf);
  }
  // Thread wake-up costs 70-230 us here: only kernels of a few MFLOP are worth splitting.
  bool large = k.spec.output.shape.size() == 4 && k.spec.output.elements() >= (1 << 17);
  if (scatter && inner >= 8 && !large)
    k.out.update(0).unscheduled();  // deliberately serial: it only adds to a few positions
  if (large) {
    Var batch = k.vars.back();
    k.out.parallel(batch);
    if (k.out.has_update_definition())
      k.out.update(0).parallel(batch);
  }
}

// Builds the kernel's pipeline with every buffer's extents and strides fixed, so Halide
// specializes on the static shapes.
struct Built {
  std::vector<ImageParam> params;
  Func out;
};

void fixLayout(OutputImageParam p, const std::vector<int64_t> &shape) {
  int stride = 1;
  for (int d = 0; d < int(shape.size()); ++d) {
    int extent = int(shape[shape.size() - 1 - d]);
    p.dim(d).set_bounds(0, extent).set_stride(stride);
    stride *= extent;
  }
}

Built build(const KernelSpec &spec) {
  auto entry = algorithms().find(spec.op);
  if (entry == algorithms().end())
    throw CompileError("no Halide lowering for kiln." + spec.op);
  Kernel k{spec, {}, {}, Func(spec.name)};
  for (size_t i = 0; i < spec.inputs.size(); ++i) {
    k.in.emplace_back(halideType(spec.inputs[i].dtype), int(spec.inputs[i].shape.size()),
                      spec.name + "_in" + std::to_string(i));
    fixLayout(k.in.back(), spec.inputs[i].shape);
  }
  for (size_t d = 0; d < spec.output.shape.size(); ++d)
    k.vars.emplace_back("d" + std::to_string(spec.output.shape.size() - 1 - d));
  entry->second(k);
  fixLayout(k.out.output_buffer(), spec.output.shape);
  schedule(k);
  return {k.in, k.out};
}

std::vector<Argument> arguments(const Built &b) {
  std::vector<Argument> args;
  for (const ImageParam &p : b.params)
    args.push_back(p);
  return args;
}

// The host CPU as Halide sees it, less the Sapphire Rapids feature: Halide 14 infers it from
// AVX512-BF16 and VNNI, which AMD Zen 4 also has, and then emits AVX-VNNI instructions that
// Zen 4 lacks (SIGILL).
Target hostTarget() {
  return get_host_target().without_feature(Target::AVX512_SapphireRapids);
}

} // namespace

std::string compileKernels(const std::vector<KernelSpec> &specs, const KernelOutputs &outs) {
  try {
    Target target = hostTarget().with_feature(Target::NoRuntime);
    std::vector<Module> modules;
    for (const KernelSpec &spec : specs) {
      Built b = build(spec);
      modules.push_back(Pipeline(b.out).compile_to_module(arguments(b), spec.name, target));
    }
    if (modules.empty())  // an object with no kernels is still a valid object
      modules.push_back(Module("kiln_kernels", target));
    Module all = link_modules("kiln_kernels", modules);
    std::map<OutputFileType, std::string> files;
    if (!outs.object.empty())
      files[OutputFileType::object] = outs.object;
    if (!outs.stmt.empty())
      files[OutputFileType::stmt] = outs.stmt;
    if (!outs.assembly.empty())
      files[OutputFileType::assembly] = outs.assembly;
    all.compile(files);
    if (!outs.runtime.empty())
      compile_standalone_runtime(outs.runtime, hostTarget());
    return "";
  } catch (const Halide::Error &e) {
    return std::string("Halide: ") + e.what();
  }
}

std::string runKernel(const KernelSpec &spec, const std::vector<const void *> &inputs,
                      void *output) {
  static std::mutex mutex;
  static std::map<std::string, std::pair<Built, std::unique_ptr<Pipeline>>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  try {
    auto &entry = cache[spec.key()];
    if (!entry.second) {
      entry.first = build(spec);
      entry.second = std::make_unique<Pipeline>(entry.first.out);
      entry.second->compile_jit(hostTarget().with_feature(Target::JIT));
    }
    auto wrap = [](const TensorDesc &t, const void *data) {
      std::vector<int> extents(t.shape.rbegin(), t.shape.rend());
      return Buffer<>(halideType(t.dtype), const_cast<void *>(data), extents);
    };
    for (size_t i = 0; i < inputs.size(); ++i)
      entry.first.params[i].set(wrap(spec.inputs[i], inputs[i]));
    Buffer<> out = wrap(spec.output, output);
    entry.second->realize(Realization({out}));
    return "";
  } catch (const Halide::Error &e) {
    return std::string("Halide: ") + e.what();
  }
}

} // namespace kiln
