// Registers the kiln dialect and implements the helpers shared by the op families.
#include "ir/Dialect.h"

#include "llvm/Support/CheckedArithmetic.h"

#include "mlir/IR/DialectImplementation.h"

#include "ir/KilnDialect.cpp.inc"
#include "ir/KilnInterfaces.cpp.inc"

using namespace mlir;

namespace kiln {

void KilnDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ir/KilnOps.cpp.inc"
      >();
}

Operation *KilnDialect::materializeConstant(OpBuilder &b, Attribute value, Type type, Location loc) {
  auto elements = llvm::dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(b, loc, type, elements);
}

RankedTensorType tensorOf(Type element, ArrayRef<int64_t> shape) { return RankedTensorType::get(shape, element); }

Value splat(OpBuilder &b, Location loc, RankedTensorType type, double value) {
  auto attr = DenseElementsAttr::get(type, llvm::ArrayRef<float>(static_cast<float>(value)));
  return ConstantOp::create(b, loc, type, attr);
}

Value broadcastScalar(OpBuilder &b, Location loc, Value scalar, RankedTensorType type) {
  if (scalar.getType() == type)
    return scalar;
  return BroadcastInDimOp::create(b, loc, scalar, b.getDenseI64ArrayAttr({}), b.getDenseI64ArrayAttr(type.getShape()));
}

Value unbroadcast(OpBuilder &b, Location loc, Value grad, RankedTensorType operandType,
                  ArrayRef<int64_t> broadcastDims) {
  auto gradType = llvm::cast<RankedTensorType>(grad.getType());
  // Sum over every result dimension that is new or was expanded from size 1.
  SmallVector<int64_t> summed;
  for (int64_t d = 0; d < gradType.getRank(); ++d) {
    auto it = llvm::find(broadcastDims, d);
    if (it == broadcastDims.end()) {
      summed.push_back(d);
      continue;
    }
    int64_t operandDim = it - broadcastDims.begin();
    if (operandType.getDimSize(operandDim) == 1 && gradType.getDimSize(d) != 1)
      summed.push_back(d);
  }
  Value result = grad;
  if (!summed.empty())
    result = ReduceSumOp::create(b, loc, grad, b.getDenseI64ArrayAttr(summed));
  if (result.getType() != operandType)
    result = ReshapeOp::create(b, loc, result, b.getDenseI64ArrayAttr(operandType.getShape()));
  return result;
}

std::optional<double> splatValue(Value v) {
  auto c = v.getDefiningOp<ConstantOp>();
  if (!c)
    return std::nullopt;
  auto dense = llvm::dyn_cast<DenseElementsAttr>(c.getValue());
  if (!dense || !dense.isSplat() || !llvm::isa<FloatType>(dense.getElementType()))
    return std::nullopt;
  return dense.getSplatValue<APFloat>().convertToDouble();
}

bool isCountable(Type type) {
  auto tensor = llvm::dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return false;
  int64_t count = 1;
  for (int64_t d : tensor.getShape()) {
    std::optional<int64_t> next = d < 0 ? std::nullopt : llvm::checkedMul<int64_t>(count, std::max<int64_t>(d, 1));
    if (!next)
      return false;
    count = *next;
  }
  return true;
}

std::string shapeString(Type type) { return shapeString(llvm::cast<ShapedType>(type).getShape()); }

std::string shapeString(ArrayRef<int64_t> shape) {
  if (shape.empty())
    return "scalar";
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleave(shape, os, "x");
  return s;
}

ArrayRef<int64_t> shapeOf(Value v) { return llvm::cast<RankedTensorType>(v.getType()).getShape(); }

} // namespace kiln

#define GET_OP_CLASSES
#include "ir/KilnOps.cpp.inc"
