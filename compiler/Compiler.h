// The compiler: a traced model through the stage table (passes/Passes.h) to any stage's product,
// up to a linked executable. `kiln compile`, `kiln bench` and `kiln diff` run it; they parse
// flags into CompileOptions and call it, nothing more.
#ifndef KILN_COMPILER_COMPILER_H
#define KILN_COMPILER_COMPILER_H

#include "codegen/host/Plan.h"
#include "compiler/Link.h"
#include "compiler/ModelInput.h"
#include "passes/Passes.h"

#include "mlir/IR/BuiltinOps.h"

#include <optional>
#include <string>
#include <vector>

namespace kiln {

struct CompileOptions {
  Device target = Device::host;
  bool fusion = true;
  int64_t batch = 0;                         // rows per train step; 0: as traced
  int64_t ranks = 1;                         // data-parallel processes
  std::string dataPath;                      // the data the binary trains on, to size the short last batch's step
  uint64_t maxArenaGiB = 64;                 // the largest memory plan accepted
  std::string optimizer;                     // replaces the model's optimizer when set
  std::vector<std::string> optimizerOptions; // KEY=VALUE hyper-parameters
  bool printAfterAll = false;                // every pass's IR, and the plan, on stderr
  std::string brokenKernel;                  // testing kiln diff: this kernel is built with a planted bug
};

// Checks `options` that are not about any one model; "" or the error.
std::string checkOptions(const CompileOptions &options);

class Compiler {
public:
  // Intermediate files go to `temps`; diagnostics to the context's handler.
  Compiler(mlir::MLIRContext &context, CompileOptions options, const TempFolder &temps);

  // Runs the stages up to and including `last` on `module` (changed in place) and writes the
  // product of `last` to `out`: IR or text ("-" or "" for stdout), an object or an executable
  // (a file: "" names a.o or a.out). Failure after reporting the error.
  mlir::LogicalResult run(mlir::ModuleOp module, Stage last, const std::string &out);

  // The same in two halves: the stages through `planned` (writing the product of `dumpAt` and
  // stopping there when it is one of them), then the later ones through `last`.
  mlir::LogicalResult plan(mlir::ModuleOp module, std::optional<Stage> dumpAt = std::nullopt,
                           const std::string &out = "");
  mlir::LogicalResult build(mlir::ModuleOp module, Stage last, const std::string &out);

  // The memory plan, once the planned stage has run; build() compiles what it holds then.
  StepPlan &stepPlan() { return *plan_; }

private:
  mlir::LogicalResult prepare(mlir::ModuleOp module);
  mlir::LogicalResult overrideOptimizer(mlir::ModuleOp module);
  mlir::LogicalResult checkDataset(mlir::ModuleOp module);
  mlir::LogicalResult countDataRows(mlir::ModuleOp module, int64_t &rows);
  mlir::LogicalResult runIRStage(mlir::ModuleOp module, Stage stage);
  mlir::LogicalResult planMemory(mlir::ModuleOp module);
  mlir::LogicalResult writeText(const std::string &out, llvm::function_ref<void(llvm::raw_ostream &)> print);
  mlir::LogicalResult writeKernels(Stage stage, const std::string &out);
  mlir::LogicalResult writePtx(const std::string &kernelsText, const std::string &out);
  mlir::LogicalResult writeBinary(mlir::ModuleOp module, Stage stage, const std::string &out);
  mlir::LogicalResult fail(const llvm::Twine &message);

  mlir::MLIRContext &context_;
  CompileOptions options_;
  const TempFolder &temps_;
  PipelineOptions pipeline_;
  std::string modelIR_; // the model as one process trains it, kept in whole-net checkpoints
  std::optional<StepPlan> plan_;
};

// The runtime's parts the model uses: pictures when its kiln.train has "draw", the tutorial's
// data sets when it names one, MPI when it trains on several ranks.
RuntimeParts runtimeParts(mlir::ModuleOp module);

} // namespace kiln

#endif
