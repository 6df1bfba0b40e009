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
      {"forward", [](mlir::OpPassManager &, const PipelineOptions &) {}},  // as traced: verified only
      {"grad",
       [](mlir::OpPassManager &pm, const PipelineOptions &) {
         pm.addPass(createAutodiffPass());
         cleanup(pm);
       }},
      {"train",
       [](mlir::OpPassManager &pm, const PipelineOptions &) {
         pm.addPass(createDataParallelPass());
         pm.addPass(createOptimizerPass());
         cleanup(pm);
       }},
      {"fused",
       [](mlir::OpPassManager &pm, const PipelineOptions &o) { pm.addPass(createFusePass(o.fusion)); }},
  };
  return stages;
}

std::string roleOf(mlir::Operation *func) {
  if (auto role = func->getAttrOfType<mlir::StringAttr>("kiln.role"))
    return role.getValue().str();
  auto name = func->getAttrOfType<mlir::StringAttr>("sym_name");
  if (name && (name.getValue() == "forward" || name.getValue() == "grad"))
    return name.getValue().str();
  return "";
}

std::string derivedName(llvm::StringRef name, llvm::StringRef from, llvm::StringRef to) {
  if (name.starts_with(from))
    return (to + name.drop_front(from.size())).str();
  return (name + "_" + to).str();
}

void registerPasses() {
  mlir::registerPass([] { return createAutodiffPass(); });
  mlir::registerPass([] { return createDataParallelPass(); });
  mlir::registerPass([] { return createOptimizerPass(); });
  mlir::registerPass([] { return createFusePass(); });
}

} // namespace kiln
