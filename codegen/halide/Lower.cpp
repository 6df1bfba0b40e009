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
      {"matmul",
       [](Kernel &k) {
         // result[m, n] = sum_k lhs[m, k] * rhs[k, n]
         RDom r(0, int(k.spec.inputs[0].shape[1]), "k");
         std::vector<Expr> idx = k.index();
         k.out(k.outVars()) = 0.0f;
         k.out(k.outVars()) += k.at(0, {idx[0], r.x}) * k.at(1, {r.x, idx[1]});
       }},
  };
  return table;
}

// Default schedule of an unfused kernel: vectorize the innermost dimension when it is wide
// enough. Fusion and real schedules come from the schedule pass.
void schedule(Kernel &k) {
  if (k.vars.empty())
    return;
  int inner = int(k.spec.output.shape.back());
  if (inner < 8)
    return;
  int width = inner >= 16 ? 16 : 8;
  k.out.vectorize(k.vars[0], width, TailStrategy::GuardWithIf);
  if (k.out.has_update_definition())
    k.out.update(0).vectorize(k.vars[0], width, TailStrategy::GuardWithIf);
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

} // namespace

std::string compileKernels(const std::vector<KernelSpec> &specs, const KernelOutputs &outs) {
  try {
    Target target = get_host_target().with_feature(Target::NoRuntime);
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
      compile_standalone_runtime(outs.runtime, get_host_target());
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
      entry.second->compile_jit(get_jit_target_from_environment());
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
