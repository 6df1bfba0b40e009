// Elementwise primitives: operands and result share one shape (broadcasts are explicit). The
// shape rule is the Elementwise trait's verifier; the result type is the operand's, defined here.
#ifndef KILN_ELEMENTWISE_OPS_TD
#define KILN_ELEMENTWISE_OPS_TD

include "ir/KilnDialect.td"

// The result has the type of the operand `getter` returns.
class Kiln_TypeOfOperand<string getter> {
  code definition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(::mlir::MLIRContext *, std::optional<::mlir::Location>,
                                                      Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      types.push_back(adaptor.}] # getter # [{().getType());
      return ::mlir::success();
    }
  }];
}

class Kiln_BinaryOp<string mnemonic, string math, list<Trait> traits = []>
    : Kiln_Op<mnemonic, !listconcat(traits, [Kiln_Elementwise])> {
  let summary = "elementwise " # math;
  let description = "Computes `" # math # "` element by element. Both operands and the "
    # "result have the same shape; use `kiln.broadcast_in_dim` to broadcast first.\n\n"
    # "```mlir\n%z = kiln." # mnemonic # " %x, %y : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>\n```";
  let arguments = (ins Kiln_F32Tensor:$lhs, Kiln_F32Tensor:$rhs);
  let results = (outs Kiln_F32Tensor:$result);
  let extraClassDefinition = Kiln_TypeOfOperand<"getLhs">.definition;
}

def Kiln_AddOp : Kiln_BinaryOp<"add", "lhs + rhs", [Commutative]> { let hasFolder = 1; }
def Kiln_SubOp : Kiln_BinaryOp<"sub", "lhs - rhs"> { let hasFolder = 1; }
def Kiln_MulOp : Kiln_BinaryOp<"mul", "lhs * rhs", [Commutative]> { let hasFolder = 1; }
def Kiln_DivOp : Kiln_BinaryOp<"div", "lhs / rhs"> { let hasFolder = 1; }
def Kiln_MaxOp : Kiln_BinaryOp<"max", "max(lhs, rhs); at ties each side gets half the gradient, as in PyTorch", [Commutative]>;
def Kiln_MinOp : Kiln_BinaryOp<"min", "min(lhs, rhs); at ties each side gets half the gradient, as in PyTorch", [Commutative]>;

class Kiln_UnaryOp<string mnemonic, string math, list<Trait> traits = [Kiln_Elementwise]>
    : Kiln_Op<mnemonic, traits> {
  let summary = "elementwise " # math;
  let description = "Computes `" # math # "` element by element.\n\n"
    # "```mlir\n%y = kiln." # mnemonic # " %x : (tensor<4xf32>) -> tensor<4xf32>\n```";
  let arguments = (ins Kiln_F32Tensor:$operand);
  let results = (outs Kiln_F32Tensor:$result);
  let extraClassDefinition = Kiln_TypeOfOperand<"getOperand">.definition;
}

def Kiln_NegOp : Kiln_UnaryOp<"neg", "-x">;
def Kiln_ExpOp : Kiln_UnaryOp<"exp", "exp(x)">;
def Kiln_LogOp : Kiln_UnaryOp<"log", "log(x)">;
def Kiln_SqrtOp : Kiln_UnaryOp<"sqrt", "sqrt(x)">;
def Kiln_StopGradientOp : Kiln_UnaryOp<"stop_gradient", "x, with no gradient flowing back (a constant to autodiff)",
                                       [Kiln_IndexOnly, Kiln_Dimensions]> {
  let hasVerifier = 1;  // an index-only op: the Elementwise trait's shape rule is not its own
}
def Kiln_AbsOp : Kiln_UnaryOp<"abs", "|x|; its gradient at 0 is 0, as in PyTorch">;
def Kiln_SinOp : Kiln_UnaryOp<"sin", "sin(x)">;
def Kiln_CosOp : Kiln_UnaryOp<"cos", "cos(x)">;
def Kiln_ErfOp : Kiln_UnaryOp<"erf", "erf(x), the error function (GELU's)">;

def Kiln_CompareOp : Kiln_Op<"compare", [Kiln_Elementwise]> {
  let summary = "elementwise comparison giving an i1 mask";
  let description = [{
    Compares two f32 tensors of the same shape element by element with `direction`, one of
    EQ, NE, LT, LE, GT, GE. Not differentiable.

    ```mlir
    %m = kiln.compare %x, %zero {direction = "GT"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
    ```
  }];
  let arguments = (ins Kiln_F32Tensor:$lhs, Kiln_F32Tensor:$rhs, StrAttr:$direction);
  let results = (outs Kiln_MaskTensor:$result);
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Kiln_SelectOp : Kiln_Op<"select", [Kiln_Elementwise]> {
  let summary = "elementwise choice between two tensors by an i1 mask";
  let description = [{
    `result[i] = pred[i] ? on_true[i] : on_false[i]`; all three have the same shape.

    ```mlir
    %y = kiln.select %m, %x, %zero : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins Kiln_MaskTensor:$pred, Kiln_F32Tensor:$on_true, Kiln_F32Tensor:$on_false);
  let results = (outs Kiln_F32Tensor:$result);
  let extraClassDefinition = Kiln_TypeOfOperand<"getOnTrue">.definition;
  let hasFolder = 1;
}

def Kiln_OneHotOp : Kiln_Op<"one_hot", [Kiln_IndexOnly, Kiln_Dimensions]> {
  let summary = "one-hot encoding of integer labels";
  let description = [{
    Appends a dimension of size `classes`: `result[i..., c] = labels[i...] == c ? 1 : 0`.
    A label outside [0, classes) gives a row of zeros. Not differentiable.

    ```mlir
    %h = kiln.one_hot %labels {classes = 10 : i64} : (tensor<50xi32>) -> tensor<50x10xf32>
    ```
  }];
  let arguments = (ins Kiln_TensorOf<[I32]>:$labels, I64Attr:$classes);
  let results = (outs Kiln_F32Tensor:$result);
  let hasVerifier = 1;
}

def Kiln_ConstantOp : Kiln_Op<"constant", [ConstantLike, Kiln_Dimensions]> {
  let summary = "a constant tensor";
  let description = [{
    A dense constant; splats are the common case (scalars broadcast by value).

    ```mlir
    %c = kiln.constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Kiln_AnyTensor:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
  let hasFolder = 1;
  let hasVerifier = 1;
}

#endif
