// The generator's op: shape rule, verifier, and its (absent) gradient.
#include "ir/Dialect.h"

using namespace mlir;

namespace kiln {

LogicalResult RandomUniformOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location>, Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  types.push_back(tensorOf(Float32Type::get(ctx), adaptor.getShape()));
  return success();
}

LogicalResult RandomUniformOp::verify() {
  ArrayRef<int64_t> key = shapeOf(getKey());
  if (key.size() != 1 || key[0] != 4)
    return emitOpError() << "key must be tensor<4xi32> (seed low, seed high, step, rank), got " << getKey().getType();
  int64_t stream = getStreamAttr().getInt();
  if (stream < 0 || stream > int64_t(UINT32_MAX))
    return emitOpError() << "stream " << stream << " is outside [0, 2^32)";
  // The element index is Philox's first 32-bit counter word.
  int64_t elements = 1;
  for (int64_t d : getShape()) {
    if (d < 1)
      return emitOpError() << "shape " << shapeString(getShape()) << " has a dimension below 1";
    elements *= d;
    if (elements > int64_t(UINT32_MAX))
      return emitOpError() << "shape " << shapeString(getShape()) << " has 2^32 elements or more; "
                           << "the generator numbers them with 32 bits";
  }
  return success();
}

// The numbers are constants: no gradient reaches the key.
SmallVector<Value> RandomUniformOp::gradient(OpBuilder &, ValueRange) { return {Value()}; }

// The result's dimensions are whatever its readers make them (a batch, re-specialised through
// the elementwise op that applies the numbers).
void RandomUniformOp::linkDimensions(SameDimension) {}

} // namespace kiln
