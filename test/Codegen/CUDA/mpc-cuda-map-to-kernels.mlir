// RUN: mpc-opt --split-input-file --mpc-cuda-map-to-kernels --cse %s | FileCheck %s
// RUN: mpc-opt --split-input-file --mpc-cuda-map-to-kernels=library-gemm=false --cse %s | FileCheck %s --check-prefix=NOLIB
// RUN: mpc-opt --split-input-file --mpc-cuda-map-to-kernels=vector-bits=0 --cse %s | FileCheck %s --check-prefix=SCALAR
// RUN: mpc-opt --split-input-file --mpc-cuda-map-to-kernels=sequential-phases=1 --cse %s | FileCheck %s --check-prefix=CPU
// RUN: mpc-opt --split-input-file --mpc-cuda-map-to-kernels %s | FileCheck %s --check-prefix=REPORT
// RUN: mpc-opt --split-input-file --mpc-cuda-map-to-kernels=atomic-scatter=1 --cse %s | FileCheck %s --check-prefix=ATOMIC

// An elementwise op whose operands are contiguous along the innermost loop:
// one thread per four f32 elements, 128-bit loads and stores, the bias a
// vector along the row; blocks and threads mapped for the GPU.
// CHECK-LABEL: func.func @bias_relu
// CHECK: scf.parallel (%[[B:.+]]) = (%c0) to (%c1) step (%c1)
// CHECK: scf.parallel (%[[T:.+]]) = (%c0) to (%c256) step (%c1)
// CHECK: %[[LIN:.+]] = arith.addi %{{.+}}, %[[T]]
// CHECK: arith.cmpi ult, %[[LIN]], %c64
// CHECK: vector.load %arg0[{{.+}}] {alignment = 16 : i64} : memref<8x32xf32>, vector<4xf32>
// CHECK: vector.load %arg1[{{.+}}] {alignment = 16 : i64} : memref<32xf32>, vector<4xf32>
// CHECK: arith.addf {{.+}} : vector<4xf32>
// CHECK: arith.maximumf {{.+}} : vector<4xf32>
// CHECK: vector.store {{.+}} {alignment = 16 : i64} : memref<8x32xf32>, vector<4xf32>
// CHECK: mapping = [#gpu.loop_dim_map<processor = thread_x
// CHECK: mapping = [#gpu.loop_dim_map<processor = block_x
// CHECK-NOT: linalg.generic
// SCALAR-LABEL: func.func @bias_relu
// SCALAR-NOT: vector.load
// SCALAR: arith.cmpi ult, %{{.+}}, %c256
// SCALAR: memref.load %arg0
#row = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
func.func @bias_relu(%x: memref<8x32xf32>, %b: memref<32xf32>, %y: memref<8x32xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [#row, #col, #row], iterator_types = ["parallel", "parallel"]}
      ins(%x, %b : memref<8x32xf32>, memref<32xf32>) outs(%y : memref<8x32xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    %r = arith.maximumf %s, %zero : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A bf16 -> f32 cast with 8 bf16 per thread would need 256-bit f32 stores:
// the widest element sets the vector (4 lanes: 64-bit loads, 128-bit stores).
// CHECK-LABEL: func.func @widen
// CHECK: vector.load %arg0[{{.+}}] {alignment = 8 : i64} : memref<4x16xbf16>, vector<4xbf16>
// CHECK: arith.extf {{.+}} : vector<4xbf16> to vector<4xf32>
// CHECK: vector.store {{.+}} {alignment = 16 : i64} : memref<4x16xf32>, vector<4xf32>
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @widen(%x: memref<4x16xbf16>, %y: memref<4x16xf32>) {
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<4x16xbf16>) outs(%y : memref<4x16xf32>) {
  ^bb0(%a: bf16, %o: f32):
    %e = arith.extf %a : bf16 to f32
    linalg.yield %e : f32
  }
  return
}

// -----

// Innermost dimension not a multiple of the vector, and a transposed read:
// one thread per element, the linear index split into loop indices.
// CHECK-LABEL: func.func @transpose
// CHECK-NOT: vector.load
// CHECK: arith.cmpi ult, %{{.+}}, %c15
// CHECK: %[[J:.+]] = arith.remui %{{.+}}, %c5
// CHECK: %[[I:.+]] = arith.divui %{{.+}}, %c5
// CHECK: %[[V:.+]] = memref.load %arg0[%[[J]], %[[I]]] : memref<5x3xf32>
// CHECK: memref.store %[[V]], %arg1[%[[I]], %[[J]]] : memref<3x5xf32>
func.func @transpose(%x: memref<5x3xf32>, %y: memref<3x5xf32>) {
  linalg.transpose ins(%x : memref<5x3xf32>) outs(%y : memref<3x5xf32>) permutation = [1, 0]
  return
}

// -----

// A row sum with a fused prologue (exp) over 1000 elements: one block per
// row, threads stride over the row; the partial sums meet in gpu.all_reduce
// (every thread gets the total), the initial value (the constant fill,
// which disappears) is added once and thread 0 stores the row's value.
// CHECK-LABEL: func.func @row_sum_exp
// CHECK-NOT: linalg.fill
// CHECK: scf.parallel (%[[ROW:.+]]) = (%c0) to (%c64) step (%c1)
// CHECK: scf.parallel (%[[T:.+]]) = (%c0) to (%c256) step (%c1)
// CHECK: %[[ID:.+]] = arith.constant -0.000000e+00 : f32
// CHECK: %[[PART:.+]] = scf.for %{{.+}} = %[[T]] to %c1000 step %c256 iter_args(%[[ACC:.+]] = %[[ID]])
// CHECK: math.exp
// CHECK: arith.addf %[[ACC]]
// CHECK: %[[SUM:.+]] = gpu.all_reduce add %[[PART]] uniform
// CHECK: %[[TOTAL:.+]] = arith.addf %cst, %[[SUM]] : f32
// CHECK: %[[FIRST:.+]] = arith.cmpi eq, %[[T]], %c0
// CHECK: scf.if %[[FIRST]]
// CHECK: memref.store %[[TOTAL]], %arg1[%[[ROW]]]
// CHECK: mapping = [#gpu.loop_dim_map<processor = thread_x
// For the CPU check the same partials meet in scf.reduce.
// CPU-LABEL: func.func @row_sum_exp
// CPU: %[[SUM:.+]] = scf.parallel (%[[T:.+]]) = (%c0) to (%c256) step (%c1) init (%{{.+}}) -> f32
// CPU: scf.for %{{.+}} = %[[T]] to %c1000 step %c256
// CPU: scf.reduce(%{{.+}} : f32)
// CPU: %[[TOTAL:.+]] = arith.addf %cst, %[[SUM]] : f32
// CPU: memref.store %[[TOTAL]], %arg1
#in = affine_map<(d0, d1) -> (d0, d1)>
#out = affine_map<(d0, d1) -> (d0)>
func.func @row_sum_exp(%x: memref<64x1000xf32>, %y: memref<64xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%y : memref<64xf32>)
  linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<64x1000xf32>) outs(%y : memref<64xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %e = math.exp %a : f32
    %s = arith.addf %acc, %e : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A row max starts from -inf; a short reduction (10) stays in one thread.
// CHECK-LABEL: func.func @row_max
// CHECK: arith.constant 0xFF800000 : f32
// CHECK: gpu.all_reduce maximumf
// CHECK-LABEL: func.func @short_max
// CHECK-NOT: scf.reduce(
// CHECK: scf.for %{{.+}} = %c0 to %c10 step %c1 iter_args
// CHECK: arith.maximumf
#in2 = affine_map<(d0, d1) -> (d0, d1)>
#out2 = affine_map<(d0, d1) -> (d0)>
func.func @row_max(%x: memref<4x512xf32>, %y: memref<4xf32>) {
  linalg.generic {indexing_maps = [#in2, #out2], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x512xf32>) outs(%y : memref<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %m = arith.maximumf %a, %acc : f32
    linalg.yield %m : f32
  }
  return
}
func.func @short_max(%x: memref<4x10xf32>, %y: memref<4xf32>) {
  linalg.generic {indexing_maps = [#in2, #out2], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x10xf32>) outs(%y : memref<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %m = arith.maximumf %a, %acc : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// A bf16 GEMM accumulating in f32 after a zero fill, B a transposed weight
// (an argument): one mpc_cuda_matmul call with beta = 0 (flags 1), B as a
// transposed view of the argument, no fill or transpose kernel.
// CHECK-LABEL: func.func @gemm
// CHECK-NOT: linalg.fill
// CHECK-NOT: linalg.transpose
// CHECK: %[[BT:.+]] = memref.transpose %arg1 (d0, d1) -> (d1, d0) : memref<32x16xbf16> to memref<16x32xbf16, strided<[1, 16]>>
// CHECK: %[[P:.+]] = memref.alloca() {mpc.host_buffer} : memref<38xi64>
// CHECK-DAG: memref.store %c2_i64{{.*}}, %[[P]][%c1]
// CHECK-DAG: memref.store %c1_i64{{.*}}, %[[P]][%c4]
// CHECK: memref.extract_aligned_pointer_as_index %[[BT]]
// CHECK: call @mpc_cuda_matmul(%[[P]]) : (memref<38xi64>) -> ()
// CHECK-NOT: scf.parallel
// NOLIB-LABEL: func.func @gemm
// NOLIB-NOT: mpc_cuda_matmul
// NOLIB: scf.for %{{.+}} = %c0 to %c16 step %c1 iter_args
// NOLIB: arith.extf
// NOLIB: arith.mulf
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @gemm(%x: memref<8x16xbf16>, %w: memref<32x16xbf16>, %y: memref<8x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %wt = memref.alloc() : memref<16x32xbf16>
  linalg.transpose ins(%w : memref<32x16xbf16>) outs(%wt : memref<16x32xbf16>) permutation = [1, 0]
  linalg.fill ins(%zero : f32) outs(%y : memref<8x32xf32>)
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %wt : memref<8x16xbf16>, memref<16x32xbf16>) outs(%y : memref<8x32xf32>) {
  ^bb0(%p: bf16, %q: bf16, %acc: f32):
    %pe = arith.extf %p : bf16 to f32
    %qe = arith.extf %q : bf16 to f32
    %m = arith.mulf %pe, %qe : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  memref.dealloc %wt : memref<16x32xbf16>
  return
}

// -----

// A batched GEMM (attention scores, K transposed by the maps): the batch
// stays the leading dim, B is a transposed view, C keeps its contents
// (beta = 1: flags 0).
// CHECK-LABEL: func.func @batched
// CHECK: memref.transpose %arg1 (d0, d1, d2) -> (d0, d2, d1)
// CHECK: memref.store %c0_i64{{.*}}, %{{.+}}[%c4]
// CHECK: call @mpc_cuda_matmul
#qa = affine_map<(b, m, n, k) -> (b, m, k)>
#kb = affine_map<(b, m, n, k) -> (b, n, k)>
#sc = affine_map<(b, m, n, k) -> (b, m, n)>
func.func @batched(%q: memref<4x8x16xf32>, %k: memref<4x8x16xf32>, %s: memref<4x8x8xf32>) {
  linalg.generic {indexing_maps = [#qa, #kb, #sc], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : memref<4x8x16xf32>, memref<4x8x16xf32>) outs(%s : memref<4x8x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A constant global read by a kernel is taken (with its views) into the
// kernel, so that outlining copies it into the GPU module; a copy is a
// kernel too.
// CHECK-LABEL: func.func @global_and_copy
// CHECK: scf.parallel
// CHECK: scf.parallel
// CHECK: memref.get_global @table : memref<16xf32>
// CHECK: scf.parallel
// CHECK: vector.load %arg0
// CHECK: vector.store {{.+}}, %arg2
// CHECK-NOT: memref.copy
memref.global "private" constant @table : memref<16xf32> = dense<1.0>
#v = affine_map<(d0) -> (d0)>
func.func @global_and_copy(%x: memref<16xf32>, %y: memref<16xf32>, %z: memref<16xf32>) {
  %t = memref.get_global @table : memref<16xf32>
  linalg.generic {indexing_maps = [#v, #v, #v], iterator_types = ["parallel"]}
      ins(%x, %t : memref<16xf32>, memref<16xf32>) outs(%y : memref<16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.mulf %a, %b : f32
    linalg.yield %s : f32
  }
  memref.copy %x, %z : memref<16xf32> to memref<16xf32>
  return
}

// -----

// A GEMM reading a constant global (host memory) cannot go to cuBLASLt: it
// becomes a generated kernel, which takes the global into the GPU module.
// CHECK-LABEL: func.func @gemm_constant
// CHECK-NOT: mpc_cuda_matmul
// CHECK: memref.get_global @weights
memref.global "private" constant @weights : memref<16x32xf32> = dense<0.5>
#ga = affine_map<(d0, d1, d2) -> (d0, d2)>
#gb = affine_map<(d0, d1, d2) -> (d2, d1)>
#gc = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @gemm_constant(%x: memref<8x16xf32>, %y: memref<8x32xf32>) {
  %w = memref.get_global @weights : memref<16x32xf32>
  linalg.generic {indexing_maps = [#ga, #gb, #gc], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<8x16xf32>, memref<16x32xf32>) outs(%y : memref<8x32xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A linear layer on [batch, seq, features] (two M loops) and attention
// scores on [batch, heads, seq, dim] (two batch loops, K transposed): the
// loops of each kind collapse into one GEMM dim (collapse_shape views).
// CHECK-LABEL: func.func @linear3d
// CHECK: memref.collapse_shape %arg0 {{\[}}[0, 1], [2]] : memref<2x8x16xf32> into memref<16x16xf32>
// CHECK: memref.collapse_shape %arg2 {{\[}}[0, 1], [2]] : memref<2x8x32xf32> into memref<16x32xf32>
// CHECK: call @mpc_cuda_matmul
// CHECK-LABEL: func.func @scores4d
// CHECK: %[[KT:.+]] = memref.transpose %arg1 (d0, d1, d2, d3) -> (d0, d1, d3, d2)
// CHECK: memref.collapse_shape %[[KT]] {{\[}}[0, 1], [2], [3]]
// CHECK: memref.collapse_shape %arg2 {{\[}}[0, 1], [2], [3]] : memref<2x4x8x8xf32> into memref<8x8x8xf32>
// CHECK: call @mpc_cuda_matmul
// A boolean mask select is not vectorized (no byte-aligned i1 vectors).
// CHECK-LABEL: func.func @mask
// CHECK-NOT: vector.load
#l_a = affine_map<(b, s, n, k) -> (b, s, k)>
#l_w = affine_map<(b, s, n, k) -> (k, n)>
#l_c = affine_map<(b, s, n, k) -> (b, s, n)>
func.func @linear3d(%x: memref<2x8x16xf32>, %w: memref<16x32xf32>, %y: memref<2x8x32xf32>) {
  linalg.generic {indexing_maps = [#l_a, #l_w, #l_c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<2x8x16xf32>, memref<16x32xf32>) outs(%y : memref<2x8x32xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}
#s_q = affine_map<(b, h, i, j, d) -> (b, h, i, d)>
#s_k = affine_map<(b, h, i, j, d) -> (b, h, j, d)>
#s_c = affine_map<(b, h, i, j, d) -> (b, h, i, j)>
func.func @scores4d(%q: memref<2x4x8x16xf32>, %k: memref<2x4x8x16xf32>, %s: memref<2x4x8x8xf32>) {
  linalg.generic {indexing_maps = [#s_q, #s_k, #s_c], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : memref<2x4x8x16xf32>, memref<2x4x8x16xf32>) outs(%s : memref<2x4x8x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  return
}
#mk = affine_map<(d0, d1) -> (d0, d1)>
func.func @mask(%m: memref<4x8xi1>, %x: memref<4x8xf32>, %y: memref<4x8xf32>) {
  %ninf = arith.constant -1.0e30 : f32
  linalg.generic {indexing_maps = [#mk, #mk, #mk], iterator_types = ["parallel", "parallel"]}
      ins(%m, %x : memref<4x8xi1>, memref<4x8xf32>) outs(%y : memref<4x8xf32>) {
  ^bb0(%c: i1, %v: f32, %o: f32):
    %r = arith.select %c, %v, %ninf : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// bf16 compute with the weight's cast to bf16 fused into the contraction:
// the weight is rounded once by a kernel of its own into a bf16 buffer, and
// the GEMM reads bf16 operands (dtype code 2 for A and B).
// CHECK-LABEL: func.func @fused_cast
// CHECK: %[[R:.+]] = memref.alloc() : memref<16x32xbf16>
// CHECK: scf.parallel
// CHECK: arith.truncf {{.+}} : vector<4xf32> to vector<4xbf16>
// CHECK: memref.store %c2_i64{{.*}}, %{{.+}}[%c1]
// CHECK: memref.store %c2_i64{{.*}}, %{{.+}}[%c2]
// CHECK: memref.extract_aligned_pointer_as_index %[[R]]
// CHECK: call @mpc_cuda_matmul
// CHECK: memref.dealloc %[[R]]
#fa = affine_map<(d0, d1, d2) -> (d0, d2)>
#fb = affine_map<(d0, d1, d2) -> (d2, d1)>
#fc = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @fused_cast(%x: memref<8x16xbf16>, %w: memref<16x32xf32>, %y: memref<8x32xf32>) {
  linalg.generic {indexing_maps = [#fa, #fb, #fc], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<8x16xbf16>, memref<16x32xf32>) outs(%y : memref<8x32xf32>) {
  ^bb0(%p: bf16, %q: f32, %acc: f32):
    %qb = arith.truncf %q : f32 to bf16
    %pe = arith.extf %p : bf16 to f32
    %qe = arith.extf %qb : bf16 to f32
    %m = arith.mulf %pe, %qe : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A convolution after im2col: weight [G, M, CK] x patches [N, G, CK, O] ->
// [N, G, M, O] with one group: the image loop N is outside M in the output,
// so it becomes the batch of patches and output while the weight is shared
// (rank 2); the unit group loop joins the first dim (moved there by a
// transposed view: unit dims cost nothing).
// CHECK-LABEL: func.func @conv_gemm
// CHECK: memref.collapse_shape %arg0 {{\[}}[0, 1], [2]] : memref<1x8x27xf32> into memref<8x27xf32>
// CHECK: %[[PT:.+]] = memref.transpose %arg1 (d0, d1, d2, d3) -> (d1, d0, d2, d3)
// CHECK: memref.collapse_shape %[[PT]] {{\[}}[0, 1], [2], [3]] : memref<1x4x27x64xf32, strided<[1728, 1728, 64, 1]>> into memref<4x27x64xf32, strided<[1728, 64, 1]>>
// CHECK: %[[OT:.+]] = memref.transpose %arg2 (d0, d1, d2, d3) -> (d1, d0, d2, d3)
// CHECK: memref.collapse_shape %[[OT]] {{\[}}[0, 1], [2], [3]] : memref<1x4x8x64xf32, strided<[512, 512, 64, 1]>> into memref<4x8x64xf32, strided<[512, 64, 1]>>
// CHECK: call @mpc_cuda_matmul
#cw = affine_map<(d0, d1, d2, d3, d4) -> (d1, d2, d4)>
#cp = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#co = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
func.func @conv_gemm(%w: memref<1x8x27xf32>, %p: memref<4x1x27x64xf32>, %o: memref<4x1x8x64xf32>) {
  linalg.generic {indexing_maps = [#cw, #cp, #co], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%w, %p : memref<1x8x27xf32>, memref<4x1x27x64xf32>) outs(%o : memref<4x1x8x64xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Softmax after the scaling of its input, as bufferization leaves it: the
// max and the sum start from copies of CSE'd fills (forwarded as fills of
// their own, then folded away), and the scale, both reductions and the
// normalization are one kernel: the row's max and sum stay in registers
// (their buffers go), the scaled row is written and read back by the same
// threads.
// CHECK-LABEL: func.func @softmax
// CHECK-NOT: memref.alloc()
// CHECK: scf.parallel (%[[ROW:.+]]) = (%c0) to (%c16) step (%c1)
// CHECK: scf.parallel (%[[T:.+]]) = (%c0) to (%c128) step (%c1)
// CHECK: scf.for %{{.+}} = %[[T]] to %c100 step %c128
// CHECK: arith.mulf
// CHECK: memref.store {{.+}}, %arg1
// CHECK: %[[MAX:.+]] = gpu.all_reduce maximumf
// CHECK: %[[M:.+]] = arith.maximumf {{.*}}%[[MAX]]
// CHECK: scf.for
// CHECK: arith.subf %{{.+}}, %[[M]]
// CHECK: math.exp
// CHECK: %[[SUM:.+]] = gpu.all_reduce add
// CHECK: %[[S:.+]] = arith.addf %{{.+}}, %[[SUM]]
// CHECK: scf.for
// CHECK: arith.divf %{{.+}}, %[[S]]
// CHECK: memref.store {{.+}}, %arg2
// CHECK-NOT: scf.parallel
// CHECK: return
// CPU-LABEL: func.func @softmax
// CPU: scf.parallel (%[[ROW:.+]]) = (%c0) to (%c16) step (%c1)
// CPU: scf.parallel
// CPU: arith.mulf
// CPU: scf.parallel {{.+}} init
// CPU: scf.reduce
// CPU: scf.parallel {{.+}} init
// CPU: scf.reduce
// CPU: scf.parallel
// CPU: arith.divf
#sm = affine_map<(d0, d1) -> (d0, d1)>
#sr = affine_map<(d0, d1) -> (d0)>
func.func @softmax(%x: memref<16x100xf32>, %scaled: memref<16x100xf32>, %y: memref<16x100xf32>) {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %half = arith.constant 0.5 : f32
  linalg.generic {indexing_maps = [#sm, #sm], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<16x100xf32>) outs(%scaled : memref<16x100xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %half : f32
    linalg.yield %m : f32
  }
  %minit = memref.alloc() : memref<16xf32>
  linalg.fill ins(%ninf : f32) outs(%minit : memref<16xf32>)
  %max = memref.alloc() : memref<16xf32>
  memref.copy %minit, %max : memref<16xf32> to memref<16xf32>
  linalg.generic {indexing_maps = [#sm, #sr], iterator_types = ["parallel", "reduction"]}
      ins(%scaled : memref<16x100xf32>) outs(%max : memref<16xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.maximumf %a, %acc : f32
    linalg.yield %r : f32
  }
  %sinit = memref.alloc() : memref<16xf32>
  linalg.fill ins(%zero : f32) outs(%sinit : memref<16xf32>)
  %sum = memref.alloc() : memref<16xf32>
  memref.copy %sinit, %sum : memref<16xf32> to memref<16xf32>
  linalg.generic {indexing_maps = [#sm, #sr, #sr], iterator_types = ["parallel", "reduction"]}
      ins(%scaled, %max : memref<16x100xf32>, memref<16xf32>) outs(%sum : memref<16xf32>) {
  ^bb0(%a: f32, %m: f32, %acc: f32):
    %d = arith.subf %a, %m : f32
    %e = math.exp %d : f32
    %r = arith.addf %acc, %e : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#sm, #sr, #sr, #sm], iterator_types = ["parallel", "parallel"]}
      ins(%scaled, %max, %sum : memref<16x100xf32>, memref<16xf32>, memref<16xf32>) outs(%y : memref<16x100xf32>) {
  ^bb0(%a: f32, %m: f32, %s: f32, %o: f32):
    %d = arith.subf %a, %m : f32
    %e = math.exp %d : f32
    %r = arith.divf %e, %s : f32
    linalg.yield %r : f32
  }
  memref.dealloc %minit : memref<16xf32>
  memref.dealloc %max : memref<16xf32>
  memref.dealloc %sinit : memref<16xf32>
  memref.dealloc %sum : memref<16xf32>
  return
}

// -----

// Index buffers (e.g. max-pooling's argmax in training) count 8 bytes an
// element in the report.
// CHECK: bytes_read = 32 : i64, bytes_written = 32 : i64{{.*}}name = "index_copy_k0"
// CHECK-LABEL: func.func @index_copy
func.func @index_copy(%x: memref<4xindex>, %y: memref<4xindex>) {
  memref.copy %x, %y : memref<4xindex> to memref<4xindex>
  return
}

// -----

// A scatter-add loop nest (Gather's gradient) left in host code: each
// element of the table is owned by one thread, which adds its updates in
// the loops' order (no atomics). The column loop (a direct index of the
// update) runs in parallel, the rows (the loaded index) are dealt over 8
// groups (the largest power of two within the table's 10 rows), the
// position loop runs in order in each thread, the update only for the
// group's rows.
// CHECK-LABEL: func.func @scatter_add
// CHECK: scf.parallel (%[[B:.+]]) = (%c0) to (%c1) step (%c1)
// CHECK: scf.parallel (%[[T:.+]]) = (%c0) to (%c256) step (%c1)
// CHECK: %[[L:.+]] = arith.addi
// CHECK: arith.cmpi ult, %[[L]], %c64
// CHECK: %[[COL:.+]] = arith.remui %[[L]], %c8
// CHECK: %[[GROUP:.+]] = arith.divui %[[L]], %c8
// CHECK: %[[SCALED:.+]] = arith.muli %[[COL]], %c1
// CHECK: %[[J:.+]] = arith.addi %[[SCALED]], %c0
// CHECK: scf.for %[[I:.+]] = %c0 to %c12 step %c1 {
// CHECK: %[[ROW:.+]] = memref.load %arg0[%[[I]]]
// CHECK: %[[MASKED:.+]] = arith.andi %[[ROW]], %c7
// CHECK: %[[MINE:.+]] = arith.cmpi eq, %[[MASKED]], %[[GROUP]]
// CHECK: scf.if %[[MINE]] {
// CHECK: %[[G:.+]] = memref.load %arg1[%[[I]], %[[J]]]
// CHECK: %[[OLD:.+]] = memref.load %arg2[%[[ROW]], %[[J]]]
// CHECK: %[[NEW:.+]] = arith.addf %[[OLD]], %[[G]]
// CHECK: memref.store %[[NEW]], %arg2[%[[ROW]], %[[J]]]
// CHECK-NOT: memref.atomic_rmw
// CHECK: mapping = [#gpu.loop_dim_map<processor = thread_x
// REPORT: {block = 256 : i64, bytes_read = 800 : i64, bytes_written = 320 : i64, flops = 96 : i64, grid = 1 : i64, name = "scatter_add_k0", onnx_nodes = [], ops = ["memref.load", "arith.addf", "memref.store"], strategy = "scatter-ordered"}
// With atomic-scatter: one thread per iteration, the read-add-write an
// atomic add.
// ATOMIC-LABEL: func.func @scatter_add
// ATOMIC: scf.parallel (%[[B:.+]]) = (%c0) to (%c1) step (%c1)
// ATOMIC: scf.parallel (%[[T:.+]]) = (%c0) to (%c256) step (%c1)
// ATOMIC: arith.cmpi ult, %{{.+}}, %c96
// ATOMIC: %[[ID:.+]] = memref.load %arg0
// ATOMIC: %[[G:.+]] = memref.load %arg1
// ATOMIC: memref.atomic_rmw addf %[[G]], %arg2[%{{.+}}, %{{.+}}] : (f32, memref<10x8xf32>) -> f32
// ATOMIC-NOT: memref.store
// ATOMIC: mapping = [#gpu.loop_dim_map<processor = thread_x
// ATOMIC-NOT: scf.for
// ATOMIC-LABEL: func.func @prefix_sum
// A loop that does anything else runs in one thread.
// CHECK-LABEL: func.func @prefix_sum
// CHECK: scf.parallel (%{{.+}}) = (%c0) to (%c1) step (%c1)
// CHECK: scf.parallel (%{{.+}}) = (%c0) to (%c1) step (%c1)
// CHECK: scf.for
// CHECK: memref.store
// REPORT-SAME: name = "prefix_sum_k1", onnx_nodes = [], ops = ["arith.subi", "memref.load", "arith.addf", "memref.store"], strategy = "serial"
func.func @scatter_add(%ids: memref<12xindex>, %grad: memref<12x8xf32>, %table: memref<10x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c12 = arith.constant 12 : index
  scf.for %i = %c0 to %c12 step %c1 {
    scf.for %j = %c0 to %c8 step %c1 {
      %row = memref.load %ids[%i] : memref<12xindex>
      %g = memref.load %grad[%i, %j] : memref<12x8xf32>
      %old = memref.load %table[%row, %j] : memref<10x8xf32>
      %new = arith.addf %old, %g : f32
      memref.store %new, %table[%row, %j] : memref<10x8xf32>
    }
  }
  return
}
func.func @prefix_sum(%x: memref<16xf32>) {
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  scf.for %i = %c1 to %c16 step %c1 {
    %p = arith.subi %i, %c1 : index
    %a = memref.load %x[%p] : memref<16xf32>
    %b = memref.load %x[%i] : memref<16xf32>
    %s = arith.addf %a, %b : f32
    memref.store %s, %x[%i] : memref<16xf32>
  }
  return
}

// -----

// Scatter-adds scatter-ordered refuses run in one thread: two updates in
// one nest, a table whose strides alias elements (stride 0), an update
// through a view made inside the nest. (atomic-scatter takes the first.)
// CHECK-LABEL: func.func @two_updates
// CHECK: scf.parallel (%{{.+}}) = (%c0) to (%c1) step (%c1)
// CHECK: scf.parallel (%{{.+}}) = (%c0) to (%c1) step (%c1)
// CHECK: scf.for
// CHECK: scf.for
// CHECK-NOT: memref.atomic_rmw
// ATOMIC-LABEL: func.func @two_updates
// ATOMIC: memref.atomic_rmw addf
// ATOMIC: memref.atomic_rmw addf
// CHECK-LABEL: func.func @aliasing_strides
// CHECK: scf.parallel (%{{.+}}) = (%c0) to (%c1) step (%c1)
// CHECK: scf.parallel (%{{.+}}) = (%c0) to (%c1) step (%c1)
// CHECK: scf.for
// CHECK: scf.for
// CHECK-LABEL: func.func @view_in_nest
// CHECK: scf.parallel (%{{.+}}) = (%c0) to (%c1) step (%c1)
// CHECK: scf.parallel (%{{.+}}) = (%c0) to (%c1) step (%c1)
// CHECK: scf.for
// CHECK: scf.for
// REPORT: name = "two_updates_k0", {{[^}]*}} strategy = "serial"
// REPORT-SAME: name = "aliasing_strides_k1", {{[^}]*}} strategy = "serial"
// REPORT-SAME: name = "view_in_nest_k2", {{[^}]*}} strategy = "serial"
func.func @two_updates(%ids: memref<12xindex>, %grad: memref<12x8xf32>, %table: memref<10x8xf32>,
                       %counts: memref<10x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c12 = arith.constant 12 : index
  %one = arith.constant 1.0 : f32
  scf.for %i = %c0 to %c12 step %c1 {
    scf.for %j = %c0 to %c8 step %c1 {
      %row = memref.load %ids[%i] : memref<12xindex>
      %g = memref.load %grad[%i, %j] : memref<12x8xf32>
      %old = memref.load %table[%row, %j] : memref<10x8xf32>
      %new = arith.addf %old, %g : f32
      memref.store %new, %table[%row, %j] : memref<10x8xf32>
      %n = memref.load %counts[%row, %j] : memref<10x8xf32>
      %n1 = arith.addf %n, %one : f32
      memref.store %n1, %counts[%row, %j] : memref<10x8xf32>
    }
  }
  return
}
func.func @aliasing_strides(%ids: memref<12xindex>, %grad: memref<12x8xf32>,
                            %table: memref<10x8xf32, strided<[0, 1]>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c12 = arith.constant 12 : index
  scf.for %i = %c0 to %c12 step %c1 {
    scf.for %j = %c0 to %c8 step %c1 {
      %row = memref.load %ids[%i] : memref<12xindex>
      %g = memref.load %grad[%i, %j] : memref<12x8xf32>
      %old = memref.load %table[%row, %j] : memref<10x8xf32, strided<[0, 1]>>
      %new = arith.addf %old, %g : f32
      memref.store %new, %table[%row, %j] : memref<10x8xf32, strided<[0, 1]>>
    }
  }
  return
}
func.func @view_in_nest(%ids: memref<12xindex>, %grad: memref<12x8xf32>, %table: memref<10x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c12 = arith.constant 12 : index
  scf.for %i = %c0 to %c12 step %c1 {
    scf.for %j = %c0 to %c8 step %c1 {
      %row = memref.load %ids[%i] : memref<12xindex>
      %g = memref.load %grad[%i, %j] : memref<12x8xf32>
      %line = memref.subview %table[%row, 0] [1, 8] [1, 1]
          : memref<10x8xf32> to memref<8xf32, strided<[1], offset: ?>>
      %old = memref.load %line[%j] : memref<8xf32, strided<[1], offset: ?>>
      %new = arith.addf %old, %g : f32
      memref.store %new, %line[%j] : memref<8xf32, strided<[1], offset: ?>>
    }
  }
  return
}

// -----

// A row index computed through an op with a region gets no row groups: the
// threads cover the directly indexed column loop only, each running every
// position in order.
// CHECK-LABEL: func.func @row_through_region
// CHECK: scf.parallel (%{{.+}}) = (%c0) to (%c256) step (%c1)
// CHECK: arith.cmpi ult, %{{.+}}, %c8
// CHECK-NOT: arith.andi
// CHECK: scf.for
// CHECK: scf.if
// CHECK: memref.store
// REPORT: grid = 1 : i64, name = "row_through_region_k0"{{[^}]*}}strategy = "scatter-ordered"
func.func @row_through_region(%ids: memref<12xindex>, %grad: memref<12x8xf32>, %table: memref<10x8xf32>,
                              %flip: i1) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c9 = arith.constant 9 : index
  %c12 = arith.constant 12 : index
  scf.for %i = %c0 to %c12 step %c1 {
    scf.for %j = %c0 to %c8 step %c1 {
      %id = memref.load %ids[%i] : memref<12xindex>
      %row = scf.if %flip -> index {
        %r = arith.subi %c9, %id : index
        scf.yield %r : index
      } else {
        scf.yield %id : index
      }
      %g = memref.load %grad[%i, %j] : memref<12x8xf32>
      %old = memref.load %table[%row, %j] : memref<10x8xf32>
      %new = arith.addf %old, %g : f32
      memref.store %new, %table[%row, %j] : memref<10x8xf32>
    }
  }
  return
}

// -----

// A softmax normalizing its input in place: the reductions read the row
// element by element and the normalization writes the same elements, each
// by the thread that read it: one kernel. A reduction writing what an
// earlier phase read elsewhere would not be.
// CHECK-LABEL: func.func @softmax_in_place
// CHECK: scf.parallel (%{{.+}}) = (%c0) to (%c4) step (%c1)
// CHECK: gpu.all_reduce maximumf
// CHECK-NOT: scf.parallel
// CHECK: gpu.all_reduce add
// CHECK-NOT: scf.parallel
// CHECK: memref.store {{.+}}, %arg0
// CHECK-NOT: scf.parallel
// CHECK: return
#ip = affine_map<(d0, d1) -> (d0, d1)>
#ir = affine_map<(d0, d1) -> (d0)>
func.func @softmax_in_place(%x: memref<4x64xf32>) {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %max = memref.alloc() : memref<4xf32>
  linalg.fill ins(%ninf : f32) outs(%max : memref<4xf32>)
  linalg.generic {indexing_maps = [#ip, #ir], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x64xf32>) outs(%max : memref<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.maximumf %a, %acc : f32
    linalg.yield %r : f32
  }
  %sum = memref.alloc() : memref<4xf32>
  linalg.fill ins(%zero : f32) outs(%sum : memref<4xf32>)
  linalg.generic {indexing_maps = [#ip, #ir, #ir], iterator_types = ["parallel", "reduction"]}
      ins(%x, %max : memref<4x64xf32>, memref<4xf32>) outs(%sum : memref<4xf32>) {
  ^bb0(%a: f32, %m: f32, %acc: f32):
    %d = arith.subf %a, %m : f32
    %e = math.exp %d : f32
    %r = arith.addf %acc, %e : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#ir, #ir, #ip], iterator_types = ["parallel", "parallel"]}
      ins(%max, %sum : memref<4xf32>, memref<4xf32>) outs(%x : memref<4x64xf32>) {
  ^bb0(%m: f32, %s: f32, %o: f32):
    %d = arith.subf %o, %m : f32
    %e = math.exp %d : f32
    %r = arith.divf %e, %s : f32
    linalg.yield %r : f32
  }
  memref.dealloc %max : memref<4xf32>
  memref.dealloc %sum : memref<4xf32>
  return
}

// -----

// A zero-filled GEMM that cannot go to cuBLASLt (a constant operand) keeps
// its zero: the generated kernel's accumulator starts from it.
// CHECK-LABEL: func.func @gemm_constant_filled
// CHECK-NOT: mpc_cuda_matmul
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: memref.get_global @w2
// CHECK: scf.reduce
// CHECK: %[[TOTAL:.+]] = arith.addf %[[ZERO]], %{{.+}} : f32
// CHECK: memref.store %[[TOTAL]], %arg1
memref.global "private" constant @w2 : memref<64x32xf32> = dense<0.5>
#za = affine_map<(d0, d1, d2) -> (d0, d2)>
#zb = affine_map<(d0, d1, d2) -> (d2, d1)>
#zc = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @gemm_constant_filled(%x: memref<8x64xf32>, %y: memref<8x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %w = memref.get_global @w2 : memref<64x32xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<8x32xf32>)
  linalg.generic {indexing_maps = [#za, #zb, #zc], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<8x64xf32>, memref<64x32xf32>) outs(%y : memref<8x32xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A transpose (block r writes column r) feeding a row sum (block r reads
// row r) is two kernels: fused, blocks would read what other blocks write.
// CHECK-LABEL: func.func @transpose_then_sum
// CHECK: scf.parallel
// CHECK: memref.store
// CHECK: mapping = [#gpu.loop_dim_map<processor = block_x
// CHECK: scf.parallel
// CHECK: gpu.all_reduce add
#tt_in = affine_map<(d0, d1) -> (d0, d1)>
#tt_out = affine_map<(d0, d1) -> (d1, d0)>
#tt_row = affine_map<(d0, d1) -> (d0)>
func.func @transpose_then_sum(%x: memref<64x64xf32>, %t: memref<64x64xf32>, %s: memref<64xf32>) {
  linalg.generic {indexing_maps = [#tt_in, #tt_out], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<64x64xf32>) outs(%t : memref<64x64xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  }
  linalg.generic {indexing_maps = [#tt_in, #tt_row], iterator_types = ["parallel", "reduction"]}
      ins(%t : memref<64x64xf32>) outs(%s : memref<64xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A row sum into a buffer holding data (not a fill) that a later phase
// divides by: the initial value is read before the partials (so before the
// all-reduce's barriers and thread 0's store).
// CHECK-LABEL: func.func @accumulate_then_scale
// CHECK: scf.parallel
// CHECK: %[[INIT:.+]] = memref.load %arg1
// CHECK: scf.for
// CHECK: %[[SUM:.+]] = gpu.all_reduce add
// CHECK: %[[TOTAL:.+]] = arith.addf {{.*}}%[[INIT]]
// CHECK: scf.if
// CHECK: memref.store %[[TOTAL]], %arg1
// CHECK: arith.divf %{{.+}}, %[[TOTAL]]
#as_in = affine_map<(d0, d1) -> (d0, d1)>
#as_row = affine_map<(d0, d1) -> (d0)>
func.func @accumulate_then_scale(%x: memref<64x1024xf32>, %y: memref<64xf32>, %z: memref<64x1024xf32>) {
  linalg.generic {indexing_maps = [#as_in, #as_row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<64x1024xf32>) outs(%y : memref<64xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#as_in, #as_row, #as_in], iterator_types = ["parallel", "parallel"]}
      ins(%x, %y : memref<64x1024xf32>, memref<64xf32>) outs(%z : memref<64x1024xf32>) {
  ^bb0(%a: f32, %s: f32, %o: f32):
    %r = arith.divf %a, %s : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A fill whose buffer is then written through a view (a pad's interior) is
// not a fill any more when copied: the copy stays a copy.
// CHECK-LABEL: func.func @padded_copy
// CHECK: memref.store %cst, %[[PAD:.+]][
// CHECK: memref.load %arg0
// CHECK: %[[V:.+]] = memref.load %[[PAD]]
// CHECK: memref.store %[[V]], %arg2
func.func @padded_copy(%x: memref<4xf32>, %p: memref<6xf32>, %out: memref<6xf32>) {
  %zero = arith.constant 0.0 : f32
  %pad = memref.alloc() : memref<6xf32>
  linalg.fill ins(%zero : f32) outs(%pad : memref<6xf32>)
  %interior = memref.subview %pad[1] [4] [1] : memref<6xf32> to memref<4xf32, strided<[1], offset: 1>>
  memref.copy %x, %interior : memref<4xf32> to memref<4xf32, strided<[1], offset: 1>>
  memref.copy %pad, %out : memref<6xf32> to memref<6xf32>
  memref.dealloc %pad : memref<6xf32>
  return
}

// -----

// cuBLASLt epilogues. A Linear layer + ReLU as bufferization leaves it: the
// zero-filled GEMM, then the bias add and ReLU written in place. The call
// does both (epilogue 3 = MPC_MM_EPILOGUE_RELU_BIAS, slot 32; the bias's
// dtype f32 in slot 33, its pointer, offset, length 32 and stride 1 in slots
// 34-37): no kernel is left, and the report has the epilogue.
// CHECK-LABEL: func.func @linear_bias_relu
// CHECK-NOT: linalg.generic
// CHECK-NOT: scf.parallel
// CHECK: %[[P:.+]] = memref.alloca() {mpc.host_buffer} : memref<38xi64>
// CHECK: memref.store %c3_i64, %[[P]][%c32] : memref<38xi64>
// CHECK: memref.store %c0_i64, %[[P]][%c33] : memref<38xi64>
// CHECK: %[[BIAS:.+]] = memref.extract_aligned_pointer_as_index %arg2 : memref<32xf32> -> index
// CHECK: %[[BIAS64:.+]] = arith.index_cast %[[BIAS]] : index to i64
// CHECK: memref.store %[[BIAS64]], %[[P]][%c34]
// CHECK: memref.store %c32_i64, %[[P]][%c36] : memref<38xi64>
// CHECK: memref.store %c1_i64, %[[P]][%c37] : memref<38xi64>
// CHECK: call @mpc_cuda_matmul(%[[P]]) : (memref<38xi64>) -> ()
// CHECK-NOT: scf.parallel
// CHECK: return
// NOLIB-LABEL: func.func @linear_bias_relu
// NOLIB-NOT: mpc_cuda_matmul
// NOLIB: arith.maximumf
// The report: one GEMM, with the bias add's node, ops and FLOPs, reading
// A, B and the bias and writing D.
// REPORT: mpc.cuda_kernels = [{block = 0 : i64, bytes_read = 2688 : i64, bytes_written = 1024 : i64, epilogue = "bias+relu", flops = 8704 : i64, grid = 0 : i64, name = "linear_bias_relu_k0", onnx_nodes = ["/fc1/Gemm", "/Relu"], ops = ["arith.mulf", "arith.addf", "arith.maximumf"], strategy = "cublaslt-gemm"}]
#er_a = affine_map<(d0, d1, d2) -> (d0, d2)>
#er_b = affine_map<(d0, d1, d2) -> (d2, d1)>
#er_c = affine_map<(d0, d1, d2) -> (d0, d1)>
#er_id = affine_map<(d0, d1) -> (d0, d1)>
#er_n = affine_map<(d0, d1) -> (d1)>
func.func @linear_bias_relu(%x: memref<8x16xf32>, %w: memref<32x16xf32>, %bias: memref<32xf32>,
                            %y: memref<8x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %wt = memref.transpose %w (d0, d1) -> (d1, d0) : memref<32x16xf32> to memref<16x32xf32, strided<[1, 16]>>
  linalg.fill ins(%zero : f32) outs(%y : memref<8x32xf32>)
  linalg.generic {indexing_maps = [#er_a, #er_b, #er_c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %wt : memref<8x16xf32>, memref<16x32xf32, strided<[1, 16]>>) outs(%y : memref<8x32xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } loc("/fc1/Gemm")
  linalg.generic {indexing_maps = [#er_id, #er_n, #er_id], iterator_types = ["parallel", "parallel"]}
      ins(%y, %bias : memref<8x32xf32>, memref<32xf32>) outs(%y : memref<8x32xf32>) {
  ^bb0(%c: f32, %b: f32, %o: f32):
    %s = arith.addf %c, %b : f32
    %r = arith.maximumf %s, %zero : f32
    linalg.yield %r : f32
  } loc("/Relu")
  return
}

// -----

// GELU in its tanh form (as mpc.gelu approximate=tanh lowers) after an f16
// GEMM accumulating in f32, written to a new f16 buffer with an f16 bias:
// epilogue 5 (MPC_MM_EPILOGUE_GELU_BIAS), C's dtype slot (3) is the output's
// (f16, 1), and the f32 accumulator is never allocated.
// REPORT: epilogue = "bias+gelu_tanh"
// REPORT-SAME: name = "bias_gelu_tanh_k0"
// CHECK-LABEL: func.func @bias_gelu_tanh
// CHECK-NOT: memref.alloc()
// CHECK-NOT: scf.parallel
// CHECK-DAG: memref.store %c5_i64{{.*}}, %[[P:.+]][%c32] : memref<38xi64>
// CHECK-DAG: memref.store %c1_i64{{.*}}, %[[P]][%c3] : memref<38xi64>
// CHECK-DAG: memref.store %c1_i64{{.*}}, %[[P]][%c33] : memref<38xi64>
// CHECK: memref.extract_aligned_pointer_as_index %arg2 : memref<64xf16>
// CHECK: memref.extract_aligned_pointer_as_index %arg3 : memref<4x64xf16>
// CHECK: call @mpc_cuda_matmul
// CHECK-NOT: scf.parallel
// CHECK: return
#eg_a = affine_map<(d0, d1, d2) -> (d0, d2)>
#eg_b = affine_map<(d0, d1, d2) -> (d2, d1)>
#eg_c = affine_map<(d0, d1, d2) -> (d0, d1)>
#eg_id = affine_map<(d0, d1) -> (d0, d1)>
#eg_n = affine_map<(d0, d1) -> (d1)>
func.func @bias_gelu_tanh(%x: memref<4x32xf16>, %w: memref<32x64xf16>, %bias: memref<64xf16>,
                          %y: memref<4x64xf16>) {
  %zero = arith.constant 0.0 : f32
  %acc = memref.alloc() : memref<4x64xf32>
  linalg.fill ins(%zero : f32) outs(%acc : memref<4x64xf32>)
  linalg.generic {indexing_maps = [#eg_a, #eg_b, #eg_c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<4x32xf16>, memref<32x64xf16>) outs(%acc : memref<4x64xf32>) {
  ^bb0(%p: f16, %q: f16, %o: f32):
    %pe = arith.extf %p : f16 to f32
    %qe = arith.extf %q : f16 to f32
    %m = arith.mulf %pe, %qe : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#eg_id, #eg_n, #eg_id], iterator_types = ["parallel", "parallel"]}
      ins(%acc, %bias : memref<4x64xf32>, memref<64xf16>) outs(%y : memref<4x64xf16>) {
  ^bb0(%c: f32, %b: f16, %o: f16):
    %half = arith.constant 0.5 : f16
    %one = arith.constant 1.0 : f16
    %k = arith.constant 0.044715 : f16
    %s2pi = arith.constant 0.797884583 : f16
    %ch = arith.truncf %c : f32 to f16
    %v = arith.addf %ch, %b : f16
    %v2 = arith.mulf %v, %v : f16
    %v3 = arith.mulf %v2, %v : f16
    %kv3 = arith.mulf %k, %v3 : f16
    %inner = arith.addf %v, %kv3 : f16
    %scaled = arith.mulf %s2pi, %inner : f16
    %t = math.tanh %scaled : f16
    %hv = arith.mulf %half, %v : f16
    %onet = arith.addf %one, %t : f16
    %r = arith.mulf %hv, %onet : f16
    linalg.yield %r : f16
  }
  memref.dealloc %acc : memref<4x64xf32>
  return
}

// -----

// bf16 compute as the precision pass leaves it: the op rounds the f32
// accumulator and the f32 bias to bf16 before adding. The bias is rounded
// to bf16 by a small kernel of its own (cuBLASLt reads it in D's type;
// the op rounds it the same way), the sum and ReLU happen in cuBLASLt's f32
// with one rounding to bf16. A ReLU written as compare and select is
// recognized as well.
// REPORT: name = "bf16_bias_relu_k0_bias"
// REPORT-SAME: epilogue = "bias+relu"
// REPORT-SAME: name = "bf16_bias_relu_k0"
// CHECK-LABEL: func.func @bf16_bias_relu
// CHECK: %[[RB:.+]] = memref.alloc() : memref<32xbf16>
// CHECK: scf.parallel
// CHECK: arith.truncf {{.+}} : vector<4xf32> to vector<4xbf16>
// CHECK-DAG: memref.store %c3_i64{{.*}}, %[[P:.+]][%c32] : memref<38xi64>
// CHECK-DAG: memref.store %c2_i64{{.*}}, %[[P]][%c33] : memref<38xi64>
// CHECK: memref.extract_aligned_pointer_as_index %[[RB]]
// CHECK: call @mpc_cuda_matmul
// CHECK: memref.dealloc %[[RB]]
// CHECK-NOT: scf.parallel
// CHECK: return
#eb_a = affine_map<(d0, d1, d2) -> (d0, d2)>
#eb_b = affine_map<(d0, d1, d2) -> (d2, d1)>
#eb_c = affine_map<(d0, d1, d2) -> (d0, d1)>
#eb_id = affine_map<(d0, d1) -> (d0, d1)>
#eb_n = affine_map<(d0, d1) -> (d1)>
func.func @bf16_bias_relu(%x: memref<8x16xbf16>, %w: memref<16x32xbf16>, %bias: memref<32xf32>,
                          %y: memref<8x32xbf16>) {
  %zero = arith.constant 0.0 : f32
  %acc = memref.alloc() : memref<8x32xf32>
  linalg.fill ins(%zero : f32) outs(%acc : memref<8x32xf32>)
  linalg.generic {indexing_maps = [#eb_a, #eb_b, #eb_c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<8x16xbf16>, memref<16x32xbf16>) outs(%acc : memref<8x32xf32>) {
  ^bb0(%p: bf16, %q: bf16, %o: f32):
    %pe = arith.extf %p : bf16 to f32
    %qe = arith.extf %q : bf16 to f32
    %m = arith.mulf %pe, %qe : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#eb_id, #eb_n, #eb_id], iterator_types = ["parallel", "parallel"]}
      ins(%acc, %bias : memref<8x32xf32>, memref<32xf32>) outs(%y : memref<8x32xbf16>) {
  ^bb0(%c: f32, %b: f32, %o: bf16):
    %bzero = arith.constant 0.0 : bf16
    %bb = arith.truncf %b : f32 to bf16
    %cb = arith.truncf %c : f32 to bf16
    %v = arith.addf %cb, %bb : bf16
    %pos = arith.cmpf ogt, %v, %bzero : bf16
    %r = arith.select %pos, %v, %bzero : bf16
    linalg.yield %r : bf16
  }
  memref.dealloc %acc : memref<8x32xf32>
  return
}

// -----

// A query projection split into heads, as a BERT-style model leaves it: the
// N dims are (heads, head dim), the bias [128] is viewed as [4, 32] and the
// output allocated after the GEMM. The view and the allocation move up to
// the call, which writes the output with the bias over both N dims (32 x 4
// = 128 elements: slot 36); the accumulator is gone, the copy into the
// result is the one kernel left.
// REPORT: epilogue = "bias"
// REPORT-SAME: name = "heads_bias_k0"
// CHECK-LABEL: func.func @heads_bias
// CHECK: %[[OUT:.+]] = memref.alloc() : memref<2x32x4x32xf32>
// CHECK-NOT: memref.alloc()
// CHECK: memref.expand_shape %arg2
// CHECK: memref.collapse_shape %[[OUT]] {{\[}}[0, 1], [2, 3]] : memref<2x32x4x32xf32> into memref<64x128xf32>
// CHECK: memref.store %c1_i64, %[[P:.+]][%c32] : memref<38xi64>
// CHECK: memref.store %c128_i64, %[[P]][%c36] : memref<38xi64>
// CHECK: call @mpc_cuda_matmul
// CHECK: scf.parallel
// CHECK: vector.load %[[OUT]]
// CHECK: vector.store {{.+}}, %arg3
// CHECK-NOT: scf.parallel
// CHECK: return
#eh_a = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4)>
#eh_b = affine_map<(d0, d1, d2, d3, d4) -> (d4, d2, d3)>
#eh_c = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#eh_n = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#eh_id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @heads_bias(%x: memref<2x32x128xf32>, %w: memref<128x4x32xf32>, %bias: memref<128xf32>,
                      %y: memref<2x32x4x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %acc = memref.alloc() : memref<2x32x4x32xf32>
  linalg.fill ins(%zero : f32) outs(%acc : memref<2x32x4x32xf32>)
  linalg.generic {indexing_maps = [#eh_a, #eh_b, #eh_c], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<2x32x128xf32>, memref<128x4x32xf32>) outs(%acc : memref<2x32x4x32xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  }
  %heads = memref.expand_shape %bias [[0, 1]] output_shape [4, 32] : memref<128xf32> into memref<4x32xf32>
  %out = memref.alloc() : memref<2x32x4x32xf32>
  linalg.generic {indexing_maps = [#eh_n, #eh_id, #eh_id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%heads, %acc : memref<4x32xf32>, memref<2x32x4x32xf32>) outs(%out : memref<2x32x4x32xf32>) {
  ^bb0(%b: f32, %c: f32, %o: f32):
    %r = arith.addf %b, %c : f32
    linalg.yield %r : f32
  }
  memref.dealloc %acc : memref<2x32x4x32xf32>
  memref.copy %out, %y : memref<2x32x4x32xf32> to memref<2x32x4x32xf32>
  memref.dealloc %out : memref<2x32x4x32xf32>
  return
}

// -----

// Not folded: ONNX Gelu's default erf form (cuBLASLt's GELU is the tanh
// form); a bias over M (cuBLASLt's bias runs over N); C read again after
// the op; an f16 output of f32 inputs (cuBLASLt writes f32 for f32).
// Each keeps its elementwise kernel after an epilogue-free call (slot 32
// holds 0).
// REPORT-NOT: epilogue
// CHECK-LABEL: func.func @gelu_erf
// CHECK: memref.store %c0_i64{{.*}}, %{{.+}}[%c32] : memref<38xi64>
// CHECK: call @mpc_cuda_matmul
// CHECK: scf.parallel
// CHECK: math.erf
// CHECK-LABEL: func.func @bias_over_m
// CHECK: call @mpc_cuda_matmul
// CHECK: scf.parallel
// CHECK: arith.addf
// CHECK-LABEL: func.func @c_read_later
// CHECK: call @mpc_cuda_matmul
// CHECK: scf.parallel
// CHECK: arith.maximumf
// CHECK: scf.parallel
// CHECK: {{memref|vector}}.store {{.+}}, %arg4
// CHECK-LABEL: func.func @f16_out_of_f32
// CHECK: call @mpc_cuda_matmul
// CHECK: scf.parallel
// CHECK: arith.truncf
#en_a = affine_map<(d0, d1, d2) -> (d0, d2)>
#en_b = affine_map<(d0, d1, d2) -> (d2, d1)>
#en_c = affine_map<(d0, d1, d2) -> (d0, d1)>
#en_id = affine_map<(d0, d1) -> (d0, d1)>
#en_n = affine_map<(d0, d1) -> (d1)>
#en_m = affine_map<(d0, d1) -> (d0)>
func.func @gelu_erf(%x: memref<8x16xf32>, %w: memref<16x32xf32>, %y: memref<8x32xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%y : memref<8x32xf32>)
  linalg.generic {indexing_maps = [#en_a, #en_b, #en_c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<8x16xf32>, memref<16x32xf32>) outs(%y : memref<8x32xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#en_id, #en_id], iterator_types = ["parallel", "parallel"]}
      ins(%y : memref<8x32xf32>) outs(%y : memref<8x32xf32>) {
  ^bb0(%c: f32, %o: f32):
    %half = arith.constant 0.5 : f32
    %one = arith.constant 1.0 : f32
    %rsqrt2 = arith.constant 0.707106769 : f32
    %scaled = arith.mulf %c, %rsqrt2 : f32
    %e = math.erf %scaled : f32
    %hc = arith.mulf %half, %c : f32
    %onee = arith.addf %one, %e : f32
    %r = arith.mulf %hc, %onee : f32
    linalg.yield %r : f32
  }
  return
}
func.func @bias_over_m(%x: memref<8x16xf32>, %w: memref<16x32xf32>, %bias: memref<8xf32>,
                       %y: memref<8x32xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%y : memref<8x32xf32>)
  linalg.generic {indexing_maps = [#en_a, #en_b, #en_c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<8x16xf32>, memref<16x32xf32>) outs(%y : memref<8x32xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#en_id, #en_m, #en_id], iterator_types = ["parallel", "parallel"]}
      ins(%y, %bias : memref<8x32xf32>, memref<8xf32>) outs(%y : memref<8x32xf32>) {
  ^bb0(%c: f32, %b: f32, %o: f32):
    %r = arith.addf %c, %b : f32
    linalg.yield %r : f32
  }
  return
}
func.func @c_read_later(%x: memref<8x16xf32>, %w: memref<16x32xf32>, %bias: memref<32xf32>,
                        %y: memref<8x32xf32>, %raw: memref<8x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %acc = memref.alloc() : memref<8x32xf32>
  linalg.fill ins(%zero : f32) outs(%acc : memref<8x32xf32>)
  linalg.generic {indexing_maps = [#en_a, #en_b, #en_c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<8x16xf32>, memref<16x32xf32>) outs(%acc : memref<8x32xf32>) {
  ^bb0(%p: f32, %q: f32, %a: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %a, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#en_id, #en_n, #en_id], iterator_types = ["parallel", "parallel"]}
      ins(%acc, %bias : memref<8x32xf32>, memref<32xf32>) outs(%y : memref<8x32xf32>) {
  ^bb0(%c: f32, %b: f32, %o: f32):
    %s = arith.addf %c, %b : f32
    %r = arith.maximumf %s, %zero : f32
    linalg.yield %r : f32
  }
  memref.copy %acc, %raw : memref<8x32xf32> to memref<8x32xf32>
  memref.dealloc %acc : memref<8x32xf32>
  return
}
func.func @f16_out_of_f32(%x: memref<8x16xf32>, %w: memref<16x32xf32>, %bias: memref<32xf16>,
                          %y: memref<8x32xf16>) {
  %zero = arith.constant 0.0 : f32
  %acc = memref.alloc() : memref<8x32xf32>
  linalg.fill ins(%zero : f32) outs(%acc : memref<8x32xf32>)
  linalg.generic {indexing_maps = [#en_a, #en_b, #en_c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<8x16xf32>, memref<16x32xf32>) outs(%acc : memref<8x32xf32>) {
  ^bb0(%p: f32, %q: f32, %a: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %a, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#en_id, #en_n, #en_id], iterator_types = ["parallel", "parallel"]}
      ins(%acc, %bias : memref<8x32xf32>, memref<32xf16>) outs(%y : memref<8x32xf16>) {
  ^bb0(%c: f32, %b: f16, %o: f16):
    %ch = arith.truncf %c : f32 to f16
    %r = arith.addf %ch, %b : f16
    linalg.yield %r : f16
  }
  memref.dealloc %acc : memref<8x32xf32>
  return
}

// -----

// A sum over the leading dim (a bias gradient, 4096 rows x 64 columns):
// 32 lanes over adjacent columns, the rows in slices of 32 (2 column tiles
// x 128 slices = 256 blocks), each slice's sums into a partial buffer, then
// one thread per column adds the 128 partials in slice order to the output.
// 40 rows are one slice: one kernel adding to the output directly.
// CHECK-LABEL: func.func @bias_grad
// CHECK: %[[PARTIAL:.+]] = memref.alloc() : memref<128x64xf32>
// CHECK: scf.parallel (%[[BLOCK:.+]]) = (%c0) to (%c256) step (%c1)
// CHECK: scf.parallel (%[[LANE:.+]]) = (%c0) to (%c32) step (%c1)
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c1 iter_args(%{{.+}} = %cst{{.*}}) -> (f32)
// CHECK: memref.store %{{.+}}, %[[PARTIAL]][
// CHECK: scf.for %{{.+}} = %c0 to %c128 step %c1 iter_args
// CHECK: memref.load %[[PARTIAL]][
// CHECK: memref.dealloc %[[PARTIAL]]
// CHECK-NOT: linalg.generic
// CHECK-LABEL: func.func @short_bias_grad
// CHECK-NOT: memref.alloc
// CHECK: scf.parallel (%{{.+}}) = (%c0) to (%c2) step (%c1)
// CHECK: scf.parallel (%{{.+}}) = (%c0) to (%c32) step (%c1)
// CHECK-NOT: linalg.generic
// REPORT: {block = 32 : i64, {{.+}} grid = 256 : i64, name = "bias_grad_k0_partial", {{.+}} strategy = "column-reduction"}, {block = 256 : i64, {{.+}} grid = 1 : i64, name = "bias_grad_k0", {{.+}} strategy = "column-reduction"}, {block = 32 : i64, {{.+}} grid = 2 : i64, name = "short_bias_grad_k2", {{.+}} strategy = "column-reduction"}]
#col_in = affine_map<(d0, d1) -> (d0, d1)>
#col_out = affine_map<(d0, d1) -> (d1)>
func.func @bias_grad(%dy: memref<4096x64xbf16>, %db: memref<64xf32>) {
  linalg.generic {indexing_maps = [#col_in, #col_out], iterator_types = ["reduction", "parallel"]}
      ins(%dy : memref<4096x64xbf16>) outs(%db : memref<64xf32>) {
  ^bb0(%a: bf16, %acc: f32):
    %e = arith.extf %a : bf16 to f32
    %s = arith.addf %acc, %e : f32
    linalg.yield %s : f32
  }
  return
}
func.func @short_bias_grad(%dy: memref<40x64xf32>, %db: memref<64xf32>) {
  linalg.generic {indexing_maps = [#col_in, #col_out], iterator_types = ["reduction", "parallel"]}
      ins(%dy : memref<40x64xf32>) outs(%db : memref<64xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %acc, %a : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A multi-result elementwise op (mpc-fuse-elementwise keeps a value with
// several users as one more result): one kernel stores every result, here
// as vectors.
// CHECK-LABEL: func.func @two_results
// CHECK: scf.parallel
// CHECK: arith.addf {{.+}} : vector<4xf32>
// CHECK: arith.maximumf {{.+}} : vector<4xf32>
// CHECK-DAG: vector.store {{.+}}, %arg2[{{.+}}] {alignment = 16 : i64} : memref<8x32xf32>, vector<4xf32>
// CHECK-DAG: vector.store {{.+}}, %arg3[{{.+}}] {alignment = 16 : i64} : memref<8x32xf32>, vector<4xf32>
// CHECK-NOT: scf.parallel
// CHECK: return
// SCALAR-LABEL: func.func @two_results
// SCALAR-DAG: memref.store {{.+}}, %arg2
// SCALAR-DAG: memref.store {{.+}}, %arg3
#tr_id = affine_map<(d0, d1) -> (d0, d1)>
#tr_n = affine_map<(d0, d1) -> (d1)>
func.func @two_results(%x: memref<8x32xf32>, %b: memref<32xf32>, %z: memref<8x32xf32>,
                       %y: memref<8x32xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [#tr_id, #tr_n, #tr_id, #tr_id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %b : memref<8x32xf32>, memref<32xf32>) outs(%z, %y : memref<8x32xf32>, memref<8x32xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32, %p: f32):
    %s = arith.addf %a, %c : f32
    %r = arith.maximumf %s, %zero : f32
    linalg.yield %s, %r : f32, f32
  }
  return
}

// -----

// A bias add and ReLU that also keep the pre-activation (for the backward)
// after a zero-filled GEMM: cuBLASLt's epilogue writes one output, so the
// GEMM takes no epilogue (slot 32 stays 0) and the op is a kernel.
// CHECK-LABEL: func.func @bias_relu_keeping_preactivation
// CHECK: memref.store %c0_i64{{.*}}, %{{.+}}[%c32] : memref<38xi64>
// CHECK: call @mpc_cuda_matmul
// CHECK: scf.parallel
// CHECK: arith.maximumf
// CHECK-DAG: vector.store {{.+}}, %arg3
// CHECK-DAG: vector.store {{.+}}, %arg4
// The report: the GEMM's record has no epilogue field (it would come
// between bytes_written and flops).
// REPORT: bytes_written = {{[0-9]+}} : i64, flops = {{[0-9]+}} : i64, grid = 0 : i64, name = "bias_relu_keeping_preactivation_k0"
// REPORT-SAME: strategy = "cublaslt-gemm"
// REPORT-SAME: name = "bias_relu_keeping_preactivation_k1"
// REPORT-SAME: strategy = "elementwise-vector4"
#kp_a = affine_map<(d0, d1, d2) -> (d0, d2)>
#kp_b = affine_map<(d0, d1, d2) -> (d2, d1)>
#kp_c = affine_map<(d0, d1, d2) -> (d0, d1)>
#kp_id = affine_map<(d0, d1) -> (d0, d1)>
#kp_n = affine_map<(d0, d1) -> (d1)>
func.func @bias_relu_keeping_preactivation(%x: memref<8x16xf32>, %w: memref<16x32xf32>,
                                           %bias: memref<32xf32>, %z: memref<8x32xf32>,
                                           %y: memref<8x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %acc = memref.alloc() : memref<8x32xf32>
  linalg.fill ins(%zero : f32) outs(%acc : memref<8x32xf32>)
  linalg.generic {indexing_maps = [#kp_a, #kp_b, #kp_c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<8x16xf32>, memref<16x32xf32>) outs(%acc : memref<8x32xf32>) {
  ^bb0(%p: f32, %q: f32, %a: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %a, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#kp_id, #kp_n, #kp_id, #kp_id], iterator_types = ["parallel", "parallel"]}
      ins(%acc, %bias : memref<8x32xf32>, memref<32xf32>) outs(%z, %y : memref<8x32xf32>, memref<8x32xf32>) {
  ^bb0(%c: f32, %b: f32, %o: f32, %p: f32):
    %s = arith.addf %c, %b : f32
    %r = arith.maximumf %s, %zero : f32
    linalg.yield %s, %r : f32, f32
  }
  memref.dealloc %acc : memref<8x32xf32>
  return
}
