// An error in a traced model names the line of the .mlir being compiled, then the DSL line the
// op was traced from: the IR is what was edited, the DSL is where the op came from.
// RUN: not kiln compile %s -o %t 2>&1 | FileCheck %s
// CHECK: traced_line.mlir:[[@LINE+5]]:10: error: 'kiln.matmul' op result shape 8x5 should be 8x4
// CHECK-NEXT: {{.*}}kiln.matmul
// CHECK: net.cpp:12:0: note: traced from here
module attributes {kiln.train = {lr = 0.1 : f64}} {
  func.func @forward(%x: tensor<8x3xf32> {kiln.input = "x"}, %w: tensor<3x4xf32> {kiln.param = "w", kiln.fan_in = 3 : i64}) -> tensor<f32> {
    %0 = kiln.matmul %x, %w : (tensor<8x3xf32>, tensor<3x4xf32>) -> tensor<8x5xf32> loc(#net12)
    %1 = kiln.reduce_sum %0 {dimensions = array<i64: 0, 1>} : (tensor<8x5xf32>) -> tensor<f32> loc(#net13)
    return %1 : tensor<f32> loc(#net13)
  }
}
#net12 = loc("net.cpp":12:0)
#net13 = loc("net.cpp":13:0)
