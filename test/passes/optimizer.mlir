// kiln-optimizer: PyTorch's SGD appended to @grad, giving @train_step.
// RUN: kiln-opt %s --split-input-file --kiln-optimizer | FileCheck %s

// Plain SGD: p = p - lr * g, no state.
module attributes {kiln.optimizer = {name = "sgd"}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}, %x: tensor<3xf32> {kiln.input = "x"})
      -> (tensor<f32> {kiln.output = "loss"}, tensor<3xf32> {kiln.grad_of = "w"}) {
    %p = kiln.mul %w, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %l = kiln.reduce_sum %p {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l, %x : tensor<f32>, tensor<3xf32>
  }
}
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: (%[[W:.*]]: tensor<3xf32> {kiln.param = "w"}, %[[X:.*]]: tensor<3xf32> {kiln.input = "x"}, %[[LR:.*]]: tensor<f32> {kiln.lr}, %[[T:.*]]: tensor<f32> {kiln.step})
// CHECK-SAME: -> (tensor<f32> {kiln.output = "loss"}, tensor<3xf32> {kiln.update_of = "w"})
// CHECK: %[[LRB:.*]] = kiln.broadcast_in_dim %[[LR]]
// CHECK: %[[D:.*]] = kiln.mul %[[LRB]], %[[X]]
// CHECK: %[[NEW:.*]] = kiln.sub %[[W]], %[[D]]
// CHECK: return %{{.*}}, %[[NEW]]
// The gradient function is inlined and gone.
// CHECK-NOT: func.func @grad

// -----

// Momentum 0.9, dampening 0.1, weight decay 0.01, Nesterov:
//   g' = g + 0.01 p;  buf = t == 1 ? g' : 0.9 buf + 0.9 g';  p = p - lr (g' + 0.9 buf)
module attributes {kiln.optimizer = {name = "sgd", momentum = 0.9, dampening = 0.1, weight_decay = 0.01, nesterov = true}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}, %x: tensor<3xf32> {kiln.input = "x"})
      -> (tensor<f32> {kiln.output = "loss"}, tensor<3xf32> {kiln.grad_of = "w"}) {
    %p = kiln.mul %w, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %l = kiln.reduce_sum %p {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l, %x : tensor<f32>, tensor<3xf32>
  }
}
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: (%[[W:.*]]: tensor<3xf32> {kiln.param = "w"}, %[[BUF:.*]]: tensor<3xf32> {kiln.state = "w.momentum_buffer"}, %[[X:.*]]: tensor<3xf32> {kiln.input = "x"}, %[[LR:.*]]: tensor<f32> {kiln.lr}, %[[T:.*]]: tensor<f32> {kiln.step})
// CHECK-SAME: -> (tensor<f32> {kiln.output = "loss"}, tensor<3xf32> {kiln.update_of = "w"}, tensor<3xf32> {kiln.update_of = "w.momentum_buffer"})
// CHECK-DAG: %[[WD:.*]] = kiln.constant {value = dense<0.00999999977> : tensor<3xf32>}
// CHECK: %[[DECAY:.*]] = kiln.mul %[[WD]], %[[W]]
// CHECK: %[[G:.*]] = kiln.add %[[X]], %[[DECAY]]
// CHECK: %[[MOM:.*]] = kiln.constant {value = dense<0.899999976> : tensor<3xf32>}
// CHECK: %[[MB:.*]] = kiln.mul %[[MOM]], %[[BUF]]
// CHECK: %[[DAMP:.*]] = kiln.constant {value = dense<0.899999976> : tensor<3xf32>}
// CHECK: %[[DG:.*]] = kiln.mul %[[DAMP]], %[[G]]
// CHECK: %[[LATER:.*]] = kiln.add %[[MB]], %[[DG]]
// CHECK: %[[FIRST:.*]] = kiln.compare %{{.*}}, %{{.*}} {direction = "EQ"}
// CHECK: %[[NEWBUF:.*]] = kiln.select %[[FIRST]], %[[G]], %[[LATER]]
// CHECK: %[[NB:.*]] = kiln.mul %{{.*}}, %[[NEWBUF]]
// CHECK: %[[NESTEROV:.*]] = kiln.add %[[G]], %[[NB]]
// CHECK: %[[STEP:.*]] = kiln.mul %{{.*}}, %[[NESTEROV]]
// CHECK: %[[NEW:.*]] = kiln.sub %[[W]], %[[STEP]]
// CHECK: return %{{.*}}, %[[NEW]], %[[NEWBUF]]

