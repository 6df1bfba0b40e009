// The MLIR state behind a kiln::Trace (private to the frontend).
#ifndef KILN_FRONTEND_TRACEIMPL_H
#define KILN_FRONTEND_TRACEIMPL_H

#include "ir/Dialect.h"
#include "kiln/contract.h"
#include "kiln/Tensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

#include <map>
#include <optional>

namespace kiln {

// One traced function: an entry of the compiled binary.
struct Entry {
  mlir::func::FuncOp func;
  std::unique_ptr<mlir::OpBuilder> builder;
  std::vector<mlir::DictionaryAttr> argAttrs;
  std::vector<std::pair<std::string, mlir::Value>> outputs;
  // Parameters and buffers by name, created on first use.
  struct ModuleTensor {
    mlir::Value value;
    const char *kind; // "parameter" or "buffer"
  };
  std::map<std::string, ModuleTensor> moduleTensors;
  std::vector<std::pair<std::string, mlir::Value>> updates; // buffers' new values, in order
  EntryKind kind = EntryKind::train;
  mlir::Value randomKey; // the generator's key argument, created by the first random op
  int64_t randomOps = 0; // random ops traced so far: the next one's stream
};

struct Trace::Impl {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::vector<Entry> entries; // the last one is being traced
  std::string model;
  TrainConfig trainConfig;
  double lr = 0.01;

  Entry &current() { return entries.back(); }
  mlir::OpBuilder &builder() { return *current().builder; }
  void startEntry(const std::string &name, EntryKind kind);
  void endEntry(const Tensor &loss);
  // Ends the entry with arbitrary results (the first one need not be a loss) and sets its role,
  // when given.
  void endEntry(const std::vector<Tensor> &results, std::optional<FunctionRole> role);
  mlir::Location loc(Where at);
  // The current entry's generator key (kiln.random, tensor<4xi32>), added on first use; a
  // train entry's only: an eval entry has no step to count from. `what` names the caller.
  mlir::Value randomKey(const std::string &what, Where at);
  static Tensor wrap(Trace *trace, mlir::Value v);
  static mlir::Value unwrap(const Tensor &t);
};

} // namespace kiln

#endif
