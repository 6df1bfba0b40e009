// Op interfaces of the kiln dialect.
#ifndef KILN_INTERFACES_TD
#define KILN_INTERFACES_TD

include "mlir/IR/OpBase.td"

// Gradient rule of a primitive, implemented next to the op's shape rule.
def Kiln_GradientOpInterface : OpInterface<"GradientOpInterface"> {
  let cppNamespace = "::kiln";
  let description = [{
    Reverse-mode rule: given the adjoint of each result (null where the result does not
    reach the loss), build kiln ops computing the adjoint of each operand. A null entry in
    the returned vector means the operand has no gradient (integer or mask operands).
  }];
  let methods = [
    InterfaceMethod<"Builds the adjoints of the operands.",
      "::llvm::SmallVector<::mlir::Value>", "gradient",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::ValueRange":$resultGrads)>,
  ];
}

// Which dimensions of a non-elementwise op's operands and results are the same dimension:
// sizes that change together when a model is re-specialised (e.g. to another batch size).
// Elementwise ops need no rule: all their operands and results share one shape.
def Kiln_DimensionsOpInterface : OpInterface<"DimensionsOpInterface"> {
  let cppNamespace = "::kiln";
  let methods = [
    InterfaceMethod<"Calls `same(a, i, b, j)` for each dimension i of value a that is "
                    "dimension j of value b.",
      "void", "linkDimensions",
      (ins "::llvm::function_ref<void(::mlir::Value, int64_t, ::mlir::Value, int64_t)>":$same)>,
  ];
}

#endif
