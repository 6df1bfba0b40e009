// Contractions: the ops that carry most of a model's FLOPs.
#ifndef KILN_CONTRACTION_OPS_TD
#define KILN_CONTRACTION_OPS_TD

include "ir/KilnDialect.td"

def Kiln_MatmulOp : Kiln_Op<"matmul", [Kiln_Contraction, Kiln_Dimensions]> {
  let summary = "matrix product of two rank-2 tensors";
  let description = [{
    `result[m, n] = sum_k lhs[m, k] * rhs[k, n]`.

    ```mlir
    %y = kiln.matmul %x, %w : (tensor<100x1xf32>, tensor<1x10xf32>) -> tensor<100x10xf32>
    ```
  }];
  let arguments = (ins Kiln_F32Tensor:$lhs, Kiln_F32Tensor:$rhs);
  let results = (outs Kiln_F32Tensor:$result);
  let hasVerifier = 1;
}

class Kiln_ConvOp<string mnemonic, list<Trait> traits = []>
    : Kiln_Op<mnemonic, !listconcat([Kiln_Contraction], traits)> {
  let hasVerifier = 1;
}

def Kiln_Conv2dOp : Kiln_ConvOp<"conv2d", [Kiln_Dimensions]> {
  let summary = "2-D convolution (cross-correlation), NCHW input and OIHW filter";
  let description = [{
    `result[n, o, i, j] = sum_{c, p, q} input[n, c, i*sh - ph + p*dh, j*sw - pw + q*dw] *
    filter[o, c, p, q]`, reading zeros outside the input (zero padding). Output size per
    spatial dimension: `(size + 2 pad - dilation (k - 1) - 1) / stride + 1`. No bias: the
    frontend adds it with a broadcast.

    ```mlir
    %y = kiln.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 2, 2>,
                             dilation = array<i64: 1, 1>}
           : (tensor<50x1x28x28xf32>, tensor<16x1x5x5xf32>) -> tensor<50x16x28x28xf32>
    ```
  }];
  let arguments = (ins Kiln_F32Tensor:$input, Kiln_F32Tensor:$filter, DenseI64ArrayAttr:$stride,
                       DenseI64ArrayAttr:$padding, DenseI64ArrayAttr:$dilation);
  let results = (outs Kiln_F32Tensor:$result);
}

def Kiln_Conv2dInputGradOp : Kiln_ConvOp<"conv2d_input_grad"> {
  let summary = "gradient of conv2d with respect to its input (a transposed convolution)";
  let description = [{
    `result[n, c, h, w] = sum_{o, p, q} grad[n, o, i, j] * filter[o, c, p, q]` over the (i, j)
    with `h = i*sh - ph + p*dh` and `w = j*sw - pw + q*dw`. `input_shape` is the shape of the
    convolution's input, which the output size alone does not determine when stride > 1.

    ```mlir
    %dx = kiln.conv2d_input_grad %dy, %w {stride = array<i64: 1, 1>, padding = array<i64: 2, 2>,
             dilation = array<i64: 1, 1>, input_shape = array<i64: 50, 16, 14, 14>}
           : (tensor<50x32x14x14xf32>, tensor<32x16x5x5xf32>) -> tensor<50x16x14x14xf32>
    ```
  }];
  let arguments = (ins Kiln_F32Tensor:$grad, Kiln_F32Tensor:$filter, DenseI64ArrayAttr:$stride,
                       DenseI64ArrayAttr:$padding, DenseI64ArrayAttr:$dilation,
                       DenseI64ArrayAttr:$input_shape);
  let results = (outs Kiln_F32Tensor:$result);
}

def Kiln_Conv2dFilterGradOp : Kiln_ConvOp<"conv2d_filter_grad"> {
  let summary = "gradient of conv2d with respect to its filter";
  let description = [{
    `result[o, c, p, q] = sum_{n, i, j} grad[n, o, i, j] * input[n, c, i*sh - ph + p*dh,
    j*sw - pw + q*dw]` (zero outside the input). `filter_shape` is the filter's shape.

    ```mlir
    %dw = kiln.conv2d_filter_grad %x, %dy {stride = array<i64: 1, 1>, padding = array<i64: 2, 2>,
             dilation = array<i64: 1, 1>, filter_shape = array<i64: 16, 1, 5, 5>}
           : (tensor<50x1x28x28xf32>, tensor<50x16x28x28xf32>) -> tensor<16x1x5x5xf32>
    ```
  }];
  let arguments = (ins Kiln_F32Tensor:$input, Kiln_F32Tensor:$grad, DenseI64ArrayAttr:$stride,
                       DenseI64ArrayAttr:$padding, DenseI64ArrayAttr:$dilation,
                       DenseI64ArrayAttr:$filter_shape);
  let results = (outs Kiln_F32Tensor:$result);
}

#endif
