// RUN: mpc-opt --split-input-file --mpc-vectorize-generics %s | FileCheck %s
// RUN: mpc-opt --split-input-file --mpc-vectorize-generics=vector-size=8 %s | FileCheck %s --check-prefix=EIGHT
// RUN: mpc-opt --split-input-file --mpc-emulate-narrow-floats="include-f16 expand-casts=false" --mpc-vectorize-generics %s | FileCheck %s --check-prefix=WIDE

// A bias add with GELU-like math: the innermost loop (96) becomes 16-lane
// vectors (6 per row), every other loop stays a scalar loop; the bias is a
// broadcast along the rows and read as a vector along the innermost loop.
// CHECK-LABEL: func.func @bias_exp
// CHECK: scf.for %{{.+}} = %c0 to %c4 step %c1
// CHECK: scf.for %{{.+}} = %c0 to %c96 step %c16
// CHECK-DAG: vector.load {{.+}} : memref<16xf32, {{.+}}>, vector<16xf32>
// CHECK-DAG: vector.load {{.+}} : memref<1x16xf32, {{.+}}>, vector<16xf32>
// CHECK: arith.addf {{.+}} : vector<16xf32>
// CHECK: math.exp {{.+}} : vector<16xf32>
// CHECK: math.sqrt {{.+}} : vector<16xf32>
// CHECK: vector.store {{.+}} : memref<1x16xf32, {{.+}}>, vector<16xf32>
// CHECK-NOT: linalg.generic
// The vector size is the largest divisor of the dimension up to the limit.
// EIGHT-LABEL: func.func @bias_exp
// EIGHT: scf.for %{{.+}} = %c0 to %c96 step %c8
// EIGHT: math.exp {{.+}} : vector<8xf32>
func.func @bias_exp(%x: memref<4x96xf32>, %b: memref<96xf32>, %y: memref<4x96xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x, %b : memref<4x96xf32>, memref<96xf32>) outs(%y : memref<4x96xf32>) {
  ^bb0(%v: f32, %c: f32, %o: f32):
    %s = arith.addf %v, %c : f32
    %e = math.exp %s : f32
    %r = math.sqrt %e : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A reduction over an outer loop (mean pooling over the sequence) keeps its
// order: one lane-wise add per step of the reduction loop.
// CHECK-LABEL: func.func @outer_reduction
// CHECK: scf.for %{{.+}} = %c0 to %c8 step %c1
// CHECK: scf.for %{{.+}} = %c0 to %c32 step %c16
// CHECK: arith.addf {{.+}} : vector<16xf32>
// CHECK-NOT: vector.reduction
// CHECK-NOT: linalg.generic
func.func @outer_reduction(%x: memref<2x8x32xf32>, %y: memref<2x32xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, k, j) -> (i, k, j)>, affine_map<(i, k, j) -> (i, j)>],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x : memref<2x8x32xf32>) outs(%y : memref<2x32xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %s = arith.addf %acc, %v : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// bf16 in, bf16 out, f32 arithmetic: the extension and the rounding are
// vectorized (mpc-emulate-narrow-floats lowers them lane-wise to integer
// ops), so every store still rounds to bf16.
// CHECK-LABEL: func.func @bf16_casts
// CHECK: vector.load {{.+}} : memref<1x16xbf16, {{.+}}>, vector<16xbf16>
// CHECK: arith.extf {{.+}} : vector<16xbf16> to vector<16xf32>
// CHECK: arith.mulf {{.+}} : vector<16xf32>
// CHECK: arith.truncf {{.+}} : vector<16xf32> to vector<16xbf16>
// CHECK: vector.store {{.+}} : memref<1x16xbf16, {{.+}}>, vector<16xbf16>
func.func @bf16_casts(%x: memref<4x32xbf16>, %y: memref<4x32xbf16>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<4x32xbf16>) outs(%y : memref<4x32xbf16>) {
  ^bb0(%v: bf16, %o: bf16):
    %e = arith.extf %v : bf16 to f32
    %m = arith.mulf %e, %e : f32
    %t = arith.truncf %m : f32 to bf16
    linalg.yield %t : bf16
  }
  return
}

// -----

// bf16 arithmetic vectorizes once mpc-emulate-narrow-floats has widened it:
// each op computes in f32 and rounds to bf16, lane by lane, as the scalar
// loop did. Unwidened, it stays scalar.
// CHECK-LABEL: func.func @bf16_arith
// CHECK-NOT: vector<
// CHECK: arith.mulf {{.+}} : bf16
// WIDE-LABEL: func.func @bf16_arith
// WIDE: scf.for %{{.+}} = %c0 to %c32 step %c16
// WIDE-DAG: %[[X:.+]] = vector.load {{.+}} : memref<1x16xbf16, {{.+}}>, vector<16xbf16>
// WIDE-DAG: %[[Y:.+]] = vector.load {{.+}} : memref<1x16xbf16, {{.+}}>, vector<16xbf16>
// WIDE-DAG: %[[XW:.+]] = arith.extf %[[X]] : vector<16xbf16> to vector<16xf32>
// WIDE-DAG: %[[YW:.+]] = arith.extf %[[Y]] : vector<16xbf16> to vector<16xf32>
// WIDE: %[[P:.+]] = arith.mulf %[[XW]], %[[YW]] : vector<16xf32>
// WIDE: %[[PB:.+]] = arith.truncf %[[P]] : vector<16xf32> to vector<16xbf16>
// WIDE: %[[PW:.+]] = arith.extf %[[PB]] : vector<16xbf16> to vector<16xf32>
// WIDE: %[[S:.+]] = arith.addf %[[PW]], %{{.+}} : vector<16xf32>
// WIDE: %[[R:.+]] = arith.truncf %[[S]] : vector<16xf32> to vector<16xbf16>
// WIDE: vector.store %[[R]], {{.+}} : memref<1x16xbf16, {{.+}}>, vector<16xbf16>
// WIDE-NOT: linalg.generic
// WIDE: return
func.func @bf16_arith(%x: memref<4x32xbf16>, %y: memref<4x32xbf16>, %z: memref<4x32xbf16>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>,
                                   affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x, %y : memref<4x32xbf16>, memref<4x32xbf16>) outs(%z : memref<4x32xbf16>) {
  ^bb0(%a: bf16, %b: bf16, %o: bf16):
    %p = arith.mulf %a, %b : bf16
    %s = arith.addf %p, %a : bf16
    linalg.yield %s : bf16
  }
  return
}

// -----

// f16 alike (include-f16): a ReLU and a division, 16 lanes in f32.
// CHECK-LABEL: func.func @f16_arith
// CHECK-NOT: vector<
// CHECK: arith.divf {{.+}} : f16
// WIDE-LABEL: func.func @f16_arith
// WIDE: arith.extf {{.+}} : vector<16xf16> to vector<16xf32>
// WIDE: arith.maximumf {{.+}} : vector<16xf32>
// WIDE: arith.truncf {{.+}} : vector<16xf32> to vector<16xf16>
// WIDE: arith.divf {{.+}} : vector<16xf32>
// WIDE: arith.truncf {{.+}} : vector<16xf32> to vector<16xf16>
// WIDE: vector.store {{.+}} : memref<1x16xf16, {{.+}}>, vector<16xf16>
// WIDE-NOT: linalg.generic
// WIDE: return
func.func @f16_arith(%x: memref<4x32xf16>, %y: memref<4x32xf16>) {
  %zero = arith.constant 0.0 : f16
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<4x32xf16>) outs(%y : memref<4x32xf16>) {
  ^bb0(%a: f16, %o: f16):
    %r = arith.maximumf %a, %zero : f16
    %d = arith.divf %r, %a : f16
    linalg.yield %d : f16
  }
  return
}

// -----

// Left to the scalar loops: an innermost reduction over fewer than 4 rows
// (its lanes are rows: see @row_reduction), bf16 arithmetic (not widened
// to f32 first), erf (a libm call,
// lowered after the vector dialect), an i1 result (bit-packed as a vector),
// a transposed innermost read (not contiguous), an innermost size below 4.
// CHECK-LABEL: func.func @left_scalar
// CHECK-NOT: vector.
// CHECK-COUNT-6: linalg.generic
// CHECK-NOT: vector.
// CHECK: return
func.func @left_scalar(%a: memref<4x8xf32>, %sum: memref<3xf32>, %h: memref<4x8xbf16>, %c: memref<4x8xi1>,
                       %t: memref<8x4xf32>, %p: memref<4x3xf32>, %r: memref<3x8xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%r : memref<3x8xf32>) outs(%sum : memref<3xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %s = arith.addf %acc, %v : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%h : memref<4x8xbf16>) outs(%h : memref<4x8xbf16>) {
  ^bb0(%v: bf16, %o: bf16):
    %s = arith.addf %v, %v : bf16
    linalg.yield %s : bf16
  }
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x8xf32>) outs(%a : memref<4x8xf32>) {
  ^bb0(%v: f32, %o: f32):
    %s = math.erf %v : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x8xf32>) outs(%c : memref<4x8xi1>) {
  ^bb0(%v: f32, %o: i1):
    %z = arith.constant 0.0 : f32
    %s = arith.cmpf ogt, %v, %z : f32
    linalg.yield %s : i1
  }
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (j, i)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%t : memref<8x4xf32>) outs(%a : memref<4x8xf32>) {
  ^bb0(%v: f32, %o: f32):
    linalg.yield %v : f32
  }
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%p : memref<4x3xf32>) outs(%p : memref<4x3xf32>) {
  ^bb0(%v: f32, %o: f32):
    %s = arith.addf %v, %v : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Copies, fills and transposes that keep the innermost dimension are
// generalized and vectorized like any elementwise op.
// CHECK-LABEL: func.func @named_ops
// CHECK-NOT: linalg.
// CHECK: vector.store %cst, {{.+}} : memref<1x1x16xf32, strided<[48, 16, 1], {{.+}}>>, vector<16xf32>
// CHECK-NOT: linalg.
// CHECK: vector.load {{.+}} : memref<1x1x16xf32, strided<[48, 16, 1], {{.+}}>>, vector<16xf32>
// CHECK: vector.store {{.+}} : memref<1x1x16xf32, strided<[32, 16, 1], {{.+}}>>, vector<16xf32>
// CHECK-NOT: linalg.
// CHECK: return
func.func @named_ops(%a: memref<2x3x16xf32>, %b: memref<3x2x16xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%a : memref<2x3x16xf32>)
  linalg.transpose ins(%a : memref<2x3x16xf32>) outs(%b : memref<3x2x16xf32>) permutation = [1, 0, 2]
  return
}

// -----

// Rows of 9 elements: an f32 copy takes 9-wide vectors, a bf16 (or f16) copy
// only power-of-two widths (LLVM 22's x86 backend aborts on odd-width bf16
// vectors), and 9 has none of at least 4 lanes: scalar loops.
// CHECK-LABEL: func.func @odd_rows
// CHECK: vector.load {{.+}} : memref<1x9xf32, {{.+}}>, vector<9xf32>
// CHECK-NOT: vector<9xbf16>
// CHECK-NOT: vector<9xf16>
// CHECK: return
// The same in 12-wide rows: 4 lanes (the largest power of two dividing 12)
// for bf16, 12 for f32.
// CHECK-LABEL: func.func @even_rows
// CHECK-DAG: vector<12xf32>
// CHECK-DAG: vector<4xbf16>
#copy2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @odd_rows(%a: memref<4x9xf32>, %b: memref<4x9xf32>, %c: memref<4x9xbf16>, %d: memref<4x9xbf16>,
                    %e: memref<4x9xf16>, %f: memref<4x9xf16>) {
  linalg.generic {indexing_maps = [#copy2, #copy2], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x9xf32>) outs(%b : memref<4x9xf32>) {
  ^bb0(%x: f32, %y: f32):
    linalg.yield %x : f32
  }
  linalg.generic {indexing_maps = [#copy2, #copy2], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<4x9xbf16>) outs(%d : memref<4x9xbf16>) {
  ^bb0(%x: bf16, %y: bf16):
    linalg.yield %x : bf16
  }
  linalg.generic {indexing_maps = [#copy2, #copy2], iterator_types = ["parallel", "parallel"]}
      ins(%e : memref<4x9xf16>) outs(%f : memref<4x9xf16>) {
  ^bb0(%x: f16, %y: f16):
    linalg.yield %x : f16
  }
  return
}
func.func @even_rows(%a: memref<4x12xf32>, %b: memref<4x12xf32>, %c: memref<4x12xbf16>, %d: memref<4x12xbf16>) {
  linalg.generic {indexing_maps = [#copy2, #copy2], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x12xf32>) outs(%b : memref<4x12xf32>) {
  ^bb0(%x: f32, %y: f32):
    linalg.yield %x : f32
  }
  linalg.generic {indexing_maps = [#copy2, #copy2], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<4x12xbf16>) outs(%d : memref<4x12xbf16>) {
  ^bb0(%x: bf16, %y: bf16):
    linalg.yield %x : bf16
  }
  return
}

// -----

// An im2col copy of a stride-1 convolution: out[n, c, kh, oh, ow] =
// in[n, c, oh + kh, ow + kh]. The input map is no projected permutation,
// but along the innermost loop both sides are contiguous: scalar loops over
// the other dims, and the row of 28 as vector loads and stores of 16, 8 and
// 4 at the shifted offset.
// CHECK-DAG: #[[ROW:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d2 + d3)>
// CHECK-DAG: #[[COL:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d2 + d4)>
// CHECK-LABEL: func.func @im2col_rows
// CHECK-NOT: linalg.generic
// CHECK: scf.for %[[W:.+]] = %{{.+}} to %c16 step %c16 {
// CHECK: %[[R:.+]] = affine.apply #[[ROW]](%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[W]])
// CHECK: %[[C:.+]] = affine.apply #[[COL]](%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[W]])
// CHECK: %[[V:.+]] = vector.load %{{.+}}[%{{.+}}, %{{.+}}, %[[R]], %[[C]]] : memref<1x2x6x30xf32>, vector<16xf32>
// CHECK: vector.store %[[V]], %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[W]]] : memref<1x2x3x4x28xf32>, vector<16xf32>
// CHECK: vector.load {{.+}} vector<8xf32>
// CHECK: vector.load {{.+}} vector<4xf32>
// CHECK-NOT: vector.load
// CHECK: return
func.func @im2col_rows(%in: memref<1x2x6x30xf32>, %out: memref<1x2x3x4x28xf32>) {
  linalg.generic {indexing_maps = [affine_map<(n, c, k, o, w) -> (n, c, o + k, w + k)>, affine_map<(n, c, k, o, w) -> (n, c, k, o, w)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%in : memref<1x2x6x30xf32>) outs(%out : memref<1x2x3x4x28xf32>) {
  ^bb0(%a: f32, %b: f32):
    linalg.yield %a : f32
  }
  return
}

// -----

// Stride 2 along the row: its elements are not contiguous; scalar loops.
// CHECK-LABEL: func.func @strided_rows
// CHECK: linalg.generic
// CHECK-NOT: vector.load
func.func @strided_rows(%in: memref<1x2x6x30xf32>, %out: memref<1x2x3x4x14xf32>) {
  linalg.generic {indexing_maps = [affine_map<(n, c, k, o, w) -> (n, c, o + k, w * 2 + k)>, affine_map<(n, c, k, o, w) -> (n, c, k, o, w)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%in : memref<1x2x6x30xf32>) outs(%out : memref<1x2x3x4x14xf32>) {
  ^bb0(%a: f32, %b: f32):
    linalg.yield %a : f32
  }
  return
}

// -----

// mpc-parallelize-loops runs first (mpc-lower-to-llvm): an elementwise op it
// split over threads is a generic on a slice inside an scf.parallel, and is
// vectorized there.
// CHECK-LABEL: func.func @in_parallel_loop
// CHECK: scf.parallel
// CHECK: vector.load {{.+}} vector<16xf32>
// CHECK: arith.mulf {{.+}} : vector<16xf32>
// CHECK: vector.store
// CHECK: scf.reduce
func.func @in_parallel_loop(%a: memref<32x256xf32>, %b: memref<32x256xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  scf.parallel (%i) = (%c0) to (%c32) step (%c1) {
    %x = memref.subview %a[%i, 0] [1, 256] [1, 1] : memref<32x256xf32> to memref<1x256xf32, strided<[256, 1], offset: ?>>
    %y = memref.subview %b[%i, 0] [1, 256] [1, 1] : memref<32x256xf32> to memref<1x256xf32, strided<[256, 1], offset: ?>>
    linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
        ins(%x : memref<1x256xf32, strided<[256, 1], offset: ?>>) outs(%y : memref<1x256xf32, strided<[256, 1], offset: ?>>) {
    ^bb0(%u: f32, %v: f32):
      %m = arith.mulf %u, %u : f32
      linalg.yield %m : f32
    }
    scf.reduce
  }
  return
}

// -----

// A transpose of the two innermost memory dims (conv-to-matmul's [blocks,
// positions, 32] back to [channels, positions]): [16 x 16] blocks as 16 row
// loads, AVX-512 shuffles and 16 row stores. 196 positions are 13 blocks, the
// last starting at 180 (it overlaps the one before: those elements are
// written twice, with the same values).
// CHECK-DAG: #[[LASTP:.+]] = affine_map<(d0) -> (d0 * 16, 180)>
// CHECK-DAG: #[[LASTJ:.+]] = affine_map<(d0) -> (d0 * 16, 16)>
// CHECK-LABEL: func.func @transpose_blocks
// CHECK-NOT: memref.load
// CHECK: scf.for %{{.+}} = %c0 to %c2 step %c1
// CHECK: scf.for %[[PB:.+]] = %c0 to %c13 step %c1
// CHECK: %[[P:.+]] = affine.min #[[LASTP]](%[[PB]])
// CHECK: scf.for %[[JB:.+]] = %c0 to %c2 step %c1
// CHECK: %[[J:.+]] = affine.min #[[LASTJ]](%[[JB]])
// CHECK-COUNT-16: vector.load %arg0[%{{.+}}, %{{.+}}, %[[J]]] : memref<2x196x32xf32>, vector<16xf32>
// CHECK: vector.shuffle
// CHECK-COUNT-16: vector.store %{{.+}}, %arg1[%{{.+}}, %{{.+}}, %[[P]]] : memref<2x32x196xf32>, vector<16xf32>
// CHECK-NOT: vector.transpose
// EIGHT-LABEL: func.func @transpose_blocks
// EIGHT: vector.shuffle
func.func @transpose_blocks(%x: memref<2x196x32xf32>, %y: memref<2x32x196xf32>) {
  linalg.generic {indexing_maps = [affine_map<(b, p, j) -> (b, p, j)>, affine_map<(b, p, j) -> (b, j, p)>],
                  iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : memref<2x196x32xf32>) outs(%y : memref<2x32x196xf32>) {
  ^bb0(%v: f32, %o: f32):
    linalg.yield %v : f32
  }
  return
}

// -----

// A dim of 8 to 15: [8 x 8] blocks.
// CHECK-LABEL: func.func @transpose_eights
// CHECK: scf.for %{{.+}} = %c0 to %c2 step %c1
// CHECK: scf.for %{{.+}} = %c0 to %c8 step %c1
// CHECK-COUNT-8: vector.load %arg0[%{{.+}}, %{{.+}}] : memref<10x64xf32>, vector<8xf32>
// CHECK-COUNT-8: vector.store %{{.+}}, %arg1[%{{.+}}, %{{.+}}] : memref<64x10xf32>, vector<8xf32>
func.func @transpose_eights(%x: memref<10x64xf32>, %y: memref<64x10xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j, i)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<10x64xf32>) outs(%y : memref<64x10xf32>) {
  ^bb0(%v: f32, %o: f32):
    linalg.yield %v : f32
  }
  return
}

// -----

// Transposes with a dim below 8, or of 64-bit elements, keep the
// element-wise loops.
// CHECK-LABEL: func.func @transpose_small
// CHECK-NOT: vector.shuffle
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK-NOT: vector.shuffle
func.func @transpose_small(%x: memref<7x64xf32>, %y: memref<64x7xf32>, %a: memref<32x32xi64>, %b: memref<32x32xi64>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j, i)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<7x64xf32>) outs(%y : memref<64x7xf32>) {
  ^bb0(%v: f32, %o: f32):
    linalg.yield %v : f32
  }
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j, i)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<32x32xi64>) outs(%b : memref<32x32xi64>) {
  ^bb0(%v: i64, %o: i64):
    linalg.yield %v : i64
  }
  return
}

// -----

// mpc-conv-to-matmul's transposed im2col of a stride-1 3x3 convolution:
// patches[oh, ow, kh, kw, c] = input[c, oh + kh, ow + kw]. Along ow the
// input is contiguous, along c the patches: [16 x 16] blocks of (c, ow),
// each row load shifted by the kernel offsets (ow + kw).
// CHECK-LABEL: func.func @im2col_transposed
// CHECK: scf.for %[[OH:.+]] = %c0 to %c2 step %c1
// CHECK: scf.for %[[OWB:.+]] = %c0 to %c1 step %c1
// CHECK: %[[OW:.+]] = affine.min #{{.+}}(%[[OWB]])
// CHECK: scf.for %[[KH:.+]] = %c0 to %c3 step %c1
// CHECK: scf.for %[[KW:.+]] = %c0 to %c3 step %c1
// CHECK: scf.for %[[CB:.+]] = %c0 to %c2 step %c1
// CHECK: %[[C:.+]] = affine.min #{{.+}}(%[[CB]])
// CHECK: %[[ROW:.+]] = affine.apply #{{.+}}(%[[OH]], %[[OW]], %[[KH]], %[[KW]], %[[C]])
// CHECK: %[[COL:.+]] = affine.apply #{{.+}}(%[[OH]], %[[OW]], %[[KH]], %[[KW]], %[[C]])
// CHECK: vector.load %arg0[%[[C]], %[[ROW]], %[[COL]]] : memref<32x4x18xf32>, vector<16xf32>
// CHECK: vector.shuffle
// CHECK: vector.store %{{.+}}, %arg1[%[[OH]], %[[OW]], %[[KH]], %[[KW]], %[[C]]] : memref<2x16x3x3x32xf32>, vector<16xf32>
func.func @im2col_transposed(%x: memref<32x4x18xf32>, %y: memref<2x16x3x3x32xf32>) {
  linalg.generic {indexing_maps = [affine_map<(oh, ow, kh, kw, c) -> (c, oh + kh, ow + kw)>,
                                   affine_map<(oh, ow, kh, kw, c) -> (oh, ow, kh, kw, c)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<32x4x18xf32>) outs(%y : memref<2x16x3x3x32xf32>) {
  ^bb0(%v: f32, %o: f32):
    linalg.yield %v : f32
  }
  return
}

// -----

// A reduction over the innermost loop (softmax's sum of exps): lanes over
// 16 rows, 16 elements of each row per tile. The exp runs on the whole
// [rows x 16] block; the block is transposed and each row's elements are
// added one after the other, starting from the output, in the scalar
// loop's order: 16 chained adds per tile, the tiles of the reduction in
// order (the inner loop).
// CHECK-LABEL: func.func @row_reduction
// CHECK: scf.for %{{.+}} = %c0 to %c32 step %c16
// CHECK: scf.for %{{.+}} = %c0 to %c64 step %c16
// CHECK: %[[X:.+]] = vector.transfer_read {{.+}} vector<16x16xf32>
// CHECK: math.exp {{.+}} : vector<16x16xf32>
// CHECK: %[[S0:.+]] = arith.addf {{.+}} : vector<16xf32>
// CHECK: %[[S1:.+]] = arith.addf %{{.+}}, %[[S0]] : vector<16xf32>
// CHECK-COUNT-14: arith.addf {{.+}} : vector<16xf32>
// CHECK-NOT: arith.addf
// CHECK: vector.store %{{.+}} : memref<16xf32, {{.+}}>, vector<16xf32>
// The row max (read once per row) has no innermost dim: a broadcast.
#rx = affine_map<(i, j) -> (i, j)>
#rr = affine_map<(i, j) -> (i)>
func.func @row_reduction(%x: memref<32x64xf32>, %m: memref<32xf32>, %s: memref<32xf32>) {
  linalg.generic {indexing_maps = [#rx, #rr, #rr], iterator_types = ["parallel", "reduction"]}
      ins(%x, %m : memref<32x64xf32>, memref<32xf32>) outs(%s : memref<32xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %0 = arith.subf %a, %b : f32
    %1 = math.exp %0 : f32
    %2 = arith.addf %c, %1 : f32
    linalg.yield %2 : f32
  }
  return
}

// -----

// The row operand must walk the rows contiguously: a max over the rows of
// a transposed read stays scalar.
// CHECK-LABEL: func.func @row_reduction_strided_rows
// CHECK-NOT: vector.
// CHECK: linalg.generic
func.func @row_reduction_strided_rows(%x: memref<32x64xf32>, %s: memref<1x32xf32, strided<[1, 2]>>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (0, i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<32x64xf32>) outs(%s : memref<1x32xf32, strided<[1, 2]>>) {
  ^bb0(%a: f32, %c: f32):
    %0 = arith.maximumf %c, %a : f32
    linalg.yield %0 : f32
  }
  return
}

// -----

// A layer norm's f64 sum over [batch, tokens, 1, features]: the unit loops
// are dropped from the tile (rank-reducing subviews) so that the block is
// a plain [16 x 16] one; the sums run in f64, 16 rows wide.
// CHECK-LABEL: func.func @row_reduction_unit_loops
// CHECK: memref.subview {{.+}} to memref<16x16xf32, strided<[128, 1], offset: ?>>
// CHECK: memref.subview {{.+}} to memref<16xf64, strided<[1], offset: ?>>
// CHECK: arith.extf {{.+}} : vector<16x16xf32> to vector<16x16xf64>
// CHECK-COUNT-16: arith.addf {{.+}} : vector<16xf64>
// CHECK: vector.store {{.+}} vector<16xf64>
func.func @row_reduction_unit_loops(%x: memref<1x32x1x128xf32>, %s: memref<1x32x1xf64>) {
  linalg.generic {indexing_maps = [affine_map<(a, b, c, d) -> (a, b, c, d)>, affine_map<(a, b, c, d) -> (a, b, c)>],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x : memref<1x32x1x128xf32>) outs(%s : memref<1x32x1xf64>) {
  ^bb0(%in: f32, %out: f64):
    %0 = arith.extf %in : f32 to f64
    %1 = arith.addf %out, %0 : f64
    linalg.yield %1 : f64
  }
  return
}
