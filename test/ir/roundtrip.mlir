// Every kiln op prints in a form that parses back to the same IR.
// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @all_ops
func.func @all_ops(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>, %v: tensor<3xf32>, %k: tensor<3x4xf32>) -> tensor<f32> {
  // CHECK: kiln.add %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %0 = kiln.add %a, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: kiln.sub
  %1 = kiln.sub %0, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: kiln.mul
  %2 = kiln.mul %1, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: kiln.div
  %3 = kiln.div %2, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: kiln.max
  %4 = kiln.max %3, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: kiln.neg
  %5 = kiln.neg %4 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: kiln.exp
  %6 = kiln.exp %5 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: kiln.log
  %7 = kiln.log %6 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: kiln.compare %{{.*}}, %{{.*}} {direction = "GE"} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xi1>
  %8 = kiln.compare %7, %a {direction = "GE"} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xi1>
  // CHECK: kiln.select %{{.*}} : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %9 = kiln.select %8, %7, %a : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: kiln.broadcast_in_dim %{{.*}} {broadcast_dimensions = array<i64: 1>, shape = array<i64: 2, 3>}
  %10 = kiln.broadcast_in_dim %v {broadcast_dimensions = array<i64: 1>, shape = array<i64: 2, 3>} : (tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: kiln.reshape %{{.*}} {shape = array<i64: 3, 2>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %11 = kiln.reshape %10 {shape = array<i64: 3, 2>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  // CHECK: kiln.transpose %{{.*}} {permutation = array<i64: 1, 0>} : (tensor<3x2xf32>) -> tensor<2x3xf32>
  %12 = kiln.transpose %11 {permutation = array<i64: 1, 0>} : (tensor<3x2xf32>) -> tensor<2x3xf32>
  // CHECK: kiln.matmul %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %13 = kiln.matmul %12, %k : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  // CHECK: kiln.reduce_sum %{{.*}} {dimensions = array<i64: 1>} : (tensor<2x4xf32>) -> tensor<2xf32>
  %14 = kiln.reduce_sum %13 {dimensions = array<i64: 1>} : (tensor<2x4xf32>) -> tensor<2xf32>
  // CHECK: kiln.reduce_mean %{{.*}} {dimensions = array<i64: 0>} : (tensor<2xf32>) -> tensor<f32>
  %15 = kiln.reduce_mean %14 {dimensions = array<i64: 0>} : (tensor<2xf32>) -> tensor<f32>
  // CHECK: kiln.constant {value = dense<1.500000e+00> : tensor<f32>} : tensor<f32>
  %16 = kiln.constant {value = dense<1.5> : tensor<f32>} : tensor<f32>
  %17 = kiln.add %15, %16 : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %18 = kiln.add %17, %16 : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %18 : tensor<f32>
}

// CHECK-LABEL: func.func @more_ops
func.func @more_ops(%a: tensor<2x3xf32>, %labels: tensor<2xi32>) -> (tensor<2x3xf32>, tensor<2xf32>, tensor<2x5xf32>) {
  // CHECK: kiln.sqrt
  %0 = kiln.sqrt %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: kiln.abs
  %1 = kiln.abs %0 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: kiln.sin
  %2 = kiln.sin %1 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: kiln.cos
  %3 = kiln.cos %2 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: kiln.reduce_max %{{.*}} {dimensions = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2xf32>
  %4 = kiln.reduce_max %3 {dimensions = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2xf32>
  // CHECK: kiln.one_hot %{{.*}} {classes = 5 : i64} : (tensor<2xi32>) -> tensor<2x5xf32>
  %5 = kiln.one_hot %labels {classes = 5 : i64} : (tensor<2xi32>) -> tensor<2x5xf32>
  return %3, %4, %5 : tensor<2x3xf32>, tensor<2xf32>, tensor<2x5xf32>
}

// CHECK-LABEL: func.func @random
func.func @random(%key: tensor<4xi32>) -> tensor<2x3xf32> {
  // CHECK: kiln.random_uniform %{{.*}} {shape = array<i64: 2, 3>, stream = 7 : i64} : (tensor<4xi32>) -> tensor<2x3xf32>
  %0 = kiln.random_uniform %key {shape = array<i64: 2, 3>, stream = 7 : i64} : (tensor<4xi32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @conv_and_pool
func.func @conv_and_pool(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> (tensor<2x4x4x4xf32>, tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<2x4x4x4xf32>, tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) {
  // CHECK: kiln.conv2d %{{.*}}, %{{.*}} {dilation = array<i64: 1, 1>, padding = array<i64: 1, 1>, stride = array<i64: 1, 1>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x8x8xf32>
  %y = kiln.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x8x8xf32>
  // CHECK: kiln.conv2d_input_grad
  %dx = kiln.conv2d_input_grad %y, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, input_shape = array<i64: 2, 3, 8, 8>} : (tensor<2x4x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x3x8x8xf32>
  // CHECK: kiln.conv2d_filter_grad
  %dw = kiln.conv2d_filter_grad %x, %y {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, filter_shape = array<i64: 4, 3, 3, 3>} : (tensor<2x3x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<4x3x3x3xf32>
  // CHECK: kiln.max_pool2d %{{.*}} {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0>, stride = array<i64: 2, 2>} : (tensor<2x4x8x8xf32>) -> tensor<2x4x4x4xf32>
  %p = kiln.max_pool2d %y {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>} : (tensor<2x4x8x8xf32>) -> tensor<2x4x4x4xf32>
  // CHECK: kiln.max_pool2d_grad
  %dp = kiln.max_pool2d_grad %y, %p {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>} : (tensor<2x4x8x8xf32>, tensor<2x4x4x4xf32>) -> tensor<2x4x8x8xf32>
  // CHECK: kiln.avg_pool2d
  %a = kiln.avg_pool2d %y {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>} : (tensor<2x4x8x8xf32>) -> tensor<2x4x4x4xf32>
  // CHECK: kiln.avg_pool2d_grad
  %da = kiln.avg_pool2d_grad %a {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, input_shape = array<i64: 2, 4, 8, 8>} : (tensor<2x4x4x4xf32>) -> tensor<2x4x8x8xf32>
  return %p, %dx, %dw, %a, %dp, %da : tensor<2x4x4x4xf32>, tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<2x4x4x4xf32>, tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>
}
