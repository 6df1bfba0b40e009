// Each verifier rejects malformed ops with a message that names the shapes involved.
// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @matmul_inner(%a: tensor<3x4xf32>, %b: tensor<5x2xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'kiln.matmul' op inner dimensions differ: lhs 3x4 has 4 columns, rhs 5x2 has 5 rows}}
  %0 = kiln.matmul %a, %b : (tensor<3x4xf32>, tensor<5x2xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @matmul_rank(%a: tensor<3xf32>, %b: tensor<3x2xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{expects rank-2 operands}}
  %0 = kiln.matmul %a, %b : (tensor<3xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @add_shapes(%a: tensor<3xf32>, %b: tensor<4xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{operand shapes differ: 3 vs 4}}
  %0 = kiln.add %a, %b : (tensor<3xf32>, tensor<4xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @compare_direction(%a: tensor<3xf32>) -> tensor<3xi1> {
  // expected-error @+1 {{unknown direction 'BIGGER'}}
  %0 = kiln.compare %a, %a {direction = "BIGGER"} : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xi1>
  return %0 : tensor<3xi1>
}

// -----

func.func @broadcast_size(%a: tensor<3xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{cannot broadcast operand dimension 0 of size 3 to size 4}}
  %0 = kiln.broadcast_in_dim %a {broadcast_dimensions = array<i64: 1>, shape = array<i64: 2, 4>} : (tensor<3xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @broadcast_order(%a: tensor<2x2xf32>) -> tensor<2x2x2xf32> {
  // expected-error @+1 {{broadcast_dimensions must be strictly increasing}}
  %0 = kiln.broadcast_in_dim %a {broadcast_dimensions = array<i64: 1, 0>, shape = array<i64: 2, 2, 2>} : (tensor<2x2xf32>) -> tensor<2x2x2xf32>
  return %0 : tensor<2x2x2xf32>
}

// -----

func.func @reshape_count(%a: tensor<2x3xf32>) -> tensor<7xf32> {
  // expected-error @+1 {{cannot reshape 2x3 (6 elements) to 7 (7 elements)}}
  %0 = kiln.reshape %a {shape = array<i64: 7>} : (tensor<2x3xf32>) -> tensor<7xf32>
  return %0 : tensor<7xf32>
}

// -----

func.func @transpose_perm(%a: tensor<2x3xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{permutation is not a permutation of 0..1}}
  %0 = kiln.transpose %a {permutation = array<i64: 0, 0>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @reduce_dim(%a: tensor<2x3xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{dimension 2 is outside the operand rank 2}}
  %0 = kiln.reduce_sum %a {dimensions = array<i64: 2>} : (tensor<2x3xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @result_type(%a: tensor<3xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'kiln.neg' op result shape 4 differs from operand shape 3}}
  %0 = kiln.neg %a : (tensor<3xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @constant_type() -> tensor<3xf32> {
  // expected-error @+1 {{value type 'tensor<2xf32>' differs from result type 'tensor<3xf32>'}}
  %0 = kiln.constant {value = dense<1.0> : tensor<2xf32>} : tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @one_hot_classes(%l: tensor<3xi32>) -> tensor<3x0xf32> {
  // expected-error @+1 {{needs at least one class, got 0}}
  %0 = kiln.one_hot %l {classes = 0 : i64} : (tensor<3xi32>) -> tensor<3x0xf32>
  return %0 : tensor<3x0xf32>
}

// -----

func.func @random_key_shape(%k: tensor<2xi32>) -> tensor<3xf32> {
  // expected-error @+1 {{key must be tensor<4xi32> (seed low, seed high, step, rank), got 'tensor<2xi32>'}}
  %0 = kiln.random_uniform %k {shape = array<i64: 3>, stream = 0 : i64} : (tensor<2xi32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @random_stream(%k: tensor<4xi32>) -> tensor<3xf32> {
  // expected-error @+1 {{stream -1 is outside [0, 2^32)}}
  %0 = kiln.random_uniform %k {shape = array<i64: 3>, stream = -1 : i64} : (tensor<4xi32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @random_too_many(%k: tensor<4xi32>) -> tensor<65536x65536xf32> {
  // expected-error @+1 {{shape 65536x65536 has 2^32 elements or more; the generator numbers them with 32 bits}}
  %0 = kiln.random_uniform %k {shape = array<i64: 65536, 65536>, stream = 0 : i64} : (tensor<4xi32>) -> tensor<65536x65536xf32>
  return %0 : tensor<65536x65536xf32>
}

// -----

func.func @random_result_type(%k: tensor<4xi32>) -> tensor<4xf32> {
  // expected-error @+2 {{inferred type(s) 'tensor<3xf32>' are incompatible with return type(s) of operation 'tensor<4xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.random_uniform %k {shape = array<i64: 3>, stream = 0 : i64} : (tensor<4xi32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @conv_channels(%x: tensor<2x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<2x4x6x6xf32> {
  // expected-error @+1 {{input 2x3x8x8 has 3 channels, filter 4x2x3x3 expects 2}}
  %0 = kiln.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>} : (tensor<2x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<2x4x6x6xf32>
  return %0 : tensor<2x4x6x6xf32>
}

// -----

func.func @conv_fit(%x: tensor<1x1x2x2xf32>, %w: tensor<1x1x5x5xf32>) -> tensor<1x1x1x1xf32> {
  // expected-error @+1 {{the filter 1x1x5x5 does not fit the padded input 1x1x2x2}}
  %0 = kiln.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x1x2x2xf32>, tensor<1x1x5x5xf32>) -> tensor<1x1x1x1xf32>
  return %0 : tensor<1x1x1x1xf32>
}

// -----

func.func @conv_result(%x: tensor<1x1x8x8xf32>, %w: tensor<1x1x3x3xf32>) -> tensor<1x1x8x8xf32> {
  // expected-error @+1 {{result shape 1x1x8x8 should be 1x1x6x6}}
  %0 = kiln.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x1x8x8xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x8x8xf32>
  return %0 : tensor<1x1x8x8xf32>
}

// -----

func.func @pool_padding(%x: tensor<1x1x8x8xf32>) -> tensor<1x1x5x5xf32> {
  // expected-error @+1 {{padding must be between 0 and half the kernel}}
  %0 = kiln.max_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 2, 2>} : (tensor<1x1x8x8xf32>) -> tensor<1x1x5x5xf32>
  return %0 : tensor<1x1x5x5xf32>
}

// -----

func.func @pool_grad_shape(%x: tensor<1x1x8x8xf32>, %dy: tensor<1x1x3x3xf32>) -> tensor<1x1x8x8xf32> {
  // expected-error @+1 {{grad 1x1x3x3 should be the pooled shape 1x1x4x4}}
  %0 = kiln.max_pool2d_grad %x, %dy {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>} : (tensor<1x1x8x8xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x8x8xf32>
  return %0 : tensor<1x1x8x8xf32>
}

// -----

func.func @kernel_yield_types(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'kiln.kernel' op yields 1 values whose types differ from the kernel's results}}
  %0 = kiln.kernel "neg"(%a) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%x: tensor<4xf32>):
    %n = kiln.neg %x : (tensor<4xf32>) -> tensor<4xf32>
    %s = kiln.reduce_sum %n {dimensions = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
    kiln.yield %s : tensor<f32>
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @kernel_arguments(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'kiln.kernel' op input 0 is 'tensor<4xf32>' but region argument 0 is 'tensor<5xf32>'}}
  %0 = kiln.kernel "neg"(%a) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%x: tensor<5xf32>):
    %c = kiln.constant {value = dense<1.0> : tensor<4xf32>} : tensor<4xf32>
    kiln.yield %c : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @kernel_reads_from_outside(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-note @+1 {{required by region isolation constraints}}
  %0 = kiln.kernel "neg"() : () -> tensor<4xf32> {
    // expected-error @+1 {{using value defined outside the region}}
    %n = kiln.neg %a : (tensor<4xf32>) -> tensor<4xf32>
    kiln.yield %n : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}
