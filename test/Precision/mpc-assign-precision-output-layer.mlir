// The output-layer rule of the low-precision policies (docs/precision-policy.md):
// a matmul/conv that reaches a function result through followers and data
// movement only stays f32 when it is at most 1% of the function's matmul/conv
// FLOPs; a larger one stays low like every other compute-bound op.
// RUN: mpc-opt %s --split-input-file --mpc-assign-precision=policy=bf16 | FileCheck %s
// RUN: mpc-opt %s --split-input-file --mpc-assign-precision="policy=bf16 strategy=greedy" | FileCheck %s
// RUN: mpc-opt %s --split-input-file --mpc-assign-precision=policy=fp16 | FileCheck %s --check-prefix=FP16

// The head is 2*64*256*2 of 2*64*256*(256+2) FLOPs: 0.78%.
// CHECK-LABEL: func.func @small_head
// CHECK: mpc.matmul {{.*}}mpc.precision = bf16, mpc.reason = "compute-bound: bf16 with f32 accumulation"
// CHECK: mpc.matmul {{.*}}mpc.precision = f32, mpc.reason = "output layer: kept in f32 (0.78% of the matmul/conv FLOPs; low rounding would reach the output)"
// FP16-LABEL: func.func @small_head
// FP16: mpc.matmul {{.*}}mpc.precision = f16
// FP16: mpc.matmul {{.*}}mpc.precision = f32, mpc.reason = "output layer
func.func @small_head(%x: tensor<64x256xf32>, %w: tensor<256x256xf32>, %h: tensor<256x2xf32>, %b: tensor<2xf32>) -> tensor<64x2xf32> {
  %y = mpc.matmul %x, %w : (tensor<64x256xf32>, tensor<256x256xf32>) -> tensor<64x256xf32>
  %r = mpc.relu %y : tensor<64x256xf32>
  %l = mpc.matmul %r, %h : (tensor<64x256xf32>, tensor<256x2xf32>) -> tensor<64x2xf32>
  %o = mpc.add %l, %b : (tensor<64x2xf32>, tensor<2xf32>) -> tensor<64x2xf32>
  return %o : tensor<64x2xf32>
}

// -----

// The head is 8 of 72 parts of the FLOPs (11%): bf16. The first matmul feeds
// the output only through the head, which is not a follower: bf16.
// CHECK-LABEL: func.func @large_head
// CHECK: mpc.matmul {{.*}}mpc.precision = bf16, mpc.reason = "compute-bound
// CHECK: mpc.matmul {{.*}}mpc.precision = bf16, mpc.reason = "compute-bound
func.func @large_head(%x: tensor<64x64xf32>, %w: tensor<64x64xf32>, %h: tensor<64x8xf32>) -> tensor<64x8xf32> {
  %y = mpc.matmul %x, %w : (tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<64x64xf32>
  %l = mpc.matmul %y, %h : (tensor<64x64xf32>, tensor<64x8xf32>) -> tensor<64x8xf32>
  return %l : tensor<64x8xf32>
}
