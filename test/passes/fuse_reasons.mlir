// kiln-fuse says why each kernel's result is written to memory rather than fused into the
// kernels that read it (kiln.unfused, one reason per result), rule by rule.
// RUN: kiln-opt %s --kiln-fuse | FileCheck %s
// RUN: kiln-opt %s --kiln-fuse=enabled=false | FileCheck %s --check-prefix=OFF

// A convolution takes no epilogue; a pooling's readers read windows of it; the step's
// result is written because it is returned.
// CHECK-LABEL: func.func @conv_pool
// CHECK: kiln.kernel "conv2d"{{.*}}kiln.unfused = ["a convolution: its register tiles store through loops of their own, so it takes no epilogue"]
// CHECK: kiln.kernel "max_pool2d"{{.*}}kiln.unfused = ["a pooling or its gradient: each element reads a window"]
// CHECK: kiln.kernel "reduce_sum"{{.*}}kiln.unfused = ["a result of the step"]
// OFF-LABEL: func.func @conv_pool
// OFF-COUNT-3: kiln.unfused = ["fusion is off"]
func.func @conv_pool(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<f32> {
  %c = kiln.conv2d %x, %w {dilation = array<i64: 1, 1>, padding = array<i64: 1, 1>, stride = array<i64: 1, 1>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x8x8xf32>
  %p = kiln.max_pool2d %c {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0>, stride = array<i64: 2, 2>} : (tensor<2x4x8x8xf32>) -> tensor<2x4x4x4xf32>
  %s = kiln.reduce_sum %p {dimensions = array<i64: 0, 1, 2, 3>} : (tensor<2x4x4x4xf32>) -> tensor<f32>
  return %s : tensor<f32>
}

// A matrix product read by two ops has no epilogue chain; an elementwise value that a matrix
// product and another op read is written once rather than rebuilt inside the product's tiles.
// CHECK-LABEL: func.func @shared
// CHECK: kiln.kernel "exp"{{.*}}kiln.unfused = ["read by 2 ops, one a contraction that would rebuild it inside its tiles"]
// CHECK: kiln.kernel "matmul"{{.*}}kiln.unfused = ["a matmul whose value is not read by exactly one same-shaped pointwise op: no epilogue"]
func.func @shared(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>) -> (tensor<8x32xf32>, tensor<8x32xf32>, tensor<8x16xf32>) {
  %e = kiln.exp %x : (tensor<8x16xf32>) -> tensor<8x16xf32>
  %p = kiln.matmul %e, %w : (tensor<8x16xf32>, tensor<16x32xf32>) -> tensor<8x32xf32>
  %n = kiln.neg %e : (tensor<8x16xf32>) -> tensor<8x16xf32>
  %a = kiln.exp %p : (tensor<8x32xf32>) -> tensor<8x32xf32>
  %b = kiln.neg %p : (tensor<8x32xf32>) -> tensor<8x32xf32>
  return %a, %b, %n : tensor<8x32xf32>, tensor<8x32xf32>, tensor<8x16xf32>
}
