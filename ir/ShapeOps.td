// Shape primitives: move elements without arithmetic.
#ifndef KILN_SHAPE_OPS_TD
#define KILN_SHAPE_OPS_TD

include "ir/KilnDialect.td"

def Kiln_BroadcastInDimOp : Kiln_Op<"broadcast_in_dim", [Kiln_IndexOnly, Kiln_Dimensions]> {
  let summary = "broadcast a tensor to a larger shape";
  let description = [{
    Operand dimension `i` becomes result dimension `broadcast_dimensions[i]` (strictly
    increasing); an operand dimension of size 1 may expand, any other must match. Result
    dimensions not named are new. The result shape is the `shape` attribute.

    ```mlir
    %b = kiln.broadcast_in_dim %bias {broadcast_dimensions = array<i64: 1>, shape = array<i64: 100, 10>}
           : (tensor<10xf32>) -> tensor<100x10xf32>
    ```
  }];
  let arguments = (ins Kiln_AnyTensor:$operand, DenseI64ArrayAttr:$broadcast_dimensions,
                       DenseI64ArrayAttr:$shape);
  let results = (outs Kiln_AnyTensor:$result);
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Kiln_ReshapeOp : Kiln_Op<"reshape", [Kiln_IndexOnly, Kiln_Dimensions]> {
  let summary = "reinterpret a tensor's row-major elements with a new shape";
  let description = [{
    The element count must be unchanged.

    ```mlir
    %r = kiln.reshape %x {shape = array<i64: 10>} : (tensor<10x1xf32>) -> tensor<10xf32>
    ```
  }];
  let arguments = (ins Kiln_AnyTensor:$operand, DenseI64ArrayAttr:$shape);
  let results = (outs Kiln_AnyTensor:$result);
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Kiln_TransposeOp : Kiln_Op<"transpose", [Kiln_IndexOnly, Kiln_Dimensions]> {
  let summary = "permute a tensor's dimensions";
  let description = [{
    Result dimension `i` is operand dimension `permutation[i]`.

    ```mlir
    %t = kiln.transpose %w {permutation = array<i64: 1, 0>} : (tensor<10x1xf32>) -> tensor<1x10xf32>
    ```
  }];
  let arguments = (ins Kiln_AnyTensor:$operand, DenseI64ArrayAttr:$permutation);
  let results = (outs Kiln_AnyTensor:$result);
  let hasVerifier = 1;
  let hasFolder = 1;
}

#endif
