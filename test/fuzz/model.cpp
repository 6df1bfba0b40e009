// Fuzz target: the compiler's front half on a model's IR, as `kiln compile --batch N
// --emit=fused` runs it: parsing (with its nesting limit), verification, then kiln-opt's
// kiln-pipeline (the IR stages: the train entry re-specialised to another batch size, autodiff,
// the optimizer and fusion). Any of them may refuse the input with a diagnostic; none may crash,
// hang or trip a sanitizer.
#include "ir/Dialect.h"
#include "ir/ModelFile.h"
#include "ir/Roles.h"
#include "passes/Passes.h"
#include "passes/SpecializeBatch.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  context.loadDialect<kiln::KilnDialect, mlir::func::FuncDialect>();
  mlir::ScopedDiagnosticHandler quiet(&context, [](mlir::Diagnostic &) { return mlir::success(); });
  llvm::SourceMgr sources;
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      kiln::parseModel(context, sources, llvm::MemoryBuffer::getMemBufferCopy(text, "fuzz.mlir"), true);
  if (!module)
    return 0;
  kiln::PipelineOptions options;
  for (auto f : module->getOps<mlir::func::FuncOp>()) {
    if (kiln::roleOf(f) != kiln::FunctionRole::forward)
      continue;
    // An odd batch size other than the traced one, as --batch gives.
    mlir::FailureOr<int64_t> batch = kiln::tracedBatch(f);
    if (succeeded(batch))
      options.batch.batch = *batch % 7 + 3;
    break;
  }
  // The one pass manager verifies after each pass, as the driver's stage by stage does.
  mlir::PassManager pm(&context);
  kiln::addPipelinePasses(pm, options);
  (void)pm.run(*module);
  return 0;
}
