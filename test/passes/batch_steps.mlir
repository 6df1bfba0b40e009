// kiln-batch-steps as kiln-opt runs it: the train entry re-specialised to 8 rows, and the 100
// rows of data leaving a last batch of 4, which gets a step of its own.
// RUN: kiln-opt %s --kiln-batch-steps="batch=8 data-rows=100" | FileCheck %s
// CHECK: kiln.train = {batch = 8 : i64
// CHECK: func.func @forward(%arg0: tensor<8x1xf32> {kiln.input = "x"}
// CHECK: func.func @forward_tail(%arg0: tensor<4x1xf32> {kiln.input = "x"}
// CHECK-SAME: kiln.role = "forward"

// Two ranks take 4 rows each, and the module says how many ranks there are.
// RUN: kiln-opt %s --kiln-batch-steps="batch=8 ranks=2" | FileCheck %s --check-prefix=RANKS
// RANKS: kiln.ranks = 2 : i64
// RANKS: func.func @forward(%arg0: tensor<4x1xf32>
// RANKS-NOT: @forward_tail

// A batch the ranks cannot share is refused, naming both.
// RUN: not kiln-opt %s --kiln-batch-steps="batch=9 ranks=2" 2>&1 | FileCheck %s --check-prefix=UNEVEN
// UNEVEN: error: --ranks 2: the global batch of 9 rows does not split evenly over 2 ranks

module attributes {kiln.model = "steps", kiln.optimizer = {name = "sgd"},
                   kiln.train = {dataset = "regression", steps = 2, lr = 0.1, batch = 10}} {
  func.func @forward(%x: tensor<10x1xf32> {kiln.input = "x"}, %w: tensor<1x1xf32> {kiln.param = "w", kiln.fan_in = 1 : i64})
      -> (tensor<f32> {kiln.output = "loss"}) {
    %p = kiln.matmul %x, %w : (tensor<10x1xf32>, tensor<1x1xf32>) -> tensor<10x1xf32>
    %l = kiln.reduce_mean %p {dimensions = array<i64: 0, 1>} : (tensor<10x1xf32>) -> tensor<f32>
    return %l : tensor<f32>
  }
}
