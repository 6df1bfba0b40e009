// The IR pipeline in one list: what runs, in which order, and which dump each stage gives.
#include "passes/Passes.h"

#include "mlir/Transforms/Passes.h"

namespace kiln {

static void cleanup(mlir::OpPassManager &pm) {
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
}

const std::vector<Stage> &irPipeline() {
  static const std::vector<Stage> stages = {
      {"forward", [](mlir::OpPassManager &) {}},  // as traced: verified only
      {"grad", [](mlir::OpPassManager &pm) { pm.addPass(createAutodiffPass()); cleanup(pm); }},
      {"train", [](mlir::OpPassManager &pm) { pm.addPass(createOptimizerPass()); cleanup(pm); }},
  };
  return stages;
}

void registerPasses() {
  mlir::registerPass([] { return createAutodiffPass(); });
  mlir::registerPass([] { return createOptimizerPass(); });
}

} // namespace kiln
