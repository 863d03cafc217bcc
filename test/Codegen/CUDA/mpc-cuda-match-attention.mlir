// RUN: mpc-opt --split-input-file --mpc-cuda-match-attention %s | FileCheck %s
// RUN: mpc-opt --split-input-file '--mpc-cuda-schedule=attention=cudnn' --canonicalize %s | FileCheck %s --check-prefix=SLOTS

// BERT's chain in bf16: heads transposed in and out, K^T a transpose of K,
// the scores divided by a constant, the softmax in f32 around an additive
// [B,1,1,Skv] mask. The transposes become the permutations of the outlined
// function's arguments and result (no copies), the scale 1/8.
// CHECK-LABEL: func.func private @bf16_mask_attention(
// CHECK-SAME: %{{.+}}: tensor<2x16x2x32xbf16>, %{{.+}}: tensor<2x16x2x32xbf16>, %{{.+}}: tensor<2x16x2x32xbf16>, %{{.+}}: tensor<2x1x1x16xf32>) -> tensor<2x16x2x32xbf16>
// CHECK-SAME: mpc.attention = {onnx_nodes = ["/MatMul", "/Div", "/Add", "/Softmax", "/MatMul_1", "/Transpose_q", "/Transpose_k", "/Transpose_v", "/Transpose_o"]
// CHECK-SAME: perms = [array<i64: 0, 2, 1, 3>, array<i64: 0, 2, 1, 3>, array<i64: 0, 2, 1, 3>, array<i64: 0, 2, 1, 3>]
// CHECK-SAME: scale = 1.250000e-01 : f32}, mpc.cuda_library = "attention"
// CHECK: mpc.softmax
// CHECK-LABEL: func.func @bf16_mask(
// CHECK-NOT: mpc.
// CHECK: %[[O:.+]] = call @bf16_mask_attention(%arg0, %arg1, %arg2, %arg3)
// CHECK-NEXT: return %[[O]]
//
// After bufferization: no kernel before one mpc_cuda_attention call; Q, K, V, O as
// [B,H,S,D] views of the [B,S,H,D] buffers (K not transposed: its head axis
// has stride 1), the mask's broadcast axes stride 0, scale 0.125 = 0x3E000000.
// SLOTS-LABEL: func.func @bf16_mask(
// SLOTS-NOT: scf.parallel
// SLOTS: %[[P:.+]] = memref.alloca() {mpc.host_buffer} : memref<55xi64>
// SLOTS-NEXT: memref.store %c1_i64, %[[P]][%c0]
// SLOTS-NEXT: memref.store %c2_i64, %[[P]][%c1]
// SLOTS-NEXT: memref.store %c0_i64, %[[P]][%c2]
// SLOTS-NEXT: memref.store %c0_i64, %[[P]][%c3]
// SLOTS-NEXT: memref.store %c1040187392_i64, %[[P]][%c4]
// Q: offset 0, sizes [2,2,16,32], strides [1024,32,64,1]
// SLOTS-DAG: memref.store %c0_i64, %[[P]][%c6]
// SLOTS-DAG: memref.store %c2_i64, %[[P]][%c7]
// SLOTS-DAG: memref.store %c2_i64, %[[P]][%c8]
// SLOTS-DAG: memref.store %c16_i64, %[[P]][%c9]
// SLOTS-DAG: memref.store %c32_i64, %[[P]][%c10]
// SLOTS-DAG: memref.store %c1024_i64, %[[P]][%c11]
// SLOTS-DAG: memref.store %c32_i64, %[[P]][%c12]
// SLOTS-DAG: memref.store %c64_i64, %[[P]][%c13]
// SLOTS-DAG: memref.store %c1_i64, %[[P]][%c14]
// K: sizes [2,2,16,32] (Skv before D), strides [1024,32,64,1]
// SLOTS-DAG: memref.store %c16_i64, %[[P]][%c19]
// SLOTS-DAG: memref.store %c32_i64, %[[P]][%c20]
// SLOTS-DAG: memref.store %c64_i64, %[[P]][%c23]
// SLOTS-DAG: memref.store %c1_i64, %[[P]][%c24]
// O: strides [1024,32,64,1]
// SLOTS-DAG: memref.store %c64_i64, %[[P]][%c43]
// SLOTS-DAG: memref.store %c1_i64, %[[P]][%c44]
// mask: sizes [2,1,1,16], strides [16,0,0,1]
// SLOTS-DAG: memref.store %c2_i64, %[[P]][%c47]
// SLOTS-DAG: memref.store %c1_i64, %[[P]][%c48]
// SLOTS-DAG: memref.store %c1_i64, %[[P]][%c49]
// SLOTS-DAG: memref.store %c16_i64, %[[P]][%c50]
// SLOTS-DAG: memref.store %c16_i64, %[[P]][%c51]
// SLOTS-DAG: memref.store %c0_i64, %[[P]][%c52]
// SLOTS-DAG: memref.store %c0_i64, %[[P]][%c53]
// SLOTS-DAG: memref.store %c1_i64, %[[P]][%c54]
// SLOTS: call @mpc_cuda_attention(%[[P]]) : (memref<55xi64>) -> ()
// (then only the copy of the result into the out-parameter)
// SLOTS: return
// SLOTS-NOT: func.func private @bf16_mask_attention
func.func @bf16_mask(%q: tensor<2x16x2x32xbf16>, %k: tensor<2x16x2x32xbf16>, %v: tensor<2x16x2x32xbf16>, %mask: tensor<2x1x1x16xf32>) -> tensor<2x16x2x32xbf16> {
  %qt = mpc.transpose %q {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x16x2x32xbf16>) -> tensor<2x2x16x32xbf16> loc("/Transpose_q")
  %kt = mpc.transpose %k {perm = array<i64: 0, 2, 3, 1>} : (tensor<2x16x2x32xbf16>) -> tensor<2x2x32x16xbf16> loc("/Transpose_k")
  %vt = mpc.transpose %v {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x16x2x32xbf16>) -> tensor<2x2x16x32xbf16> loc("/Transpose_v")
  %s = mpc.matmul %qt, %kt {acc_type = f32} : (tensor<2x2x16x32xbf16>, tensor<2x2x32x16xbf16>) -> tensor<2x2x16x16xbf16> loc("/MatMul")
  %c = arith.constant dense<8.0> : tensor<bf16>
  %d = mpc.div %s, %c : (tensor<2x2x16x16xbf16>, tensor<bf16>) -> tensor<2x2x16x16xbf16> loc("/Div")
  %w = mpc.cast %d : tensor<2x2x16x16xbf16> to tensor<2x2x16x16xf32>
  %a = mpc.add %w, %mask : (tensor<2x2x16x16xf32>, tensor<2x1x1x16xf32>) -> tensor<2x2x16x16xf32> loc("/Add")
  %p = mpc.softmax %a {axis = 3 : i64} : tensor<2x2x16x16xf32> loc("/Softmax")
  %n = mpc.cast %p : tensor<2x2x16x16xf32> to tensor<2x2x16x16xbf16>
  %o = mpc.matmul %n, %vt {acc_type = f32} : (tensor<2x2x16x16xbf16>, tensor<2x2x16x32xbf16>) -> tensor<2x2x16x32xbf16> loc("/MatMul_1")
  %ot = mpc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x2x16x32xbf16>) -> tensor<2x16x2x32xbf16> loc("/Transpose_o")
  return %ot : tensor<2x16x2x32xbf16>
}

// -----

// fp16 without a mask, the softmax in f16, the scale a Mul: dense operands,
// mask dtype -1 and its slots zero.
// CHECK-LABEL: func.func private @fp16_attention(
// CHECK-SAME: %{{.+}}: tensor<1x4x8x16xf16>, %{{.+}}: tensor<1x4x8x16xf16>, %{{.+}}: tensor<1x4x8x16xf16>) -> tensor<1x4x8x16xf16>
// CHECK-SAME: perms = [array<i64: 0, 1, 2, 3>, array<i64: 0, 1, 2, 3>, array<i64: 0, 1, 2, 3>, array<i64: 0, 1, 2, 3>]
// CHECK-SAME: scale = 2.500000e-01 : f32
// CHECK-LABEL: func.func @fp16(
// CHECK: call @fp16_attention(%arg0, %arg1, %arg2)
// SLOTS-LABEL: func.func @fp16(
// SLOTS: %[[P:.+]] = memref.alloca() {mpc.host_buffer} : memref<55xi64>
// SLOTS-NEXT: memref.store %c1_i64, %[[P]][%c0]
// SLOTS-NEXT: memref.store %c1_i64, %[[P]][%c1]
// SLOTS-NEXT: memref.store %c-1_i64, %[[P]][%c2]
// SLOTS-NEXT: memref.store %c0_i64, %[[P]][%c3]
// SLOTS-NEXT: memref.store %c1048576000_i64, %[[P]][%c4]
// K dense [1,4,8,16]: strides [512,128,16,1]
// SLOTS-DAG: memref.store %c8_i64, %[[P]][%c19]
// SLOTS-DAG: memref.store %c16_i64, %[[P]][%c20]
// SLOTS-DAG: memref.store %c16_i64, %[[P]][%c23]
// SLOTS-DAG: memref.store %c1_i64, %[[P]][%c24]
// SLOTS-DAG: memref.store %c0_i64, %[[P]][%c45]
// SLOTS-DAG: memref.store %c0_i64, %[[P]][%c50]
// SLOTS-DAG: memref.store %c0_i64, %[[P]][%c54]
// SLOTS: call @mpc_cuda_attention(%[[P]])
func.func @fp16(%q: tensor<1x4x8x16xf16>, %k: tensor<1x4x8x16xf16>, %v: tensor<1x4x8x16xf16>) -> tensor<1x4x8x16xf16> {
  %kt = mpc.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x4x8x16xf16>) -> tensor<1x4x16x8xf16>
  %s = mpc.matmul %q, %kt {acc_type = f32} : (tensor<1x4x8x16xf16>, tensor<1x4x16x8xf16>) -> tensor<1x4x8x8xf16>
  %c = arith.constant dense<0.25> : tensor<1xf16>
  %m = mpc.mul %c, %s : (tensor<1xf16>, tensor<1x4x8x8xf16>) -> tensor<1x4x8x8xf16>
  %p = mpc.softmax %m {axis = 3 : i64} : tensor<1x4x8x8xf16>
  %o = mpc.matmul %p, %v {acc_type = f32} : (tensor<1x4x8x8xf16>, tensor<1x4x8x16xf16>) -> tensor<1x4x8x16xf16>
  return %o : tensor<1x4x8x16xf16>
}

// -----

// Rank 3 with K^T given as such (not a transpose): K is made contiguous along
// the head axis by a transpose before the call; no scale (1.0). The operands
// are padded with a leading axis of size 1.
// CHECK-LABEL: func.func private @rank3_attention(
// CHECK-SAME: %{{.+}}: tensor<4x8x32xbf16>, %{{.+}}: tensor<4x8x32xbf16>, %{{.+}}: tensor<4x8x32xbf16>, %{{.+}}: tensor<8x8xbf16>) -> tensor<4x8x32xbf16>
// CHECK-SAME: scale = 1.000000e+00 : f32
// CHECK-LABEL: func.func @rank3(
// CHECK: %[[K:.+]] = mpc.transpose %arg1 {perm = array<i64: 0, 2, 1>} : (tensor<4x32x8xbf16>) -> tensor<4x8x32xbf16>
// CHECK: call @rank3_attention(%arg0, %[[K]], %arg2, %arg3)
// SLOTS-LABEL: func.func @rank3(
// SLOTS: %[[P:.+]] = memref.alloca() {mpc.host_buffer} : memref<55xi64>
// SLOTS-DAG: memref.store %c1065353216_i64, %[[P]][%c4]
// Q [1,4,8,32]: strides [0,256,32,1]
// SLOTS-DAG: memref.store %c1_i64, %[[P]][%c7]
// SLOTS-DAG: memref.store %c4_i64, %[[P]][%c8]
// SLOTS-DAG: memref.store %c0_i64, %[[P]][%c11]
// SLOTS-DAG: memref.store %c256_i64, %[[P]][%c12]
// mask [1,1,8,8] from [8,8]: dtype bf16, strides [0,0,8,1]
// SLOTS-DAG: memref.store %c2_i64, %[[P]][%c2]
// SLOTS-DAG: memref.store %c0_i64, %[[P]][%c51]
// SLOTS-DAG: memref.store %c0_i64, %[[P]][%c52]
// SLOTS-DAG: memref.store %c8_i64, %[[P]][%c53]
// SLOTS: call @mpc_cuda_attention(%[[P]])
func.func @rank3(%q: tensor<4x8x32xbf16>, %kt: tensor<4x32x8xbf16>, %v: tensor<4x8x32xbf16>, %mask: tensor<8x8xbf16>) -> tensor<4x8x32xbf16> {
  %s = mpc.matmul %q, %kt {acc_type = f32} : (tensor<4x8x32xbf16>, tensor<4x32x8xbf16>) -> tensor<4x8x8xbf16>
  %a = mpc.add %mask, %s : (tensor<8x8xbf16>, tensor<4x8x8xbf16>) -> tensor<4x8x8xbf16>
  %w = mpc.cast %a : tensor<4x8x8xbf16> to tensor<4x8x8xf32>
  %p = mpc.softmax %w {axis = 2 : i64} : tensor<4x8x8xf32>
  %n = mpc.cast %p : tensor<4x8x8xf32> to tensor<4x8x8xbf16>
  %o = mpc.matmul %n, %v {acc_type = f32} : (tensor<4x8x8xbf16>, tensor<4x8x32xbf16>) -> tensor<4x8x32xbf16>
  return %o : tensor<4x8x32xbf16>
}

// -----

// Not matched (each keeps the generated kernels): f32 operands.
// CHECK-LABEL: func.func @f32(
// CHECK-NOT: call
// CHECK: mpc.softmax
func.func @f32(%q: tensor<1x2x8x16xf32>, %kt: tensor<1x2x16x8xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32> {
  %s = mpc.matmul %q, %kt : (tensor<1x2x8x16xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x8x8xf32>
  %p = mpc.softmax %s {axis = 3 : i64} : tensor<1x2x8x8xf32>
  %o = mpc.matmul %p, %v : (tensor<1x2x8x8xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32>
  return %o : tensor<1x2x8x16xf32>
}

// -----

// A head size that is not a multiple of 8.
// CHECK-LABEL: func.func @head12(
// CHECK-NOT: call
// CHECK: mpc.softmax
func.func @head12(%q: tensor<1x2x8x12xbf16>, %kt: tensor<1x2x12x8xbf16>, %v: tensor<1x2x8x16xbf16>) -> tensor<1x2x8x16xbf16> {
  %s = mpc.matmul %q, %kt {acc_type = f32} : (tensor<1x2x8x12xbf16>, tensor<1x2x12x8xbf16>) -> tensor<1x2x8x8xbf16>
  %p = mpc.softmax %s {axis = 3 : i64} : tensor<1x2x8x8xbf16>
  %o = mpc.matmul %p, %v {acc_type = f32} : (tensor<1x2x8x8xbf16>, tensor<1x2x8x16xbf16>) -> tensor<1x2x8x16xbf16>
  return %o : tensor<1x2x8x16xbf16>
}

// -----

// The softmax over the query axis.
// CHECK-LABEL: func.func @query_axis(
// CHECK-NOT: call
// CHECK: mpc.softmax
func.func @query_axis(%q: tensor<1x2x8x16xbf16>, %kt: tensor<1x2x16x8xbf16>, %v: tensor<1x2x8x16xbf16>) -> tensor<1x2x8x16xbf16> {
  %s = mpc.matmul %q, %kt {acc_type = f32} : (tensor<1x2x8x16xbf16>, tensor<1x2x16x8xbf16>) -> tensor<1x2x8x8xbf16>
  %p = mpc.softmax %s {axis = 2 : i64} : tensor<1x2x8x8xbf16>
  %o = mpc.matmul %p, %v {acc_type = f32} : (tensor<1x2x8x8xbf16>, tensor<1x2x8x16xbf16>) -> tensor<1x2x8x16xbf16>
  return %o : tensor<1x2x8x16xbf16>
}

// -----

// The scaled scores are also returned: a second use of an intermediate.
// CHECK-LABEL: func.func @second_use(
// CHECK-NOT: call
// CHECK: mpc.softmax
func.func @second_use(%q: tensor<1x2x8x16xbf16>, %kt: tensor<1x2x16x8xbf16>, %v: tensor<1x2x8x16xbf16>) -> (tensor<1x2x8x16xbf16>, tensor<1x2x8x8xbf16>) {
  %s = mpc.matmul %q, %kt {acc_type = f32} : (tensor<1x2x8x16xbf16>, tensor<1x2x16x8xbf16>) -> tensor<1x2x8x8xbf16>
  %c = arith.constant dense<4.0> : tensor<bf16>
  %d = mpc.div %s, %c : (tensor<1x2x8x8xbf16>, tensor<bf16>) -> tensor<1x2x8x8xbf16>
  %p = mpc.softmax %d {axis = 3 : i64} : tensor<1x2x8x8xbf16>
  %o = mpc.matmul %p, %v {acc_type = f32} : (tensor<1x2x8x8xbf16>, tensor<1x2x8x16xbf16>) -> tensor<1x2x8x16xbf16>
  return %o, %d : tensor<1x2x8x16xbf16>, tensor<1x2x8x8xbf16>
}

// -----

// The mask added before the scaling (it would be scaled too).
// CHECK-LABEL: func.func @mask_then_scale(
// CHECK-NOT: call
// CHECK: mpc.softmax
func.func @mask_then_scale(%q: tensor<1x2x8x16xbf16>, %kt: tensor<1x2x16x8xbf16>, %v: tensor<1x2x8x16xbf16>, %mask: tensor<1x1x1x8xbf16>) -> tensor<1x2x8x16xbf16> {
  %s = mpc.matmul %q, %kt {acc_type = f32} : (tensor<1x2x8x16xbf16>, tensor<1x2x16x8xbf16>) -> tensor<1x2x8x8xbf16>
  %a = mpc.add %s, %mask : (tensor<1x2x8x8xbf16>, tensor<1x1x1x8xbf16>) -> tensor<1x2x8x8xbf16>
  %c = arith.constant dense<4.0> : tensor<bf16>
  %d = mpc.div %a, %c : (tensor<1x2x8x8xbf16>, tensor<bf16>) -> tensor<1x2x8x8xbf16>
  %p = mpc.softmax %d {axis = 3 : i64} : tensor<1x2x8x8xbf16>
  %o = mpc.matmul %p, %v {acc_type = f32} : (tensor<1x2x8x8xbf16>, tensor<1x2x8x16xbf16>) -> tensor<1x2x8x16xbf16>
  return %o : tensor<1x2x8x16xbf16>
}
