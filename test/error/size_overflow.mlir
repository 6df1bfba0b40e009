// Sizes beyond 64 bits are refused where they are written, with the numbers, not wrapped
// around: a shape whose element count overflows, convolution or pooling attributes whose
// padded sizes would, and a pooled size that would.
// RUN: not kiln-opt %s --split-input-file 2>&1 | FileCheck %s

// CHECK: size_overflow.mlir:[[@LINE+2]]:8: error: 'kiln.reduce_sum' op operand #0 must be statically shaped tensor (fewer than 2^63 elements) of 32-bit float values, but got 'tensor<4x4611686018427387904x4xf32>'
func.func @count(%x: tensor<4x4611686018427387904x4xf32>) -> tensor<f32> {
  %l = kiln.reduce_sum %x {dimensions = array<i64: 0, 1, 2>} : (tensor<4x4611686018427387904x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// CHECK: size_overflow.mlir:[[@LINE+2]]:8: error: 'kiln.conv2d' op the padded input, 8 + 2 x padding 4611686018427387904, is beyond 64 bits
func.func @padding(%x: tensor<1x1x8x8xf32>, %w: tensor<1x1x3x3xf32>) -> tensor<1x1x8x8xf32> {
  %y = kiln.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 4611686018427387904, 1>, dilation = array<i64: 1, 1>} : (tensor<1x1x8x8xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x8x8xf32>
  return %y : tensor<1x1x8x8xf32>
}

// -----

// CHECK: size_overflow.mlir:[[@LINE+2]]:8: error: 'kiln.conv2d' op the filter's span, dilation 4611686018427387904 x (3 - 1) + 1, is beyond 64 bits
func.func @dilation(%x: tensor<1x1x8x8xf32>, %w: tensor<1x1x3x3xf32>) -> tensor<1x1x8x8xf32> {
  %y = kiln.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 4611686018427387904, 1>} : (tensor<1x1x8x8xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x8x8xf32>
  return %y : tensor<1x1x8x8xf32>
}

// -----

// CHECK: size_overflow.mlir:[[@LINE+2]]:8: error: 'kiln.max_pool2d' op padding must be between 0 and half the kernel
func.func @pool(%x: tensor<1x1x8x8xf32>) -> tensor<1x1x4x4xf32> {
  %y = kiln.max_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 4611686018427387904, 0>} : (tensor<1x1x8x8xf32>) -> tensor<1x1x4x4xf32>
  return %y : tensor<1x1x4x4xf32>
}

// -----

// An input as tall as 2^63 - 1 pooled with a window twice its padding keeps its height, plus one.
// CHECK: size_overflow.mlir:[[@LINE+2]]:8: error: 'kiln.avg_pool2d' op the output size, 9223372036854775807 / stride 1 + 1, is beyond 64 bits
func.func @pool_output(%x: tensor<1x1x9223372036854775807x1xf32>) -> tensor<1x1x1x1xf32> {
  %y = kiln.avg_pool2d %x {kernel = array<i64: 2, 1>, stride = array<i64: 1, 1>, padding = array<i64: 1, 0>} : (tensor<1x1x9223372036854775807x1xf32>) -> tensor<1x1x1x1xf32>
  return %y : tensor<1x1x1x1xf32>
}

// -----

// Types nest too: tuple<tuple<...>> 300 deep is refused before MLIR's parser recurses into it.
// RUN: python3 -c "print('func.func private @f() -> ' + 'tuple<'*300 + 'f32' + '>'*300)" > %t.tuple.mlir
// RUN: not kiln compile %t.tuple.mlir --emit=forward 2>&1 | FileCheck %s --check-prefix=TUPLE
// TUPLE: tuple.mlir:1:{{[0-9]+}}: error: nested more than 256 brackets deep
