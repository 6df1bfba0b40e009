// Runs a kiln function in-process: each op's kernel through Halide's JIT, in program order.
// Used by tests (finite-difference gradient checks) and the eager-looking examples.
#ifndef KILN_CODEGEN_EVALUATE_H
#define KILN_CODEGEN_EVALUATE_H

#include "codegen/KernelSpec.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace kiln {

struct HostTensor {
  TensorDesc desc;
  std::vector<uint8_t> bytes;

  static HostTensor f32(std::vector<int64_t> shape, std::vector<float> values);
  float *floats() { return reinterpret_cast<float *>(bytes.data()); }
  const float *floats() const { return reinterpret_cast<const float *>(bytes.data()); }
};

// Evaluates `fn` on `args` (one per argument, matching its type) and returns its results.
mlir::FailureOr<std::vector<HostTensor>> evaluate(mlir::func::FuncOp fn, const std::vector<HostTensor> &args);

} // namespace kiln

#endif
