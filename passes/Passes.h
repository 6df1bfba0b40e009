// kiln's passes and the one function that lists the whole pipeline.
#ifndef KILN_PASSES_PASSES_H
#define KILN_PASSES_PASSES_H

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

#include <memory>
#include <string>
#include <vector>

namespace kiln {

// Reverse-mode autodiff: @forward (params, inputs) -> (loss, outputs...) gives
// @grad (params, inputs) -> (loss, outputs..., dloss/dparam...).
std::unique_ptr<mlir::Pass> createAutodiffPass();

// With a module attribute kiln.ranks = R > 1: adds up each gradient of @grad, and its loss,
// over the R ranks of a data-parallel run (kiln.all_reduce_sum).
std::unique_ptr<mlir::Pass> createDataParallelPass();

// Appends the optimizer named by the module's `kiln.optimizer` attribute to @grad, giving
// @train_step (params, state, inputs, lr, step) -> (loss, outputs..., new params, new state).
std::unique_ptr<mlir::Pass> createOptimizerPass();

// Groups each function's primitives into kiln.kernel ops; `enabled` false gives one kernel per
// primitive (the unfused baseline).
std::unique_ptr<mlir::Pass> createFusePass(bool enabled = true);

void registerPasses();

// A function's part in training: "forward" (to differentiate), "grad", "train" (an update
// step) or "eval" (forward only), from its kiln.role attribute; @forward and @grad without
// one are taken as such.
std::string roleOf(mlir::Operation *func);

// @forward_tail -> @grad_tail: replaces the `from` prefix of `name` by `to`, or appends
// "_<to>" when `name` does not start with `from`.
std::string derivedName(llvm::StringRef name, llvm::StringRef from, llvm::StringRef to);

// Choices that change what the pipeline does.
struct PipelineOptions {
  bool fusion = true;
};

// A stage of the pipeline: its name is also the --emit value that dumps its result.
struct Stage {
  std::string name;
  void (*addPasses)(mlir::OpPassManager &pm, const PipelineOptions &options);
};

// The whole IR pipeline, in order, from the traced forward function to the train step.
const std::vector<Stage> &irPipeline();

} // namespace kiln

#endif
