// kiln-fuse: one kiln.kernel per generated kernel, rule by rule; with enabled=false, one
// kernel per primitive (the unfused baseline).

// An elementwise chain fuses into its consumer: one kernel.
// OFF-LABEL: func.func @chain
// OFF-COUNT-3: kiln.kernel
// OFF-NOT: kiln.kernel
// OFF: return
func.func @chain(%x: tensor<64xf32>, %y: tensor<64xf32>, %z: tensor<64xf32>) -> tensor<64xf32> {
  %a = kiln.add %x, %y : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
  %e = kiln.exp %a : (tensor<64xf32>) -> tensor<64xf32>
  %m = kiln.mul %e, %z : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
  return %m : tensor<64xf32>
}

// A matmul takes its bias and ReLU epilogue: the product, the bias broadcast, the add and
// ReLU's compare and select are one kernel whose only output is the activation.
// OFF-LABEL: func.func @linear_relu
// OFF-COUNT-6: kiln.kernel
// OFF-NOT: kiln.kernel
// OFF: return
func.func @linear_relu(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %b: tensor<32xf32>) -> tensor<8x32xf32> {
  %p = kiln.matmul %x, %w : (tensor<8x16xf32>, tensor<16x32xf32>) -> tensor<8x32xf32>
  %bb = kiln.broadcast_in_dim %b {broadcast_dimensions = array<i64: 1>, shape = array<i64: 8, 32>} : (tensor<32xf32>) -> tensor<8x32xf32>
  %h = kiln.add %p, %bb : (tensor<8x32xf32>, tensor<8x32xf32>) -> tensor<8x32xf32>
  %zero = kiln.constant {value = dense<0.0> : tensor<8x32xf32>} : tensor<8x32xf32>
  %mask = kiln.compare %h, %zero {direction = "GT"} : (tensor<8x32xf32>, tensor<8x32xf32>) -> tensor<8x32xi1>
  %r = kiln.select %mask, %h, %zero : (tensor<8x32xi1>, tensor<8x32xf32>, tensor<8x32xf32>) -> tensor<8x32xf32>
  return %r : tensor<8x32xf32>
}

// Convolutions take no epilogue (their tile stores through a transposing loop, where added
// work costs more than it saves): the bias and ReLU become the max-pool's prologue, and the
// backward's select recomputes the mask (three kernels, no mask buffer).
func.func @conv_relu_pool(%x: tensor<2x1x8x8xf32>, %f: tensor<4x1x3x3xf32>, %b: tensor<4xf32>, %dy: tensor<2x4x8x8xf32>) -> (tensor<2x4x4x4xf32>, tensor<2x4x8x8xf32>) {
  %c = kiln.conv2d %x, %f {dilation = array<i64: 1, 1>, padding = array<i64: 1, 1>, stride = array<i64: 1, 1>} : (tensor<2x1x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<2x4x8x8xf32>
  %bb = kiln.broadcast_in_dim %b {broadcast_dimensions = array<i64: 1>, shape = array<i64: 2, 4, 8, 8>} : (tensor<4xf32>) -> tensor<2x4x8x8xf32>
  %h = kiln.add %c, %bb : (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %zero = kiln.constant {value = dense<0.0> : tensor<2x4x8x8xf32>} : tensor<2x4x8x8xf32>
  %mask = kiln.compare %h, %zero {direction = "GT"} : (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xi1>
  %r = kiln.select %mask, %h, %zero : (tensor<2x4x8x8xi1>, tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %p = kiln.max_pool2d %r {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0>, stride = array<i64: 2, 2>} : (tensor<2x4x8x8xf32>) -> tensor<2x4x4x4xf32>
  %g = kiln.select %mask, %dy, %zero : (tensor<2x4x8x8xi1>, tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  return %p, %g : tensor<2x4x4x4xf32>, tensor<2x4x8x8xf32>
}

// ReLU's gradient is the convolution's prologue: recomputed inside the kernel that reads it.
func.func @relu_grad_prologue(%mask: tensor<2x4x8x8xi1>, %dy: tensor<2x4x8x8xf32>, %f: tensor<4x1x3x3xf32>) -> tensor<2x1x8x8xf32> {
  %zero = kiln.constant {value = dense<0.0> : tensor<2x4x8x8xf32>} : tensor<2x4x8x8xf32>
  %g = kiln.select %mask, %dy, %zero : (tensor<2x4x8x8xi1>, tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %dx = kiln.conv2d_input_grad %g, %f {dilation = array<i64: 1, 1>, input_shape = array<i64: 2, 1, 8, 8>, padding = array<i64: 1, 1>, stride = array<i64: 1, 1>} : (tensor<2x4x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<2x1x8x8xf32>
  return %dx : tensor<2x1x8x8xf32>
}

// Reductions are roots: the sum is one kernel (with the exp before it), the division by it
// another.
func.func @reduction_root(%x: tensor<4x10xf32>) -> tensor<4x10xf32> {
  %e = kiln.exp %x : (tensor<4x10xf32>) -> tensor<4x10xf32>
  %s = kiln.reduce_sum %e {dimensions = array<i64: 1>} : (tensor<4x10xf32>) -> tensor<4xf32>
  %sb = kiln.broadcast_in_dim %s {broadcast_dimensions = array<i64: 0>, shape = array<i64: 4, 10>} : (tensor<4xf32>) -> tensor<4x10xf32>
  %d = kiln.div %e, %sb : (tensor<4x10xf32>, tensor<4x10xf32>) -> tensor<4x10xf32>
  return %d : tensor<4x10xf32>
}

// An optimizer update is one kernel: momentum's new buffer and the new parameter are both
// outputs of it.
// OFF-LABEL: func.func @momentum_update
// OFF-COUNT-6: kiln.kernel
// OFF-NOT: kiln.kernel
// OFF: return
func.func @momentum_update(%p: tensor<300xf32>, %m: tensor<300xf32>, %g: tensor<300xf32>, %lr: tensor<f32>) -> (tensor<300xf32>, tensor<300xf32>) {
  %mu = kiln.constant {value = dense<0.9> : tensor<300xf32>} : tensor<300xf32>
  %mm = kiln.mul %m, %mu : (tensor<300xf32>, tensor<300xf32>) -> tensor<300xf32>
  %m2 = kiln.add %mm, %g : (tensor<300xf32>, tensor<300xf32>) -> tensor<300xf32>
  %lrb = kiln.broadcast_in_dim %lr {broadcast_dimensions = array<i64>, shape = array<i64: 300>} : (tensor<f32>) -> tensor<300xf32>
  %step = kiln.mul %lrb, %m2 : (tensor<300xf32>, tensor<300xf32>) -> tensor<300xf32>
  %p2 = kiln.sub %p, %step : (tensor<300xf32>, tensor<300xf32>) -> tensor<300xf32>
  return %p2, %m2 : tensor<300xf32>, tensor<300xf32>
}

// A cheap value read by two kernels is recomputed by each (the previous test's mask); an
// expensive one (more than four elementwise ops) is computed once.
func.func @recompute_or_materialize(%x: tensor<4x10xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %a = kiln.exp %x : (tensor<4x10xf32>) -> tensor<4x10xf32>
  %b = kiln.log %a : (tensor<4x10xf32>) -> tensor<4x10xf32>
  %c = kiln.sin %b : (tensor<4x10xf32>) -> tensor<4x10xf32>
  %d = kiln.cos %c : (tensor<4x10xf32>) -> tensor<4x10xf32>
  %t = kiln.sqrt %d : (tensor<4x10xf32>) -> tensor<4x10xf32>
  %n = kiln.neg %t : (tensor<4x10xf32>) -> tensor<4x10xf32>
  %s = kiln.reduce_sum %n {dimensions = array<i64: 1>} : (tensor<4x10xf32>) -> tensor<4xf32>
  %mx = kiln.reduce_max %n {dimensions = array<i64: 1>} : (tensor<4x10xf32>) -> tensor<4xf32>
  return %s, %mx : tensor<4xf32>, tensor<4xf32>
}

// The gradient of a max-pool whose windows do not overlap is a gather: ReLU's gradient after
// it is its epilogue (one kernel, one output).
func.func @pool_grad_epilogue(%r: tensor<2x4x8x8xf32>, %dp: tensor<2x4x4x4xf32>, %mask: tensor<2x4x8x8xi1>) -> tensor<2x4x8x8xf32> {
  %zero = kiln.constant {value = dense<0.0> : tensor<2x4x8x8xf32>} : tensor<2x4x8x8xf32>
  %d = kiln.max_pool2d_grad %r, %dp {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0>, stride = array<i64: 2, 2>} : (tensor<2x4x8x8xf32>, tensor<2x4x4x4xf32>) -> tensor<2x4x8x8xf32>
  %g = kiln.select %mask, %d, %zero : (tensor<2x4x8x8xi1>, tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  return %g : tensor<2x4x8x8xf32>
}

// A reduction takes a same-shaped elementwise epilogue: a bias gradient and its SGD update
// are one kernel.
func.func @bias_update(%dy: tensor<50x10xf32>, %b: tensor<10xf32>, %lr: tensor<f32>) -> tensor<10xf32> {
  %g = kiln.reduce_sum %dy {dimensions = array<i64: 0>} : (tensor<50x10xf32>) -> tensor<10xf32>
  %lrb = kiln.broadcast_in_dim %lr {broadcast_dimensions = array<i64>, shape = array<i64: 10>} : (tensor<f32>) -> tensor<10xf32>
  %step = kiln.mul %lrb, %g : (tensor<10xf32>, tensor<10xf32>) -> tensor<10xf32>
  %b2 = kiln.sub %b, %step : (tensor<10xf32>, tensor<10xf32>) -> tensor<10xf32>
  return %b2 : tensor<10xf32>
}
