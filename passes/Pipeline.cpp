// The pipeline's stages in one table: what each is called, what its dump holds, and the passes
// of the IR stages, in the order they run.
#include "passes/Passes.h"

namespace kiln {
#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"
} // namespace kiln

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/FormatVariadic.h"

namespace kiln {
namespace {

const StageInfo kStages[] = {
    {Stage::forward, "forward", "the traced model, verified, its train entries specialised to the batch"},
    {Stage::grad, "grad", "after autodiff"},
    {Stage::train, "train", "after the optimizer: @train_step"},
    {Stage::fused, "fused", "the kernels as kiln.kernel groups (--fusion=off: one per primitive)"},
    {Stage::scheduled, "scheduled", "the kernels with codegen's schedule"},
    {Stage::planned, "planned", "buffers, offsets, lifetimes, calls"},
    {Stage::halide, "halide", "Halide's lowered kernels (stmt)"},
    {Stage::assembly, "asm", "the kernels' assembly"},
    {Stage::ptx, "ptx", "the kernels' PTX (--target=cuda)"},
    {Stage::llvm, "llvm", "the host module (.ll)"},
    {Stage::obj, "obj", "one relocatable object: kernels, host module and Halide runtime"},
    {Stage::exe, "exe", "a standalone training executable"},
};

void cleanup(mlir::OpPassManager &pm) {
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
}

} // namespace

llvm::ArrayRef<StageInfo> stages() { return kStages; }

const StageInfo &stageInfo(Stage stage) { return kStages[static_cast<size_t>(stage)]; }

std::optional<Stage> stageNamed(llvm::StringRef name) {
  for (const StageInfo &s : kStages)
    if (name == s.name)
      return s.stage;
  return std::nullopt;
}

void printStages(llvm::raw_ostream &os) {
  os << "Stages, in pipeline order (--emit=NAME stops after one and writes its product):\n";
  for (const StageInfo &s : kStages)
    os << llvm::formatv("  {0,-10} {1}\n", s.name, s.product);
}

void addStagePasses(Stage stage, mlir::OpPassManager &pm, const PipelineOptions &options) {
  switch (stage) {
  case Stage::forward: // as traced: verified, and specialised to the batches it will train on
    pm.addPass(createKilnBatchSteps(options.batch));
    return;
  case Stage::grad:
    pm.addPass(createKilnAutodiff());
    cleanup(pm);
    return;
  case Stage::train:
    pm.addPass(createKilnDataParallel());
    pm.addPass(createKilnOptimizer());
    cleanup(pm);
    return;
  case Stage::fused: pm.addPass(createKilnFuse(KilnFuseOptions{options.fusion})); return;
  default: return;
  }
}

void addPipelinePasses(mlir::OpPassManager &pm, const PipelineOptions &options, Stage last) {
  for (const StageInfo &s : kStages) {
    addStagePasses(s.stage, pm, options);
    if (s.stage == last)
      return;
  }
}

std::string derivedName(llvm::StringRef name, llvm::StringRef from, llvm::StringRef to) {
  if (name.starts_with(from))
    return (to + name.drop_front(from.size())).str();
  return (name + "_" + to).str();
}

void registerPasses() {
  registerKilnPasses();
  mlir::PassPipelineRegistration<>("kiln-pipeline",
                                   "The IR stages as kiln compile runs them: batch steps, autodiff, "
                                   "the optimizer and fusion",
                                   [](mlir::OpPassManager &pm) { addPipelinePasses(pm, PipelineOptions{}); });
}

} // namespace kiln
