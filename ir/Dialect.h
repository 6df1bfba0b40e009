// The kiln dialect's C++ declarations (generated from the .td files) and shared helpers.
#ifndef KILN_IR_DIALECT_H
#define KILN_IR_DIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "ir/Traits.h"

#include "ir/KilnDialect.h.inc"

namespace kiln {
// linkDimensions' callback: dimension i of value a is dimension j of value b.
using SameDimension = llvm::function_ref<void(mlir::Value, int64_t, mlir::Value, int64_t)>;
} // namespace kiln

#include "ir/KilnInterfaces.h.inc"

#define GET_OP_CLASSES
#include "ir/KilnOps.h.inc"

namespace kiln {

// `tensor<shape x f32>` and friends.
mlir::RankedTensorType tensorOf(mlir::Type element, llvm::ArrayRef<int64_t> shape);

// A splat constant of `type` holding `value`.
mlir::Value splat(mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType type, double value);

// Broadcasts a rank-0 tensor to `type`'s shape.
mlir::Value broadcastScalar(mlir::OpBuilder &b, mlir::Location loc, mlir::Value scalar, mlir::RankedTensorType type);

// Reverses a broadcast_in_dim: sums `grad` (the result shape) back to `operandType`.
mlir::Value unbroadcast(mlir::OpBuilder &b, mlir::Location loc, mlir::Value grad, mlir::RankedTensorType operandType,
                        llvm::ArrayRef<int64_t> broadcastDims);

// The splat value of `v` if it is produced by a splat kiln.constant.
std::optional<double> splatValue(mlir::Value v);

// Whether `type` is a ranked tensor whose dimensions (zeros counted as ones) multiply to less
// than 2^63: what the dialect's tensor types require.
bool isCountable(mlir::Type type);

// "4x5" for a shape, "scalar" for rank 0: used in error messages.
std::string shapeString(mlir::Type type);
std::string shapeString(llvm::ArrayRef<int64_t> shape);

// The shape of a ranked tensor value.
llvm::ArrayRef<int64_t> shapeOf(mlir::Value v);

// Whether `op` computes element by element (arithmetic, math, compare, select).
// stop_gradient computes nothing and is IndexOnly instead.
inline bool isElementwise(mlir::Operation *op) { return op->hasTrait<OpTrait::Elementwise>(); }

} // namespace kiln

#endif
