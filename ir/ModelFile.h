// Reading a model's IR from text: the one entry point for the compiler and its fuzz target.
#ifndef KILN_IR_MODELFILE_H
#define KILN_IR_MODELFILE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

#include <memory>

namespace kiln {

// Parses `file` (added to `sources`) as a module and verifies it, refusing text nested deeper
// than the parser's stack allows. With `locateInFile`, every op is also located where it is
// written in `file`, before the location it carries (the DSL line it was traced from): errors
// then point at the text being compiled. A module the tracer left without a location is located
// at its line in `file`. Null after reporting the error through the context's diagnostics (a
// nesting error on stderr, without the source line).
mlir::OwningOpRef<mlir::ModuleOp> parseModel(mlir::MLIRContext &context, llvm::SourceMgr &sources,
                                             std::unique_ptr<llvm::MemoryBuffer> file, bool locateInFile);

// Whether `file` nests brackets no deeper than every kiln tool reads (the parser recurses once
// per level); false after printing where it goes deeper, without the source line.
bool nestedWithinLimit(llvm::MemoryBufferRef file);

// The line of the model's source an op comes from: the last file location in `loc` (the DSL
// line for a traced op, its place in the IR file for one written by hand); null if none.
mlir::FileLineColLoc sourceLine(mlir::Location loc);

// While alive, adds to each diagnostic at an op located in both the IR file and the DSL a note
// at the DSL line, and passes it on to the handler registered before it.
class TracedLineNotes : public mlir::ScopedDiagnosticHandler {
public:
  explicit TracedLineNotes(mlir::MLIRContext *context);
};

} // namespace kiln

#endif
