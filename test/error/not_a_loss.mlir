// RUN: not kiln compile %s -o %t 2>&1 | FileCheck %s
// CHECK: not_a_loss.mlir:[[@LINE+1]]:1: error: kiln-autodiff: @forward must return the loss as tensor<f32> first
func.func @forward(%x: tensor<3xf32> {kiln.param = "x", kiln.fan_in = 1 : i64}) -> tensor<3xf32> {
  return %x : tensor<3xf32>
}
