// Collectives between the ranks (processes) of a data-parallel run.
#ifndef KILN_COMMUNICATION_OPS_TD
#define KILN_COMMUNICATION_OPS_TD

include "ir/KilnDialect.td"

// Not Pure: every rank's step must make the same exchanges in the same order, so nothing may
// drop, merge or move one.
def Kiln_AllReduceMeanOp : Op<Kiln_Dialect, "all_reduce_mean", [Kiln_Communication, SameOperandsAndResultType]> {
  let summary = "The mean of a value over every rank of a data-parallel run";
  let description = [{
    Each rank gives its own value; each receives the element-wise mean over all ranks. The
    data-parallel pass puts one on each gradient (each rank's gradient is that of the mean loss
    over its shard, so their mean is the gradient over the global batch) and one on the loss.
    Codegen starts the exchange as soon as the operand is computed and waits for it just
    before the first kernel that reads the result; in a single-process run it is the identity.

    ```mlir
    %g = kiln.all_reduce_mean %dw : tensor<10x1xf32>
    ```
  }];
  let arguments = (ins Kiln_F32Tensor:$operand);
  let results = (outs Kiln_F32Tensor:$result);
  let assemblyFormat = "$operand attr-dict `:` type($result)";
}

#endif
