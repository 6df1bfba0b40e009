// The step plan: which kernels a train step runs, over which arena buffers, in which order.
//
// Expects a module holding @train_step (from the optimizer pass). Every SSA value gets its own
// 64-byte aligned arena slot (no reuse yet: memory planning is a later pass); updated params
// and state are copied back into their slots at the end of the step.
#ifndef KILN_CODEGEN_HOST_PLAN_H
#define KILN_CODEGEN_HOST_PLAN_H

#include "codegen/KernelSpec.h"

#include "mlir/IR/BuiltinOps.h"

namespace kiln {

struct PlannedBuffer {
  std::string name;
  TensorDesc desc;
  int64_t offset = 0;
};

struct KernelCall {
  int kernel = 0;
  std::vector<int> buffers;  // inputs, then the output
};

struct StepPlan {
  std::vector<KernelSpec> kernels;  // one per distinct function
  std::vector<PlannedBuffer> buffers;
  std::vector<KernelCall> once;     // constants, computed when the arena is bound
  std::vector<KernelCall> calls;    // the step, in order
  std::vector<std::pair<int, int>> copies;  // (updated value, param or state slot)
  int64_t arenaBytes = 0;
  std::string manifest;             // JSON, see runtime/include/kiln/model_abi.h
};

// The kernel that computes `op` (a kiln primitive) on its own.
mlir::FailureOr<KernelSpec> kernelFor(mlir::Operation *op);

mlir::FailureOr<StepPlan> planTrainStep(mlir::ModuleOp module);

} // namespace kiln

#endif
