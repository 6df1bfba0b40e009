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

#endif
