// Optimizer settings are checked as PyTorch's constructors check them, each refusal naming the
// setting, its value and what is accepted: a key the optimizer does not take (with the ones it
// does), a value of the wrong type (no silent default), a number out of range or not finite,
// nesterov without momentum or with dampening, and a negative learning rate.
// RUN: not kiln-opt %s --split-input-file --kiln-optimizer 2>&1 | FileCheck %s
module attributes {kiln.optimizer = {name = "sgd", momentun = 0.9}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}) -> (tensor<f32>, tensor<3xf32> {kiln.grad_of = "w"}) {
    %l = kiln.reduce_sum %w {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l, %w : tensor<f32>, tensor<3xf32>
  }
}
// CHECK: optimizer_settings.mlir:6:1: error: kiln-optimizer: 'momentun' is not a setting of sgd; its settings are momentum, dampening, weight_decay, nesterov
// -----
module attributes {kiln.optimizer = {name = "sgd", momentum = "fast"}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}) -> (tensor<f32>, tensor<3xf32> {kiln.grad_of = "w"}) {
    %l = kiln.reduce_sum %w {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l, %w : tensor<f32>, tensor<3xf32>
  }
}
// CHECK: error: kiln-optimizer: sgd's setting 'momentum' is "fast": it must be a number
// -----
module attributes {kiln.optimizer = {name = "sgd", momentum = -0.5}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}) -> (tensor<f32>, tensor<3xf32> {kiln.grad_of = "w"}) {
    %l = kiln.reduce_sum %w {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l, %w : tensor<f32>, tensor<3xf32>
  }
}
// CHECK: error: kiln-optimizer: sgd's setting 'momentum' is -0.5: PyTorch accepts a number >= 0
// -----
module attributes {kiln.optimizer = {name = "sgd", nesterov = true}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}) -> (tensor<f32>, tensor<3xf32> {kiln.grad_of = "w"}) {
    %l = kiln.reduce_sum %w {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l, %w : tensor<f32>, tensor<3xf32>
  }
}
// CHECK: error: kiln-optimizer: sgd's nesterov needs a momentum above 0 and zero dampening, as PyTorch's does (momentum 0, dampening 0)
// -----
module attributes {kiln.optimizer = {name = "adam", beta1 = 2.0}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}) -> (tensor<f32>, tensor<3xf32> {kiln.grad_of = "w"}) {
    %l = kiln.reduce_sum %w {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l, %w : tensor<f32>, tensor<3xf32>
  }
}
// CHECK: error: kiln-optimizer: adam's setting 'beta1' is 2: PyTorch accepts a number in [0, 1)
// -----
module attributes {kiln.optimizer = {name = "adam", beta2 = 0x7FC00000 : f32}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}) -> (tensor<f32>, tensor<3xf32> {kiln.grad_of = "w"}) {
    %l = kiln.reduce_sum %w {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l, %w : tensor<f32>, tensor<3xf32>
  }
}
// CHECK: error: kiln-optimizer: adam's setting 'beta2' is nan: PyTorch accepts a number in [0, 1)
// -----
module attributes {kiln.optimizer = {name = "adamw", amsgrad = 1}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}) -> (tensor<f32>, tensor<3xf32> {kiln.grad_of = "w"}) {
    %l = kiln.reduce_sum %w {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l, %w : tensor<f32>, tensor<3xf32>
  }
}
// CHECK: error: kiln-optimizer: adamw's setting 'amsgrad' is 1: it must be true or false
// -----
module attributes {kiln.optimizer = {name = "adadelta", rho = 1.5}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}) -> (tensor<f32>, tensor<3xf32> {kiln.grad_of = "w"}) {
    %l = kiln.reduce_sum %w {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l, %w : tensor<f32>, tensor<3xf32>
  }
}
// CHECK: error: kiln-optimizer: adadelta's setting 'rho' is 1.5: PyTorch accepts a number in [0, 1]
// -----
module attributes {kiln.optimizer = {name = "sgd"}, kiln.train = {lr = -0.1}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}) -> (tensor<f32>, tensor<3xf32> {kiln.grad_of = "w"}) {
    %l = kiln.reduce_sum %w {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l, %w : tensor<f32>, tensor<3xf32>
  }
}
// CHECK: error: kiln-optimizer: the learning rate (kiln.train's lr) is -0.1: PyTorch accepts a number >= 0

// Accepted: each optimizer's settings in range (rho = 1 is allowed, beta1 = 0 too).
// RUN: kiln-opt %S/inputs/valid_optimizers.mlir --split-input-file --kiln-optimizer | FileCheck %s --check-prefix=VALID
// VALID-COUNT-5: func.func @train_step
