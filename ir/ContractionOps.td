// Contractions: the ops that carry most of a model's FLOPs.
#ifndef KILN_CONTRACTION_OPS_TD
#define KILN_CONTRACTION_OPS_TD

include "ir/KilnDialect.td"

def Kiln_MatmulOp : Kiln_Op<"matmul"> {
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

#endif
