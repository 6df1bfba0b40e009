// kiln's folds, as run by MLIR's canonicalizer, and CSE merging duplicates.

func.func @identities(%x: tensor<4xf32>) -> tensor<4xf32> {
  %zero = kiln.constant {value = dense<0.0> : tensor<4xf32>} : tensor<4xf32>
  %one = kiln.constant {value = dense<1.0> : tensor<4xf32>} : tensor<4xf32>
  %a = kiln.add %x, %zero : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %b = kiln.mul %one, %a : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %c = kiln.sub %b, %zero : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %d = kiln.div %c, %one : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %d : tensor<4xf32>
}

// x * 0 must stay: it is NaN, not 0, for x = inf or NaN.
func.func @times_zero_kept(%x: tensor<4xf32>) -> tensor<4xf32> {
  %zero = kiln.constant {value = dense<0.0> : tensor<4xf32>} : tensor<4xf32>
  %a = kiln.mul %x, %zero : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %a : tensor<4xf32>
}

func.func @splats() -> tensor<2x3xf32> {
  %s = kiln.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %b = kiln.broadcast_in_dim %s {broadcast_dimensions = array<i64>, shape = array<i64: 2, 3>} : (tensor<f32>) -> tensor<2x3xf32>
  %c = kiln.add %b, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %c : tensor<2x3xf32>
}

func.func @shapes(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<6xf32>) {
  %t = kiln.transpose %x {permutation = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %tt = kiln.transpose %t {permutation = array<i64: 1, 0>} : (tensor<3x2xf32>) -> tensor<2x3xf32>
  %r1 = kiln.reshape %x {shape = array<i64: 3, 2>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %r2 = kiln.reshape %r1 {shape = array<i64: 6>} : (tensor<3x2xf32>) -> tensor<6xf32>
  return %tt, %r2 : tensor<2x3xf32>, tensor<6xf32>
}

func.func @cse(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = kiln.exp %x : (tensor<4xf32>) -> tensor<4xf32>
  %b = kiln.exp %x : (tensor<4xf32>) -> tensor<4xf32>
  %c = kiln.add %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %c : tensor<4xf32>
}

// Elementwise ops on broadcast scalars run on the scalars; the result is broadcast once.
func.func @uniform_chain(%t: tensor<f32>, %x: tensor<8xf32>) -> tensor<8xf32> {
  %tb = kiln.broadcast_in_dim %t {broadcast_dimensions = array<i64>, shape = array<i64: 8>} : (tensor<f32>) -> tensor<8xf32>
  %half = kiln.constant {value = dense<0.5> : tensor<8xf32>} : tensor<8xf32>
  %m = kiln.mul %tb, %half : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %e = kiln.exp %m : (tensor<8xf32>) -> tensor<8xf32>
  %r = kiln.mul %x, %e : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %r : tensor<8xf32>
}

// (x^T dy)^T becomes dy^T x: the transposes of the product cancel.
func.func @transposed_product(%x: tensor<50x64xf32>, %dy: tensor<50x10xf32>) -> tensor<10x64xf32> {
  %xt = kiln.transpose %x {permutation = array<i64: 1, 0>} : (tensor<50x64xf32>) -> tensor<64x50xf32>
  %p = kiln.matmul %xt, %dy : (tensor<64x50xf32>, tensor<50x10xf32>) -> tensor<64x10xf32>
  %r = kiln.transpose %p {permutation = array<i64: 1, 0>} : (tensor<64x10xf32>) -> tensor<10x64xf32>
  return %r : tensor<10x64xf32>
}
