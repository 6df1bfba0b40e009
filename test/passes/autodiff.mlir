// kiln-autodiff: @grad returns the loss, the forward's other results, then one gradient per
// kiln.param argument, built from kiln ops by each op's rule.
// RUN: kiln-opt %s --kiln-autodiff | FileCheck %s
// RUN: kiln-opt %s --kiln-autodiff --canonicalize --cse | FileCheck %s --check-prefix=CLEAN

func.func @forward(%w: tensor<2x3xf32> {kiln.param = "w"}, %x: tensor<4x2xf32> {kiln.input = "x"})
    -> (tensor<f32> {kiln.output = "loss"}, tensor<4x3xf32> {kiln.output = "h"}) {
  %h = kiln.matmul %x, %w : (tensor<4x2xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  %e = kiln.exp %h : (tensor<4x3xf32>) -> tensor<4x3xf32>
  %l = kiln.reduce_sum %e {dimensions = array<i64: 0, 1>} : (tensor<4x3xf32>) -> tensor<f32>
  return %l, %h : tensor<f32>, tensor<4x3xf32>
}

// The forward function is kept as it was.
// CHECK-LABEL: func.func @forward
// CHECK-LABEL: func.func @grad
// CHECK-SAME: (%[[W:.*]]: tensor<2x3xf32> {kiln.param = "w"}, %[[X:.*]]: tensor<4x2xf32> {kiln.input = "x"})
// CHECK-SAME: -> (tensor<f32> {kiln.output = "loss"}, tensor<4x3xf32> {kiln.output = "h"}, tensor<2x3xf32> {kiln.grad_of = "w"})
// CHECK: %[[H:.*]] = kiln.matmul %[[X]], %[[W]]
// CHECK: %[[E:.*]] = kiln.exp %[[H]]
// CHECK: %[[L:.*]] = kiln.reduce_sum %[[E]]
// The seed d loss = 1, spread back over the summed dimensions:
// CHECK: %[[ONE:.*]] = kiln.constant {value = dense<1.000000e+00> : tensor<f32>}
// CHECK: %[[DE:.*]] = kiln.broadcast_in_dim %[[ONE]] {broadcast_dimensions = array<i64>, shape = array<i64: 4, 3>}
// d exp(h) = exp(h) dh:
// CHECK: %[[DH:.*]] = kiln.mul %[[DE]], %[[E]]
// d (x w) / d w = x^T dh:
// CHECK: %[[XT:.*]] = kiln.transpose %[[X]] {permutation = array<i64: 1, 0>}
// CHECK: %[[DW:.*]] = kiln.matmul %[[XT]], %[[DH]]
// CHECK: return %[[L]], %[[H]], %[[DW]]

// The input x gets no gradient: only what depends on a param is differentiated.
// CHECK-NOT: kiln.grad_of = "x"

// After canonicalization the seed's broadcast folds into a splat of ones and 1 * exp(h)
// folds to exp(h), so d w = x^T exp(x w) directly.
// CLEAN-LABEL: func.func @grad
// CLEAN: %[[H:.*]] = kiln.matmul %arg1, %arg0
// CLEAN: %[[E:.*]] = kiln.exp %[[H]]
// CLEAN-NOT: kiln.broadcast_in_dim
// CLEAN-NOT: kiln.mul
// CLEAN: %[[XT:.*]] = kiln.transpose %arg1
// CLEAN: %[[DW:.*]] = kiln.matmul %[[XT]], %[[E]]
// CLEAN: return %{{.*}}, %[[H]], %[[DW]]
