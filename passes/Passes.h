// kiln's passes, and the stages of the pipeline that every tool runs.
#ifndef KILN_PASSES_PASSES_H
#define KILN_PASSES_PASSES_H

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <optional>
#include <string>

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

// The train entries a run needs: the traced one re-specialised to `batch` rows (0: as traced),
// each of `ranks` processes taking an equal share, and the step of the short last batch that
// `dataRows` rows of training data leave (0: unknown).
struct BatchStepsOptions {
  int64_t batch = 0;
  int64_t ranks = 1;
  int64_t dataRows = 0;
};
std::unique_ptr<mlir::Pass> createBatchStepsPass(const BatchStepsOptions &options = {});

void registerPasses();

// @forward_tail -> @grad_tail: replaces the `from` prefix of `name` by `to`, or appends
// "_<to>" when `name` does not start with `from`.
std::string derivedName(llvm::StringRef name, llvm::StringRef from, llvm::StringRef to);

// The stages from a traced model to a linked binary, in order. Each has one name, which is also
// the --emit value that stops after it and dumps its product.
enum class Stage { forward, grad, train, fused, scheduled, planned, halide, assembly, ptx, llvm, obj, exe };

struct StageInfo {
  Stage stage;
  const char *name;     // its --emit value
  const char *product;  // what its dump holds
};

// The table every tool prints and runs.
llvm::ArrayRef<StageInfo> stages();
const StageInfo &stageInfo(Stage stage);
std::optional<Stage> stageNamed(llvm::StringRef name);
void printStages(llvm::raw_ostream &os);

// Choices that change what the IR stages do.
struct PipelineOptions {
  bool fusion = true;
  BatchStepsOptions batch;
};

// The passes of an IR stage (forward, grad, train or fused); none for a later stage.
void addStagePasses(Stage stage, mlir::OpPassManager &pm, const PipelineOptions &options);

// Every IR stage's passes in order, through `last` (the pipeline kiln-opt registers as
// kiln-pipeline, and the one the model fuzz target runs).
void addPipelinePasses(mlir::OpPassManager &pm, const PipelineOptions &options, Stage last = Stage::fused);

} // namespace kiln

#endif
