// Pooling over the spatial dimensions of NCHW tensors, and the gradients of pooling.
#ifndef KILN_POOLING_OPS_TD
#define KILN_POOLING_OPS_TD

include "ir/KilnDialect.td"

class Kiln_PoolOp<string mnemonic, list<Trait> traits = []>
    : Kiln_Op<mnemonic, !listconcat([Kiln_Pooling], traits)> {
  let hasVerifier = 1;
}

def Kiln_MaxPool2dOp : Kiln_PoolOp<"max_pool2d", [Kiln_Dimensions]> {
  let summary = "2-D max pooling over NCHW";
  let description = [{
    `result[n, c, i, j] = max_{p, q} input[n, c, i*sh - ph + p, j*sw - pw + q]`, padding reads
    -inf. Output size: `(size + 2 pad - kernel) / stride + 1`. The gradient goes to the first
    maximum of each window in row-major order, as PyTorch's does.

    ```mlir
    %y = kiln.max_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>}
           : (tensor<50x16x28x28xf32>) -> tensor<50x16x14x14xf32>
    ```
  }];
  let arguments = (ins Kiln_F32Tensor:$input, DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$stride,
                       DenseI64ArrayAttr:$padding);
  let results = (outs Kiln_F32Tensor:$result);
}

def Kiln_MaxPool2dGradOp : Kiln_PoolOp<"max_pool2d_grad"> {
  let summary = "gradient of max_pool2d with respect to its input";
  let description = [{
    Routes each `grad[n, c, i, j]` to the position of the first maximum of window (i, j) of
    `input` (row-major order within the window); positions that are no window's maximum get 0.

    ```mlir
    %dx = kiln.max_pool2d_grad %x, %dy {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>}
           : (tensor<50x16x28x28xf32>, tensor<50x16x14x14xf32>) -> tensor<50x16x28x28xf32>
    ```
  }];
  let arguments = (ins Kiln_F32Tensor:$input, Kiln_F32Tensor:$grad, DenseI64ArrayAttr:$kernel,
                       DenseI64ArrayAttr:$stride, DenseI64ArrayAttr:$padding);
  let results = (outs Kiln_F32Tensor:$result);
}

def Kiln_AvgPool2dOp : Kiln_PoolOp<"avg_pool2d", [Kiln_Dimensions]> {
  let summary = "2-D average pooling over NCHW";
  let description = [{
    `result[n, c, i, j] = sum_{p, q} input[n, c, i*sh - ph + p, j*sw - pw + q] / (kh kw)`,
    padding reads 0 and counts in the divisor (PyTorch's count_include_pad = True).

    ```mlir
    %y = kiln.avg_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>}
           : (tensor<50x16x28x28xf32>) -> tensor<50x16x14x14xf32>
    ```
  }];
  let arguments = (ins Kiln_F32Tensor:$input, DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$stride,
                       DenseI64ArrayAttr:$padding);
  let results = (outs Kiln_F32Tensor:$result);
}

def Kiln_AvgPool2dGradOp : Kiln_PoolOp<"avg_pool2d_grad"> {
  let summary = "gradient of avg_pool2d with respect to its input";
  let description = [{
    `result[n, c, h, w] = sum over the windows (i, j) containing (h, w) of grad[n, c, i, j] / (kh kw)`.
    `input_shape` is the pooled tensor's shape.

    ```mlir
    %dx = kiln.avg_pool2d_grad %dy {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>,
             padding = array<i64: 0, 0>, input_shape = array<i64: 50, 16, 28, 28>}
           : (tensor<50x16x14x14xf32>) -> tensor<50x16x28x28xf32>
    ```
  }];
  let arguments = (ins Kiln_F32Tensor:$grad, DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$stride,
                       DenseI64ArrayAttr:$padding, DenseI64ArrayAttr:$input_shape);
  let results = (outs Kiln_F32Tensor:$result);
}

#endif
