// Reading the model a tool was given, and the folder of intermediate files its build uses.
#ifndef KILN_COMPILER_MODELINPUT_H
#define KILN_COMPILER_MODELINPUT_H

#include "mlir/IR/BuiltinOps.h"
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

// The model the user named: MODEL.mlir, a whole-net checkpoint (NET.safetensors, whose metadata
// carries the IR), or a DSL file (MODEL.cpp), traced into `temps` first. Null after reporting the
// error through the context's handler or stderr.
mlir::OwningOpRef<mlir::ModuleOp> loadModel(mlir::MLIRContext &context, llvm::SourceMgr &sources,
                                            const std::string &path, const TempFolder &temps);

} // namespace kiln

#endif
