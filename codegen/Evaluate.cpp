// The in-process executor: a plain walk over the function, one JIT-compiled kernel per op or
// kiln.kernel.
#include "codegen/Evaluate.h"

#include "codegen/host/Plan.h"

using namespace mlir;

namespace kiln {

HostTensor HostTensor::f32(std::vector<int64_t> shape, std::vector<float> values) {
  HostTensor t;
  t.desc.shape = std::move(shape);
  t.bytes.resize(values.size() * sizeof(float));
  std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

FailureOr<std::vector<HostTensor>> evaluate(func::FuncOp fn, const std::vector<HostTensor> &args) {
  if (args.size() != fn.getNumArguments())
    return fn.emitError("evaluate: expected ") << fn.getNumArguments() << " arguments, got " << args.size();
  llvm::DenseMap<Value, HostTensor> values;
  for (auto [arg, t] : llvm::zip(fn.getArguments(), args)) {
    auto type = llvm::cast<RankedTensorType>(arg.getType());
    int64_t elementBytes = type.getElementType().isInteger(1) ? 1 : 4;
    if (type.getNumElements() * elementBytes != int64_t(t.bytes.size()))
      return fn.emitError("evaluate: argument ") << arg.getArgNumber() << " has the wrong size";
    values[arg] = t;
  }
  for (Operation &op : fn.getBody().front()) {
    if (auto ret = llvm::dyn_cast<func::ReturnOp>(op)) {
      std::vector<HostTensor> results;
      for (Value v : ret.getOperands())
        results.push_back(values[v]);
      return results;
    }
    auto kernel = kernelOf(&op);
    if (failed(kernel))
      return failure();
    kernel->name = "eval_" + kernel->name;
    std::vector<const void *> inputs;
    for (Value v : op.getOperands())
      inputs.push_back(values[v].bytes.data());
    std::vector<HostTensor> outs(op.getNumResults());
    std::vector<void *> outputs;
    for (auto [i, out] : llvm::enumerate(outs)) {
      out.desc = kernel->output(int(i));
      out.bytes.resize(out.desc.bytes());
      outputs.push_back(out.bytes.data());
    }
    std::string error = runKernel(*kernel, inputs, outputs);
    if (!error.empty())
      return op.emitError("evaluate: ") << error;
    for (auto [result, out] : llvm::zip(op.getResults(), outs))
      values[result] = std::move(out);
  }
  return fn.emitError("evaluate: function has no return");
}

} // namespace kiln
