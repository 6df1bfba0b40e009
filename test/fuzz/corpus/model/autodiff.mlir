// kiln-autodiff: @grad returns the loss, the forward's other results, then one gradient per
// kiln.param argument, built from kiln ops by each op's rule.

func.func @forward(%w: tensor<2x3xf32> {kiln.param = "w"}, %x: tensor<4x2xf32> {kiln.input = "x"})
    -> (tensor<f32> {kiln.output = "loss"}, tensor<4x3xf32> {kiln.output = "h"}) {
  %h = kiln.matmul %x, %w : (tensor<4x2xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  %e = kiln.exp %h : (tensor<4x3xf32>) -> tensor<4x3xf32>
  %l = kiln.reduce_sum %e {dimensions = array<i64: 0, 1>} : (tensor<4x3xf32>) -> tensor<f32>
  return %l, %h : tensor<f32>, tensor<4x3xf32>
}

// The forward function is kept as it was.
// The seed d loss = 1, spread back over the summed dimensions:
// d exp(h) = exp(h) dh:
// d (x w) / d w = x^T dh:

// The input x gets no gradient: only what depends on a param is differentiated.

// After canonicalization the seed's broadcast folds into a splat of ones and 1 * exp(h)
// folds to exp(h), so d w = x^T exp(x w) directly.
// CLEAN-LABEL: func.func @grad
// CLEAN: %[[H:.*]] = kiln.matmul %arg1, %arg0
// CLEAN: %[[E:.*]] = kiln.exp %[[H]]
// CLEAN-NOT: kiln.broadcast_in_dim
// CLEAN-NOT: kiln.mul
// CLEAN: %[[XT:.*]] = kiln.transpose %arg1
// CLEAN: %[[DW:.*]] = kiln.matmul %[[XT]], %[[E]]
// CLEAN: return %{{.*}}, %[[H]], %[[DW]]
