// Reading the model a tool was given, and the folder of intermediate files its build uses.
#ifndef KILN_COMPILER_MODELINPUT_H
#define KILN_COMPILER_MODELINPUT_H

#include "ir/ModelFile.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/Twine.h"
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

// Reads the model a tool was given and keeps alive what it needs while it is used: a context
// with kiln's dialects, the source buffers its diagnostics point into, and the handlers that
// print them (with notes at the DSL lines of a traced model).
class ModelReader {
public:
  ModelReader();
  mlir::MLIRContext &context() { return mlirContext; }
  // MODEL.mlir, a whole-net checkpoint (NET.safetensors, whose metadata carries the IR), or a
  // DSL file (MODEL.cpp), traced into `temps` first. Null after reporting the error.
  mlir::OwningOpRef<mlir::ModuleOp> read(const std::string &path, const TempFolder &temps);

private:
  mlir::MLIRContext mlirContext;
  llvm::SourceMgr sources;
  mlir::SourceMgrDiagnosticHandler diagnostics;
  TracedLineNotes tracedLines;
};

} // namespace kiln

#endif
