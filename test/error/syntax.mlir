// A syntax error is reported with file:line:col and a non-zero exit.
// RUN: not kiln compile %s -o %t 2>&1 | FileCheck %s
// CHECK: syntax.mlir:[[@LINE+2]]:{{[0-9]+}}: error:
func.func @forward(%x: tensor<3xf32>) -> tensor<f32> {
  %0 = kiln.reduce_sum %x {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32
  return %0 : tensor<f32>
}
