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

// The passes, declared in Passes.td: createKilnBatchSteps(KilnBatchStepsOptions),
// createKilnAutodiff() (@forward -> @grad), createKilnDataParallel() (sums over kiln.ranks),
// createKilnOptimizer() (@grad -> @train_step), createKilnFuse(KilnFuseOptions) (kiln.kernel
// groups; enabled = false gives one kernel per primitive).
#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

// Registers the passes and the kiln-pipeline pipeline with MLIR (kiln-opt).
void registerPasses();

// @forward_tail -> @grad_tail: replaces the `from` prefix of `name` by `to`, or appends
// "_<to>" when `name` does not start with `from`.
std::string derivedName(llvm::StringRef name, llvm::StringRef from, llvm::StringRef to);

// The stages from a traced model to a linked binary, in order. Each has one name, which is also
// the --emit value that stops after it and dumps its product.
enum class Stage { forward, grad, train, fused, scheduled, planned, halide, assembly, ptx, llvm, obj, exe };

struct StageInfo {
  Stage stage;
  const char *name;    // its --emit value
  const char *product; // what its dump holds
};

// The table every tool prints and runs.
llvm::ArrayRef<StageInfo> stages();
const StageInfo &stageInfo(Stage stage);
std::optional<Stage> stageNamed(llvm::StringRef name);
void printStages(llvm::raw_ostream &os);

// Choices that change what the IR stages do.
struct PipelineOptions {
  bool fusion = true;
  KilnBatchStepsOptions batch;
};

// The passes of an IR stage (forward, grad, train or fused); none for a later stage.
void addStagePasses(Stage stage, mlir::OpPassManager &pm, const PipelineOptions &options);

// Every IR stage's passes in order, through `last` (the pipeline kiln-opt registers as
// kiln-pipeline, and the one the model fuzz target runs).
void addPipelinePasses(mlir::OpPassManager &pm, const PipelineOptions &options, Stage last = Stage::fused);

} // namespace kiln

#endif
