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

// A model from MODEL.mlir or from a whole-net checkpoint (NET.safetensors, whose metadata
// carries the IR); `traced` when the tracer has just written it from the user's DSL file.
// Null after reporting the error through the context's handler or stderr.
mlir::OwningOpRef<mlir::ModuleOp> loadModel(mlir::MLIRContext &context, llvm::SourceMgr &sources,
                                            const std::string &path, bool traced);

// A model file written with the DSL (.cpp, .cc, .cxx), which is traced before it is compiled.
bool isModelSource(llvm::StringRef path);

// Builds the model file's tracing program `program` and runs it to write the traced IR to
// `ir`. "" or the error.
std::string traceModel(const std::string &source, const std::string &program, const std::string &ir);

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
