// The MLIR state behind a kiln::Trace (private to the frontend).
#ifndef KILN_FRONTEND_TRACEIMPL_H
#define KILN_FRONTEND_TRACEIMPL_H

#include "ir/Dialect.h"
#include "kiln/Tensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

namespace kiln {

struct Trace::Impl {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::func::FuncOp forward;
  std::unique_ptr<mlir::OpBuilder> builder;
  std::vector<mlir::DictionaryAttr> argAttrs;
  std::vector<std::pair<std::string, mlir::Value>> outputs;
  std::string model;
  TrainConfig trainConfig;
  double lr = 0.01;

  mlir::Location loc(Where at);
  static Tensor wrap(Trace *trace, mlir::Value v);
  static mlir::Value unwrap(const Tensor &t);
};

} // namespace kiln

#endif
