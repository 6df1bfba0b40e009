// Dropout's IR: the generator's numbers are constants to autodiff (the gradient is the
// adjoint times the same mask, nothing flows to the key), and fusion computes them in a kernel
// of their own whose buffer the forward's epilogue and the gradient's prologue both read.
// RUN: kiln-opt %s --kiln-autodiff --canonicalize --cse | FileCheck %s
// RUN: kiln-opt %s --kiln-autodiff --canonicalize --cse --kiln-fuse | FileCheck %s --check-prefix=FUSED

// CHECK-LABEL: func.func @grad
// CHECK-SAME: %[[KEY:[a-z0-9]+]]: tensor<4xi32> {kiln.random}
// CHECK-SAME: -> (tensor<f32> {kiln.output = "loss"}, tensor<4x8xf32> {kiln.grad_of = "w"})
// CHECK: %[[U:.*]] = kiln.random_uniform %[[KEY]] {shape = array<i64: 16, 8>, stream = 0 : i64}
// CHECK: %[[KEEP:.*]] = kiln.compare %[[U]], %{{.*}} {direction = "LT"}
// CHECK: %[[MASK:.*]] = kiln.select %[[KEEP]]
// CHECK: %[[Y:.*]] = kiln.mul %[[H:.*]], %[[MASK]]
// CHECK: %[[E:.*]] = kiln.exp %[[Y]]
// CHECK: %[[DY:.*]] = kiln.mul %[[E]], %[[MASK]]
// CHECK: kiln.matmul %{{.*}}, %[[DY]]
// CHECK-NOT: kiln.random_uniform
// CHECK: return

// FUSED-LABEL: func.func @grad
// FUSED: %[[U:.*]] = kiln.kernel "random_uniform"(%{{.*}}) {{.*}} : (tensor<4xi32>) -> tensor<16x8xf32>
// FUSED: kiln.kernel "exp_matmul_compare_select_etc"(%{{.*}}, %{{.*}}, %[[U]])
// FUSED: kiln.kernel "reduce_sum"
// FUSED: kiln.kernel "matmul_compare_select_mul"(%[[U]],
// FUSED-NOT: kiln.kernel
// FUSED: return
func.func @forward(%w: tensor<4x8xf32> {kiln.param = "w"}, %x: tensor<16x4xf32> {kiln.input = "x"}, %key: tensor<4xi32> {kiln.random})
    -> (tensor<f32> {kiln.output = "loss"}) attributes {kiln.role = "forward"} {
  %h = kiln.matmul %x, %w : (tensor<16x4xf32>, tensor<4x8xf32>) -> tensor<16x8xf32>
  %u = kiln.random_uniform %key {shape = array<i64: 16, 8>, stream = 0 : i64} : (tensor<4xi32>) -> tensor<16x8xf32>
  %p = kiln.constant {value = dense<7.500000e-01> : tensor<16x8xf32>} : tensor<16x8xf32>
  %keep = kiln.compare %u, %p {direction = "LT"} : (tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<16x8xi1>
  %s = kiln.constant {value = dense<1.33333337> : tensor<16x8xf32>} : tensor<16x8xf32>
  %z = kiln.constant {value = dense<0.000000e+00> : tensor<16x8xf32>} : tensor<16x8xf32>
  %m = kiln.select %keep, %s, %z : (tensor<16x8xi1>, tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<16x8xf32>
  %y = kiln.mul %h, %m : (tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<16x8xf32>
  %e = kiln.exp %y : (tensor<16x8xf32>) -> tensor<16x8xf32>
  %l = kiln.reduce_sum %e {dimensions = array<i64: 0, 1>} : (tensor<16x8xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
