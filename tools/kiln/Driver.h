// What the kiln driver's commands share: reading a model, building a binary from a plan.
#ifndef KILN_TOOLS_KILN_DRIVER_H
#define KILN_TOOLS_KILN_DRIVER_H

#include "codegen/host/Plan.h"
#include "tools/kiln/Link.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/SourceMgr.h"

#include <string>

namespace kiln {

// A folder of intermediate files, removed with this object unless kept.
class TempFolder {
public:
  TempFolder() = default;
  TempFolder(const TempFolder &) = delete;
  TempFolder &operator=(const TempFolder &) = delete;
  ~TempFolder();
  // Creates a new folder named after `prefix` in the system's temporary directory; "" or the error.
  std::string create(llvm::StringRef prefix, bool keep = false);
  const std::string &path() const { return dir; }
  // The path of `name` inside the folder.
  std::string operator/(const llvm::Twine &name) const;

private:
  std::string dir;
  bool keep = false;
};

// The model the user named: MODEL.mlir, a whole-net checkpoint (NET.safetensors, whose metadata
// carries the IR), or a DSL file (MODEL.cpp), traced into `temps` first. Null after reporting the
// error through the context's handler or stderr.
mlir::OwningOpRef<mlir::ModuleOp> loadModel(mlir::MLIRContext &context, llvm::SourceMgr &sources,
                                            const std::string &path, const TempFolder &temps);

// Kernels, host module and Halide runtime compiled into `tempDir`, then linked into `out`: an
// executable with the runtime's `parts`, or one relocatable object. "" or the error.
std::string buildBinary(const StepPlan &plan, const std::string &tempDir, const std::string &out,
                        bool relocatable, RuntimeParts parts, Device device = Device::host);

// A copy of `module` through the whole IR pipeline (fusion on or off), planned for `device`;
// failure after reporting through the context's handler.
mlir::FailureOr<StepPlan> planVariant(mlir::ModuleOp module, const std::string &modelIR, bool fusion,
                                      Device device);

// The runtime's parts the model uses: pictures when its kiln.train has "draw", the tutorial's
// data sets when it names one.
RuntimeParts runtimeParts(mlir::ModuleOp module);

// `kiln bench` and `kiln diff`: whether each was the command given, and running it.
bool benchCommand();
int bench();
bool diffCommand();
int diff();

} // namespace kiln

#endif
