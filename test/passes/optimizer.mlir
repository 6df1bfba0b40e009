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

// Momentum 0.9, weight decay 0.01, Nesterov (which PyTorch allows only without dampening; the
// order of independent ops is free, hence CHECK-DAG):
//   g' = g + 0.01 p;  buf = t == 1 ? g' : 0.9 buf + (1 - 0) g';  p = p - lr (g' + 0.9 buf)
module attributes {kiln.optimizer = {name = "sgd", momentum = 0.9, dampening = 0.0, weight_decay = 0.01, nesterov = true}} {
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
// CHECK-DAG: %[[DECAY:.*]] = kiln.mul %[[WD]], %[[W]]
// CHECK-DAG: %[[G:.*]] = kiln.add %[[X]], %[[DECAY]]
// CHECK-DAG: %[[MB:.*]] = kiln.mul %{{.*}}, %[[BUF]]
// CHECK-DAG: %[[DG:.*]] = kiln.mul %{{.*}}, %[[G]]
// CHECK-DAG: %[[LATER:.*]] = kiln.add %[[MB]], %[[DG]]
// CHECK-DAG: %[[FIRST:.*]] = kiln.compare %{{.*}}, %{{.*}} {direction = "EQ"}
// CHECK-DAG: %[[NEWBUF:.*]] = kiln.select %[[FIRST]], %[[G]], %[[LATER]]
// CHECK-DAG: %[[NB:.*]] = kiln.mul %{{.*}}, %[[NEWBUF]]
// CHECK-DAG: %[[NESTEROV:.*]] = kiln.add %[[G]], %[[NB]]
// CHECK-DAG: %[[STEP:.*]] = kiln.mul %{{.*}}, %[[NESTEROV]]
// CHECK-DAG: %[[NEW:.*]] = kiln.sub %[[W]], %[[STEP]]
// CHECK: return %{{.*}}, %[[NEW]], %[[NEWBUF]]


// -----

// Adam: two moments, bias corrections from the runtime step t as 1 - exp(t ln beta).
module attributes {kiln.optimizer = {name = "adam", beta1 = 0.9, beta2 = 0.99}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}, %x: tensor<3xf32> {kiln.input = "x"})
      -> (tensor<f32> {kiln.output = "loss"}, tensor<3xf32> {kiln.grad_of = "w"}) {
    %p = kiln.mul %w, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %l = kiln.reduce_sum %p {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l, %x : tensor<f32>, tensor<3xf32>
  }
}
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: {kiln.state = "w.exp_avg"}
// CHECK-SAME: {kiln.state = "w.exp_avg_sq"}
// CHECK-SAME: {kiln.update_of = "w"}, tensor<3xf32> {kiln.update_of = "w.exp_avg"}, tensor<3xf32> {kiln.update_of = "w.exp_avg_sq"})
// CHECK-DAG: kiln.constant {value = dense<-0.105360515> : tensor<3xf32>}
// CHECK-DAG: kiln.constant {value = dense<-0.0100503359> : tensor<3xf32>}
// CHECK-DAG: kiln.exp
// CHECK-DAG: kiln.sqrt
// CHECK: return

// -----

// RMSprop, centered with momentum: three state tensors in a fixed order.
module attributes {kiln.optimizer = {name = "rmsprop", alpha = 0.9, momentum = 0.5, centered = true}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}, %x: tensor<3xf32> {kiln.input = "x"})
      -> (tensor<f32> {kiln.output = "loss"}, tensor<3xf32> {kiln.grad_of = "w"}) {
    %p = kiln.mul %w, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %l = kiln.reduce_sum %p {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l, %x : tensor<f32>, tensor<3xf32>
  }
}
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: {kiln.state = "w.square_avg"}, %{{.*}}: tensor<3xf32> {kiln.state = "w.momentum_buffer"}, %{{.*}}: tensor<3xf32> {kiln.state = "w.grad_avg"}

// -----

// Adagrad, Adadelta and AdamW name their state as PyTorch's state_dict does.
module attributes {kiln.optimizer = {name = "adadelta"}} {
  func.func @grad(%w: tensor<3xf32> {kiln.param = "w"}) -> (tensor<f32>, tensor<3xf32>) {
    %l = kiln.reduce_sum %w {dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
    return %l, %w : tensor<f32>, tensor<3xf32>
  }
}
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: {kiln.state = "w.square_avg"}, %{{.*}}: tensor<3xf32> {kiln.state = "w.acc_delta"}
