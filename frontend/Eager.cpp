// Eager execution: trace, run the pipeline's IR stages, evaluate with the Halide JIT.
#include "kiln/eager.h"

#include "codegen/Evaluate.h"
#include "frontend/TraceImpl.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace kiln {
namespace {

std::string str(const Shape &s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i)
    out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

HostTensor toHost(const Array &a) { return HostTensor::f32(a.shape, a.data); }

// Masks (i1, one byte each) and labels (i32) come back as floats, as numpy would print them.
Array fromHost(const HostTensor &t) {
  std::vector<float> values(t.desc.elements());
  for (size_t i = 0; i < values.size(); ++i) {
    switch (t.desc.dtype) {
    case DType::f32: values[i] = t.floats()[i]; break;
    case DType::i1: values[i] = t.bytes[i] ? 1.0f : 0.0f; break;
    case DType::i32: values[i] = float(reinterpret_cast<const int32_t *>(t.bytes.data())[i]); break;
    }
  }
  return Array(t.desc.shape, std::move(values));
}

// Runs the given stages of the IR pipeline, then evaluates `function`.
std::vector<HostTensor> execute(Trace &trace, const std::vector<Stage> &stages, const std::string &function,
                                const std::vector<Array> &args) {
  Trace::Impl &m = trace.impl();
  PassManager pm(&m.context);
  for (Stage stage : stages)
    addStagePasses(stage, pm, PipelineOptions{});
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (failed(pm.run(*m.module)))
    throw Error("internal error: the pipeline failed on an eager function");
  std::vector<HostTensor> inputs;
  for (const Array &a : args)
    inputs.push_back(toHost(a));
  auto fn = m.module->lookupSymbol<func::FuncOp>(function);
  auto results = evaluate(fn, inputs);
  if (failed(results))
    throw Error("internal error: evaluating an eager function failed");
  return *results;
}

} // namespace

Array::Array(Shape s, std::vector<float> d) : shape(std::move(s)), data(std::move(d)) {
  int64_t n = 1;
  for (int64_t dim : shape)
    n *= dim;
  if (n != int64_t(data.size()))
    throw Error("Array of shape " + str(shape) + " needs " + std::to_string(n) + " values, got " +
                std::to_string(data.size()));
}

Array Array::of(std::initializer_list<float> values) {
  return Array({int64_t(values.size())}, std::vector<float>(values));
}

Array Array::of(std::initializer_list<std::initializer_list<float>> rows) {
  std::vector<float> data;
  int64_t columns = rows.size() ? int64_t(rows.begin()->size()) : 0;
  for (const auto &row : rows) {
    if (int64_t(row.size()) != columns)
      throw Error("Array::of: rows of different lengths");
    data.insert(data.end(), row.begin(), row.end());
  }
  return Array({int64_t(rows.size()), columns}, std::move(data));
}

// torch.linspace: start + i * step for the first half, end - (n - 1 - i) * step for the rest.
Array Array::linspace(float start, float end, int64_t n) {
  std::vector<float> v(n);
  float step = n > 1 ? (end - start) / float(n - 1) : 0.0f;
  for (int64_t i = 0; i < n; ++i)
    v[i] = i < n / 2 ? start + step * float(i) : end - step * float(n - 1 - i);
  return Array({n}, std::move(v));
}

Array run(const ManyFn &f, const std::vector<Array> &inputs) {
  Trace trace("eager");
  std::vector<Tensor> args;
  for (size_t i = 0; i < inputs.size(); ++i)
    args.push_back(trace.input("x" + std::to_string(i), inputs[i].shape));
  trace.impl().endEntry({f(args)}, FunctionRole::eval);
  return fromHost(execute(trace, {}, "forward", inputs)[0]);
}

Array run(const UnaryFn &f, const Array &x) {
  return run([&](const std::vector<Tensor> &a) { return f(a[0]); }, {x});
}

std::pair<float, Array> value_and_grad(const UnaryFn &f, const Array &x) {
  Trace trace("eager");
  Tensor y = f(trace.parameter("x", x.shape, 1));
  if (!y.shape().empty())
    throw Error("grad needs a function with a scalar result, got shape " + str(y.shape()));
  trace.impl().endEntry({y}, FunctionRole::forward);
  auto results = execute(trace, {Stage::grad}, "grad", {x});
  return {results[0].floats()[0], fromHost(results[1])};
}

Array grad(const UnaryFn &f, const Array &x) { return value_and_grad(f, x).second; }

} // namespace kiln
