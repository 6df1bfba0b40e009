// kiln-data-parallel: with kiln.ranks = R > 1, @grad's loss and each of its gradients get a
// kiln.all_reduce_sum right after the op that computes them, named by what they add up; a
// value returned twice is exchanged once. Without kiln.ranks, or with R = 1, nothing changes.
// RUN: kiln-opt %s --split-input-file --kiln-autodiff --kiln-data-parallel | FileCheck %s
// RUN: kiln-opt %s --split-input-file --kiln-autodiff --kiln-data-parallel --kiln-fuse | FileCheck %s --check-prefix=FUSED

module attributes {kiln.ranks = 2 : i64} {
  func.func @forward(%w: tensor<2x3xf32> {kiln.param = "w"}, %x: tensor<4x2xf32> {kiln.input = "x"})
      -> (tensor<f32> {kiln.output = "loss"}, tensor<4x3xf32> {kiln.output = "h"}) {
    %h = kiln.matmul %x, %w : (tensor<4x2xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
    %e = kiln.exp %h : (tensor<4x3xf32>) -> tensor<4x3xf32>
    %l = kiln.reduce_sum %e {dimensions = array<i64: 0, 1>} : (tensor<4x3xf32>) -> tensor<f32>
    return %l, %h : tensor<f32>, tensor<4x3xf32>
  }
}
// CHECK-LABEL: func.func @grad
// CHECK: %[[L:.+]] = kiln.reduce_sum
// CHECK-NEXT: %[[SL:.+]] = kiln.all_reduce_sum %[[L]] {kiln.of = "loss"} : tensor<f32>
// CHECK: %[[G:.+]] = kiln.matmul {{.*}} -> tensor<2x3xf32>
// CHECK-NEXT: %[[SG:.+]] = kiln.all_reduce_sum %[[G]] {kiln.of = "w.grad"} : tensor<2x3xf32>
// CHECK: return %[[SL]], %{{.+}}, %[[SG]]

// Fusion keeps the collectives between kernels: the operand is a kernel's output, the result
// another kernel's input or a returned value.
// FUSED-LABEL: func.func @grad
// FUSED: %[[K:.+]] = kiln.kernel "reduce_sum
// FUSED: kiln.all_reduce_sum %[[K]] {kiln.of = "loss"}
// FUSED: %[[KG:.+]] = kiln.kernel "matmul"(%arg1, %{{.+}}) {{.*}} -> tensor<2x3xf32>
// FUSED: kiln.all_reduce_sum %[[KG]] {kiln.of = "w.grad"}

// -----

func.func @forward(%w: tensor<2x3xf32> {kiln.param = "w"}, %x: tensor<4x2xf32> {kiln.input = "x"})
    -> (tensor<f32> {kiln.output = "loss"}) {
  %h = kiln.matmul %x, %w : (tensor<4x2xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  %l = kiln.reduce_sum %h {dimensions = array<i64: 0, 1>} : (tensor<4x3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
// CHECK-LABEL: func.func @grad
// CHECK-NOT: all_reduce_sum
// CHECK: return
