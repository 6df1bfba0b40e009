// kiln's folds, as run by MLIR's canonicalizer, and CSE merging duplicates.
// RUN: kiln-opt %s --canonicalize --cse | FileCheck %s

// CHECK-LABEL: func.func @identities
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
func.func @identities(%x: tensor<4xf32>) -> tensor<4xf32> {
  %zero = kiln.constant {value = dense<0.0> : tensor<4xf32>} : tensor<4xf32>
  %one = kiln.constant {value = dense<1.0> : tensor<4xf32>} : tensor<4xf32>
  %a = kiln.add %x, %zero : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %b = kiln.mul %one, %a : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %c = kiln.sub %b, %zero : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %d = kiln.div %c, %one : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  // CHECK-NOT: kiln.
  // CHECK: return %[[X]]
  return %d : tensor<4xf32>
}

// x * 0 must stay: it is NaN, not 0, for x = inf or NaN.
// CHECK-LABEL: func.func @times_zero_kept
// CHECK: kiln.mul
func.func @times_zero_kept(%x: tensor<4xf32>) -> tensor<4xf32> {
  %zero = kiln.constant {value = dense<0.0> : tensor<4xf32>} : tensor<4xf32>
  %a = kiln.mul %x, %zero : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %a : tensor<4xf32>
}

// CHECK-LABEL: func.func @splats
func.func @splats() -> tensor<2x3xf32> {
  %s = kiln.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %b = kiln.broadcast_in_dim %s {broadcast_dimensions = array<i64>, shape = array<i64: 2, 3>} : (tensor<f32>) -> tensor<2x3xf32>
  %c = kiln.add %b, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: %[[C:.*]] = kiln.constant {value = dense<4.000000e+00> : tensor<2x3xf32>}
  // CHECK-NEXT: return %[[C]]
  return %c : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @shapes
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
func.func @shapes(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<6xf32>) {
  %t = kiln.transpose %x {permutation = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %tt = kiln.transpose %t {permutation = array<i64: 1, 0>} : (tensor<3x2xf32>) -> tensor<2x3xf32>
  %r1 = kiln.reshape %x {shape = array<i64: 3, 2>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %r2 = kiln.reshape %r1 {shape = array<i64: 6>} : (tensor<3x2xf32>) -> tensor<6xf32>
  // CHECK: %[[R:.*]] = kiln.reshape %[[X]] {shape = array<i64: 6>}
  // CHECK-NEXT: return %[[X]], %[[R]]
  return %tt, %r2 : tensor<2x3xf32>, tensor<6xf32>
}

// CHECK-LABEL: func.func @cse
func.func @cse(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK-COUNT-1: kiln.exp
  // CHECK-NOT: kiln.exp
  %a = kiln.exp %x : (tensor<4xf32>) -> tensor<4xf32>
  %b = kiln.exp %x : (tensor<4xf32>) -> tensor<4xf32>
  %c = kiln.add %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %c : tensor<4xf32>
}

// Elementwise ops on broadcast scalars run on the scalars; the result is broadcast once.
// CHECK-LABEL: func.func @uniform_chain
// CHECK-SAME: (%[[T:.*]]: tensor<f32>, %[[X:.*]]: tensor<8xf32>)
// CHECK: %[[C:.*]] = kiln.constant {value = dense<5.000000e-01> : tensor<f32>}
// CHECK: %[[M:.*]] = kiln.mul %[[T]], %[[C]] : (tensor<f32>, tensor<f32>) -> tensor<f32>
// CHECK: %[[E:.*]] = kiln.exp %[[M]] : (tensor<f32>) -> tensor<f32>
// CHECK: %[[B:.*]] = kiln.broadcast_in_dim %[[E]] {broadcast_dimensions = array<i64>, shape = array<i64: 8>}
// CHECK: %[[R:.*]] = kiln.mul %[[X]], %[[B]] : (tensor<8xf32>, tensor<8xf32>)
// CHECK: return %[[R]]
func.func @uniform_chain(%t: tensor<f32>, %x: tensor<8xf32>) -> tensor<8xf32> {
  %tb = kiln.broadcast_in_dim %t {broadcast_dimensions = array<i64>, shape = array<i64: 8>} : (tensor<f32>) -> tensor<8xf32>
  %half = kiln.constant {value = dense<0.5> : tensor<8xf32>} : tensor<8xf32>
  %m = kiln.mul %tb, %half : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %e = kiln.exp %m : (tensor<8xf32>) -> tensor<8xf32>
  %r = kiln.mul %x, %e : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %r : tensor<8xf32>
}

// (x^T dy)^T becomes dy^T x: the transposes of the product cancel.
// CHECK-LABEL: func.func @transposed_product
// CHECK-SAME: (%[[X:.*]]: tensor<50x64xf32>, %[[DY:.*]]: tensor<50x10xf32>)
// CHECK: %[[DYT:.*]] = kiln.transpose %[[DY]] {permutation = array<i64: 1, 0>}
// CHECK: %[[P:.*]] = kiln.matmul %[[DYT]], %[[X]] : (tensor<10x50xf32>, tensor<50x64xf32>) -> tensor<10x64xf32>
// CHECK-NOT: kiln.transpose
// CHECK: return %[[P]]
func.func @transposed_product(%x: tensor<50x64xf32>, %dy: tensor<50x10xf32>) -> tensor<10x64xf32> {
  %xt = kiln.transpose %x {permutation = array<i64: 1, 0>} : (tensor<50x64xf32>) -> tensor<64x50xf32>
  %p = kiln.matmul %xt, %dy : (tensor<64x50xf32>, tensor<50x10xf32>) -> tensor<64x10xf32>
  %r = kiln.transpose %p {permutation = array<i64: 1, 0>} : (tensor<64x10xf32>) -> tensor<10x64xf32>
  return %r : tensor<10x64xf32>
}

// x < x and x > x are false whatever x holds, so a select on them picks its other side; x != x
// is true for NaN and stays, as does a select on it. (BatchNorm counts its batch with such a
// select: ones shaped as the batch, a constant once the shapes are final.)
// CHECK-LABEL: func.func @self_comparisons
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>, %[[Y:.*]]: tensor<4xf32>)
// CHECK: %[[NE:.*]] = kiln.compare %[[X]], %[[X]] {direction = "NE"}
// CHECK: %[[KEPT:.*]] = kiln.select %[[NE]], %[[X]], %[[Y]]
// CHECK-NOT: kiln.compare
// CHECK-NOT: kiln.select
// CHECK: return %[[Y]], %[[Y]], %[[KEPT]]
func.func @self_comparisons(%x: tensor<4xf32>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %lt = kiln.compare %x, %x {direction = "LT"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
  %gt = kiln.compare %x, %x {direction = "GT"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
  %ne = kiln.compare %x, %x {direction = "NE"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
  %a = kiln.select %lt, %x, %y : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %b = kiln.select %gt, %x, %y : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %c = kiln.select %ne, %x, %y : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %a, %b, %c : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// A uniform true predicate picks the first side.
// CHECK-LABEL: func.func @select_of_true
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>, %{{.*}}: tensor<4xf32>)
// CHECK-NEXT: return %[[X]]
func.func @select_of_true(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %t = kiln.constant {value = dense<true> : tensor<4xi1>} : tensor<4xi1>
  %a = kiln.select %t, %x, %y : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %a : tensor<4xf32>
}
