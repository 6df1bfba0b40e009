// An output that is a parameter reports the value the step used: it gets its own slot, copied
// before the update overwrites the parameter.
// RUN: kiln compile %s --emit=llvm | FileCheck %s
module attributes {kiln.model = "p", kiln.train = {dataset = "regression", steps = 1, lr = 0.1}} {
  func.func @forward(%w: tensor<4xf32> {kiln.param = "w", kiln.fan_in = 1 : i64})
      -> (tensor<f32> {kiln.output = "loss"}, tensor<4xf32> {kiln.output = "w_used"}) {
    %l = kiln.reduce_sum %w {dimensions = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
    return %l, %w : tensor<f32>, tensor<4xf32>
  }
}
// CHECK: @buffer.w = internal global
// CHECK: @buffer.w_used = internal global
// CHECK: define internal i32 @entry.train_step()
// The output is saved first (from w's slot), then the update lands in w's slot.
// CHECK: [[W:%[0-9]+]] = load ptr, ptr getelementptr inbounds nuw (%halide_buffer_t, ptr @buffer.w, i32 0, i32 2)
// CHECK: call void @llvm.memcpy.p0.p0.i64(ptr align 64 %{{[0-9]+}}, ptr align 64 [[W]], i64 16
// CHECK: call void @llvm.memcpy.p0.p0.i64(ptr align 64 %{{[0-9]+}}, ptr align 64 %{{[0-9]+}}, i64 16
