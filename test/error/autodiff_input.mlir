// Models autodiff cannot differentiate are refused with the reason, never a crash.
// RUN: not kiln-opt %s --split-input-file --kiln-autodiff 2>&1 | FileCheck %s

// A parameter's kiln.param is its name: the model contract refuses one without, as it is read.
// CHECK: error: kiln.param must be a name, a string, not unit
func.func @forward(%w: tensor<4xf32> {kiln.param}) -> tensor<f32> {
  %l = kiln.reduce_sum %w {dimensions = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// CHECK: error: kiln-autodiff: @forward has no body to differentiate
func.func private @forward(tensor<f32>) -> tensor<f32>

// -----

// CHECK: error: kiln-autodiff: argument 0 has type 'tensor<?xf32>'; kiln needs statically shaped tensors
func.func @forward(%w: tensor<?xf32> {kiln.param = "w"}) -> tensor<f32> {
  %c = kiln.constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  return %c : tensor<f32>
}

// -----

// A dynamic shape never reaches an op: the op's operand constraint refuses it.
// CHECK: error: 'kiln.reduce_mean' op operand #0 must be statically shaped tensor
func.func @dynamic(%w: tensor<?xf32>) -> tensor<f32> {
  %l = kiln.reduce_mean %w {dimensions = array<i64: 0>} : (tensor<?xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
