// The kinds of kiln op as C++ traits (declared in KilnDialect.td): `op->hasTrait<Reduction>()`.
#ifndef KILN_IR_TRAITS_H
#define KILN_IR_TRAITS_H

#include "mlir/IR/OpDefinition.h"

namespace kiln {
// The shape rule of every elementwise op: its operands and result share one shape.
mlir::LogicalResult verifySameShapes(mlir::Operation *op);
} // namespace kiln

namespace kiln::OpTrait {

template <typename Op> class Elementwise : public mlir::OpTrait::TraitBase<Op, Elementwise> {
public:
  static mlir::LogicalResult verifyTrait(mlir::Operation *op) { return verifySameShapes(op); }
};
template <typename Op> class IndexOnly : public mlir::OpTrait::TraitBase<Op, IndexOnly> {};
template <typename Op> class Contraction : public mlir::OpTrait::TraitBase<Op, Contraction> {};
template <typename Op> class Reduction : public mlir::OpTrait::TraitBase<Op, Reduction> {};
template <typename Op> class Pooling : public mlir::OpTrait::TraitBase<Op, Pooling> {};
template <typename Op> class Communication : public mlir::OpTrait::TraitBase<Op, Communication> {};
template <typename Op> class Random : public mlir::OpTrait::TraitBase<Op, Random> {};

} // namespace kiln::OpTrait

#endif
