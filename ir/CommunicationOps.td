// Collectives between the ranks (processes) of a data-parallel run.
#ifndef KILN_COMMUNICATION_OPS_TD
#define KILN_COMMUNICATION_OPS_TD

include "ir/KilnDialect.td"

// Not Pure: every rank's step must make the same exchanges in the same order, so nothing may
// drop, merge or move one.
def Kiln_AllReduceSumOp : Op<Kiln_Dialect, "all_reduce_sum", [Kiln_Communication, SameOperandsAndResultType]> {
  let summary = "The sum of a value over every rank of a data-parallel run";
  let description = [{
    Each rank gives its own value; each receives the element-wise sum over all ranks. Each
    rank's step computes its share of the global batch's loss (its means over the batch divide
    by the whole batch), so the data-parallel pass puts one on the loss and one on each
    gradient to give every rank the whole batch's. Codegen starts the exchange as soon as the
    operand is computed and waits for it just before the first kernel that reads the result.

    ```mlir
    %g = kiln.all_reduce_sum %dw : tensor<10x1xf32>
    ```
  }];
  let arguments = (ins Kiln_F32Tensor:$operand);
  let results = (outs Kiln_F32Tensor:$result);
  let assemblyFormat = "$operand attr-dict `:` type($result)";
}

#endif
