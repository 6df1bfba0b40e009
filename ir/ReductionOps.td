// Reductions: remove the dimensions they reduce over.
#ifndef KILN_REDUCTION_OPS_TD
#define KILN_REDUCTION_OPS_TD

include "ir/KilnDialect.td"

class Kiln_ReduceOp<string mnemonic, string what> : Kiln_Op<mnemonic, [Kiln_Reduction, Kiln_Dimensions]> {
  let summary = what # " over dimensions";
  let description = "Reduces with " # what # " over `dimensions` (strictly increasing); "
    # "those dimensions are removed from the result.\n\n"
    # "```mlir\n%s = kiln." # mnemonic # " %x {dimensions = array<i64: 0>} : "
    # "(tensor<100x10xf32>) -> tensor<10xf32>\n```";
  let arguments = (ins Kiln_F32Tensor:$operand, DenseI64ArrayAttr:$dimensions);
  let results = (outs Kiln_F32Tensor:$result);
  let hasVerifier = 1;
}

def Kiln_ReduceSumOp : Kiln_ReduceOp<"reduce_sum", "the sum">;
def Kiln_ReduceMeanOp : Kiln_ReduceOp<"reduce_mean", "the mean">;
def Kiln_ReduceMaxOp : Kiln_ReduceOp<"reduce_max", "the maximum (ties share the gradient evenly, as PyTorch's amax)">;

#endif
