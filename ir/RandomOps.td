// Random numbers drawn inside the compiled step by a counter-based generator.
#ifndef KILN_RANDOM_OPS_TD
#define KILN_RANDOM_OPS_TD

include "ir/KilnDialect.td"

def Kiln_RandomUniformOp : Kiln_Op<"random_uniform", [Kiln_Random, Kiln_Dimensions]> {
  let summary = "uniform numbers in [0, 1) from the run's counter-based generator";
  let description = [{
    Element `i` (row-major) of the result is drawn by Philox4x32-10 with the key
    (`key[0]`, `key[1]`) and the counter (i, `stream`, `key[2]`, `key[3]`): the first of
    Philox's four 32-bit outputs, its top 24 bits times 2^-24. The runtime writes `key` before
    each train step as (the run's seed, low and high 32 bits; the step t = 1, 2, ...; the
    rank), so a step's numbers are a pure function of (seed, step, rank, op) with no generator
    state to save: the same on a rerun, after a resume, and on every target. `stream` tells
    the ops of one step apart (the frontend numbers them in the order it traces them). The
    result shape is the `shape` attribute; it holds fewer than 2^32 elements. Not
    differentiable: the numbers are constants to autodiff.

    ```mlir
    %u = kiln.random_uniform %key {shape = array<i64: 50, 1568>, stream = 0 : i64}
           : (tensor<4xi32>) -> tensor<50x1568xf32>
    ```
  }];
  let arguments = (ins Kiln_TensorOf<[I32]>:$key, DenseI64ArrayAttr:$shape, I64Attr:$stream);
  let results = (outs Kiln_F32Tensor:$result);
  let hasVerifier = 1;
}

#endif
