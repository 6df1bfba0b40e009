func.func private @forward(tensor<f32>) -> tensor<f32>
