// RUN: mpc-opt --mpc-tile-and-vectorize="lower-vector-ops=false min-macs=0" %s | FileCheck %s --check-prefix=CONTRACT
// RUN: mpc-opt --mpc-tile-and-vectorize=min-macs=0 %s | FileCheck %s --check-prefix=FMA
// RUN: mpc-opt --mpc-tile-and-vectorize="lower-vector-ops=false min-macs=0" %s | FileCheck %s --check-prefix=NEXTROW
// RUN: mpc-opt --mpc-tile-and-vectorize="lower-vector-ops=false min-macs=0 prefetch=false" %s | FileCheck %s --check-prefix=NOPREFETCH
// The register tile comes from the target's vectors (defaults: AVX-512's
// 512 bits x 32 registers, 8 x 32 tiles); for AVX2 (x86-64-v3: 256 bits x 16
// registers) it is at most 6 x 16: 12 accumulators, 2 column vectors and a
// broadcast row element in 16 ymm registers (8 x 32 would be 32).
// RUN: mpc-opt --mpc-tile-and-vectorize="lower-vector-ops=false min-macs=0 vector-bits=256 vector-registers=16" %s | FileCheck %s --check-prefix=AVX2
// Below the work threshold (2^12 multiply-adds by default) the scalar loops
// stay: a tile body costs more compile time than such an op can save.
// RUN: mpc-opt --mpc-tile-and-vectorize %s | FileCheck %s --check-prefix=SMALL
// SMALL-LABEL: func.func @matmul_bf16
// SMALL: vector.fma
// SMALL-LABEL: func.func @small_f32
// SMALL-NOT: vector.
// SMALL: linalg.generic
// SMALL-NOT: vector.
// SMALL-LABEL: func.func @short_reduction
// SMALL: vector.fma
// SMALL-LABEL: func.func @not_contractions

#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>

// A bf16 matmul with f32 accumulation (mpc-lower-to-linalg's form): tiles of
// 8 rows x 32 columns, the reduction (96) in an scf.for of 8-wide steps;
// the bf16 operands are extended to f32 before the contraction, which
// accumulates in f32. The column operand is widened once per element: for
// each panel of 32 columns, into a [96 x 32] f32 buffer that the panel's 8
// row tiles read (not once per row tile and k step). The output tile is
// read once before the reduction loop, carried through it as an iter_arg
// (registers) and written once after it. Below 2^20 multiply-adds (this
// one: 2^18.6) the loops are plain scf.for loops: not worth dispatching to
// threads.
// CONTRACT-LABEL: func.func @matmul_bf16
// CONTRACT: scf.for %[[J:.+]] = %c0 to %c64 step %c32
// CONTRACT: %[[PANEL:.+]] = memref.subview %arg1[0, %[[J]]] [96, 32] [1, 1]
// CONTRACT: %[[BUF:.+]] = memref.alloc() {alignment = 64 : i64} : memref<96x32xf32>
// CONTRACT: linalg.generic {{.+}} ins(%[[PANEL]] : {{.+}}) outs(%[[BUF]] : memref<96x32xf32>)
// CONTRACT-NEXT: ^bb0(%[[X:.+]]: bf16, %{{.+}}: f32):
// CONTRACT-NEXT: %[[XE:.+]] = arith.extf %[[X]] : bf16 to f32
// CONTRACT-NEXT: linalg.yield %[[XE]] : f32
// CONTRACT: scf.for %[[I:.+]] = %c0 to %c64 step %c8
// CONTRACT: %[[TILE:.+]] = memref.subview %{{.+}}[%[[I]], %{{.+}}] [8, 32] [1, 1]
// CONTRACT: %[[INIT:.+]] = vector.transfer_read %[[TILE]]{{.+}} : memref<8x32xf32, {{.+}}>, vector<8x32xf32>
// CONTRACT: %[[LOOP:.+]] = scf.for %{{.+}} = %c0 to %c96 step %c8 iter_args(%[[ACC:.+]] = %[[INIT]]) -> (vector<8x32xf32>)
// CONTRACT-DAG: %[[A:.+]] = vector.transfer_read {{.+}} : memref<8x8xbf16, {{.+}}>, vector<8x8xbf16>
// CONTRACT-DAG: %[[B:.+]] = vector.transfer_read {{.+}} : memref<8x32xf32, {{.+}}>, vector<8x32xf32>
// CONTRACT-DAG: %[[AE:.+]] = arith.extf %[[A]] : vector<8x8xbf16> to vector<8x8xf32>
// CONTRACT: %[[R:.+]] = vector.contract {{.+}} %[[AE]], %[[B]], %[[ACC]] : vector<8x8xf32>, vector<8x32xf32> into vector<8x32xf32>
// CONTRACT-NOT: vector.transfer_write
// CONTRACT: scf.yield %[[R]]
// CONTRACT: vector.transfer_write %[[LOOP]], %[[TILE]]
// CONTRACT: memref.dealloc %[[BUF]] : memref<96x32xf32>
// CONTRACT-NOT: linalg.generic

// Lowered: one FMA on a 32-wide f32 row per (row, k) pair, 8 x 8 of them
// in the loop body; no loads or stores of the accumulators inside the loop.
// Each element of the bf16 row operand is a scalar bf16 load, widened and
// broadcast, not a lane extracted from a widened vector (lane shuffles).
// FMA-LABEL: func.func @matmul_bf16
// FMA-NOT: vector.contract
// FMA-NOT: vector.outerproduct
// FMA: vector.transfer_read {{.+}} : memref<8x32xf32, {{.+}}>, vector<8x32xf32>
// FMA: scf.for
// FMA-NOT: vector.transfer_write
// FMA: %[[X:.+]] = memref.load %{{.+}}[%c0, %c0] : memref<8x8xbf16
// FMA-NEXT: %[[XE:.+]] = arith.extf %[[X]] : bf16 to f32
// FMA-NEXT: vector.broadcast %[[XE]] : f32 to vector<32xf32>
// FMA-NOT: vector.extract {{.+}} : f32 from vector
// FMA-COUNT-64: vector.fma {{.+}} : vector<32xf32>
// FMA-NOT: vector.fma
// FMA-NOT: vector.transfer_write
// FMA: scf.yield
// FMA: vector.transfer_write {{.+}} : vector<8x32xf32>, memref<8x32xf32, {{.+}}>
// FMA: return
// 64 rows have no divisor 6: 4 x 16 tiles, in panels of 16 columns whose
// column operand is widened into a [96 x 16] f32 buffer first.
// AVX2-LABEL: func.func @matmul_bf16
// AVX2: scf.for %{{.+}} = %c0 to %c64 step %c16
// AVX2: memref.alloc() {{.+}} : memref<96x16xf32>
// AVX2: scf.for %{{.+}} = %c0 to %c64 step %c4
// AVX2: scf.for %{{.+}} = %c0 to %c96 step %c8 iter_args(%{{.+}}) -> (vector<4x16xf32>)
// AVX2: vector.contract {{.+}} : vector<4x8xf32>, vector<8x16xf32> into vector<4x16xf32>
func.func @matmul_bf16(%a: memref<64x96xbf16>, %b: memref<96x64xbf16>, %c: memref<64x64xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<64x96xbf16>, memref<96x64xbf16>) outs(%c : memref<64x64xf32>) {
  ^bb0(%x: bf16, %y: bf16, %acc: f32):
    %xe = arith.extf %x : bf16 to f32
    %ye = arith.extf %y : bf16 to f32
    %p = arith.mulf %xe, %ye : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// From 2^20 multiply-adds the output tiles are independent iterations of
// an scf.parallel, which the async lowering may spread over threads; the
// reduction is not.
// CONTRACT-LABEL: func.func @matmul_parallel
// CONTRACT: scf.parallel (%{{.+}}, %{{.+}}) = (%c0, %c0) to (%c128, %c128) step (%c8, %c32)
// CONTRACT: scf.for %{{.+}} = %c0 to %c64 step %c8 iter_args
// f32: each element of the row operand is a scalar load and a broadcast
// (one broadcast load on x86), not an extract from a vector load, which
// LLVM turned into lane shuffles on the port of the second FMA unit.
// FMA-LABEL: func.func @matmul_parallel
// FMA: %[[ROWS:.+]] = memref.subview %{{.+}} [8, 8] [1, 1] : memref<128x64xf32> to memref<8x8xf32
// FMA: %[[X:.+]] = memref.load %[[ROWS]][%c1, %c0] : memref<8x8xf32
// FMA-NEXT: vector.broadcast %[[X]] : f32 to vector<32xf32>
// FMA-NOT: vector.extract {{.+}} : f32 from vector
// FMA: return
func.func @matmul_parallel(%a: memref<128x64xf32>, %b: memref<64x128xf32>, %c: memref<128x128xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<128x64xf32>, memref<64x128xf32>) outs(%c : memref<128x128xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// Dimensions smaller than the tile are taken whole (a 2 x 10 x 3 f32
// matmul is one tile). (Only with min-macs below its 60 multiply-adds.)
// CONTRACT-LABEL: func.func @small_f32
// CONTRACT: vector.contract {{.+}} : vector<2x3xf32>, vector<3x10xf32> into vector<2x10xf32>
func.func @small_f32(%a: memref<2x3xf32>, %b: memref<3x10xf32>, %c: memref<2x10xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<2x3xf32>, memref<3x10xf32>) outs(%c : memref<2x10xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// A reduction of 64 runs as a k loop inside each output tile: with no k
// loop left inside the output tiles LLVM hoisted the whole [8 x 64] operand
// tile out of the loop over the other tiles and spilled it.
// CONTRACT-LABEL: func.func @short_reduction
// CONTRACT: scf.for %{{.+}} = %c0 to %c64 step %c8 iter_args
// CONTRACT: vector.contract {{.+}} : vector<8x8xf32>, vector<8x32xf32> into vector<8x32xf32>
func.func @short_reduction(%a: memref<64x64xf32>, %b: memref<64x128xf32>, %c: memref<64x128xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<64x64xf32>, memref<64x128xf32>) outs(%c : memref<64x128xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// Not contractions: a row sum and a convolution-style map (d0 + d1) stay
// linalg.generic for convert-linalg-to-loops.
// CONTRACT-LABEL: func.func @not_contractions
// CONTRACT-NOT: vector.
// CONTRACT: linalg.generic
// CONTRACT: linalg.generic
func.func @not_contractions(%a: memref<4x8xf32>, %sum: memref<4xf32>, %x: memref<10xf32>, %w: memref<3xf32>,
                            %y: memref<8xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%a : memref<4x8xf32>) outs(%sum : memref<4xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %s = arith.addf %acc, %v : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(i, k) -> (i + k)>, affine_map<(i, k) -> (k)>, affine_map<(i, k) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x, %w : memref<10xf32>, memref<3xf32>) outs(%y : memref<8xf32>) {
  ^bb0(%u: f32, %v: f32, %acc: f32):
    %p = arith.mulf %u, %v : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// A contraction over two dims (attention's output projection, heads x
// head_dim) stays scalar loops: the outer-product lowering takes one
// reduction dim, and the fallback unrolled ~70k element-wise extracts and
// inserts per such op.
// CONTRACT-LABEL: func.func @two_reductions
// CONTRACT-NOT: vector.
// CONTRACT: linalg.generic
// CONTRACT-SAME: iterator_types = ["parallel", "parallel", "reduction", "reduction"]
// CONTRACT-NOT: vector.
// CONTRACT: return
func.func @two_reductions(%a: memref<32x4x32xf32>, %b: memref<4x32x128xf32>, %c: memref<32x128xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, h, k) -> (m, h, k)>, affine_map<(m, n, h, k) -> (h, k, n)>,
                                   affine_map<(m, n, h, k) -> (m, n)>],
                  iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%a, %b : memref<32x4x32xf32>, memref<4x32x128xf32>) outs(%c : memref<32x128xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// A reduction longer than 256 (768): panels of up to 64 rows x 32 columns
// (scf.parallel from 2^20 multiply-adds: 128 x 768 x 64 = 6.3M), inside each
// the reduction in blocks of 256 (scf.for), and inside each block the
// panel's 8-row register tiles, each with its own accumulator loop of
// 8-wide steps over the block. The panel's [256 x 32] slice of the column
// operand is what all its row tiles read.
// CONTRACT-LABEL: func.func @long_reduction
// CONTRACT: scf.parallel (%[[ROWS:.+]], %[[COLS:.+]]) = (%c0, %c0) to (%c128, %c64) step (%c64, %c32)
// CONTRACT-DAG: %[[BPANEL:.+]] = memref.subview %{{.+}}[0, %[[COLS]]] [768, 32] [1, 1]
// CONTRACT-DAG: %[[CPANEL:.+]] = memref.subview %{{.+}}[%[[ROWS]], %[[COLS]]] [64, 32] [1, 1]
// CONTRACT: scf.for %[[K0:.+]] = %c0 to %c768 step %c256
// CONTRACT: %[[BBLOCK:.+]] = memref.subview %[[BPANEL]][%[[K0]], 0] [256, 32] [1, 1]
// CONTRACT: scf.for %[[R:.+]] = %c0 to %c64 step %c8
// CONTRACT: scf.for %[[C:.+]] = %c0 to %c32 step %c32
// CONTRACT: %[[TILE:.+]] = memref.subview %[[CPANEL]][%[[R]], %[[C]]] [8, 32] [1, 1]
// CONTRACT: %[[INIT:.+]] = vector.transfer_read %[[TILE]]
// CONTRACT: %[[LOOP:.+]] = scf.for %[[K:.+]] = %c0 to %c256 step %c8 iter_args(%{{.+}} = %[[INIT]]) -> (vector<8x32xf32>)
// Each step of a row tile's loop prefetches its share of the next block of
// the column operand: 8 tiles x 32 steps, one row (two 64-byte lines of 32
// f32) each, so the 8 tiles cover the 256 rows of the next block; rows past
// it and past the reduction's end are clamped.
// CONTRACT: %[[NEXT:.+]] = affine.min #{{.+}}(%[[R]], %[[K]])[%[[K0]]]
// CONTRACT: memref.prefetch %[[BPANEL]][%[[NEXT]], %[[C]]], read, locality<3>, data
// CONTRACT: %[[SECOND:.+]] = affine.apply #{{.+}}(%[[C]])
// CONTRACT: memref.prefetch %[[BPANEL]][%[[NEXT]], %[[SECOND]]], read, locality<3>, data
// CONTRACT-NOT: memref.prefetch
// CONTRACT: memref.subview %[[BBLOCK]]
// CONTRACT: vector.contract
// CONTRACT: vector.transfer_write %[[LOOP]], %[[TILE]]
// CONTRACT: scf.reduce
// For AVX2, 16-column panels, blocks of at most 512 reduction steps (16
// columns of f32 at 32 KiB: here 384, half of 768), 4-row register tiles.
// AVX2-LABEL: func.func @long_reduction
// AVX2: scf.parallel (%{{.+}}, %{{.+}}) = (%c0, %c0) to (%c128, %c64) step (%c64, %c16)
// AVX2: scf.for %{{.+}} = %c0 to %c768 step %c384
// AVX2: memref.subview %{{.+}} [384, 16] [1, 1]
// AVX2: scf.for %{{.+}} = %c0 to %c64 step %c4
// AVX2: scf.for %{{.+}} = %c0 to %c384 step %c8 iter_args(%{{.+}}) -> (vector<4x16xf32>)
func.func @long_reduction(%a: memref<128x768xf32>, %b: memref<768x64xf32>, %c: memref<128x64xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<128x768xf32>, memref<768x64xf32>) outs(%c : memref<128x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// The prefetched row: (tile * 32 + step) of the next block, at most its last
// row (k0 + 511) and the reduction's last (767). Without the option, none.
// NEXTROW: affine_map<(d0, d1)[s0] -> ((d0 floordiv 8) * 32 + d1 floordiv 8 + s0 + 256, s0 + 511, 767)>
// NOPREFETCH-LABEL: func.func @long_reduction
// NOPREFETCH-NOT: memref.prefetch
// NOPREFETCH: return

// A reduction of 257 (prime) has no block of 64 steps or more: the register
// tiles take the whole reduction as before.
// CONTRACT-LABEL: func.func @prime_reduction
// CONTRACT-NOT: step %c256
// CONTRACT: scf.for %{{.+}} = %c0 to %c257 step %c1 iter_args
// CONTRACT: return
func.func @prime_reduction(%a: memref<8x257xf32>, %b: memref<257x32xf32>, %c: memref<8x32xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<8x257xf32>, memref<257x32xf32>) outs(%c : memref<8x32xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// A projection whose output is split into heads: [tokens, heads, head_dim]
// = [tokens, k] x [k, heads, head_dim]. The weights read the heads, so the
// rows of the register tile are the tokens (8 of them, one broadcast each
// per k step) and the heads are an outer loop; with the heads as rows
// (the second-innermost dim) every FMA needed a weight vector of its own.
#hx = affine_map<(b, t, h, d, k) -> (b, t, k)>
#hw = affine_map<(b, t, h, d, k) -> (k, h, d)>
#hy = affine_map<(b, t, h, d, k) -> (b, t, h, d)>
// CONTRACT-LABEL: func.func @heads_projection
// CONTRACT: scf.for %[[T:.+]] = %c0 to %c32 step %c8
// CONTRACT: scf.for %[[H:.+]] = %c0 to %c4 step %c1
// CONTRACT: memref.subview %{{.+}}[%{{.+}}, %[[T]], %[[H]], %{{.+}}] [1, 8, 1, 32]
// CONTRACT: vector.contract {{.+}} : vector<1x8x8xf32>, vector<8x1x32xf32> into vector<1x8x1x32xf32>
// FMA-LABEL: func.func @heads_projection
// FMA: scf.for
// FMA: vector.transfer_read {{.+}} vector<8x1x32xf32>
// FMA-COUNT-64: vector.fma {{.+}} : vector<32xf32>
// FMA-NOT: vector.fma
// FMA: scf.yield
func.func @heads_projection(%x: memref<1x32x128xf32>, %w: memref<128x4x32xf32>, %y: memref<1x32x4x32xf32>) {
  linalg.generic {indexing_maps = [#hx, #hw, #hy], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<1x32x128xf32>, memref<128x4x32xf32>) outs(%y : memref<1x32x4x32xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %c, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// 48 rows: the AVX2 tile's full 6 rows.
// AVX2-LABEL: func.func @rows_of_six
// AVX2: scf.for %{{.+}} = %c0 to %c48 step %c6
// AVX2: scf.for %{{.+}} = %c0 to %c64 step %c16
// AVX2: vector.contract {{.+}} into vector<6x16xf32>
// CONTRACT-LABEL: func.func @rows_of_six
// CONTRACT: scf.for %{{.+}} = %c0 to %c48 step %c8
// CONTRACT: scf.for %{{.+}} = %c0 to %c64 step %c32
// CONTRACT: vector.contract {{.+}} into vector<8x32xf32>
func.func @rows_of_six(%a: memref<48x64xf32>, %b: memref<64x64xf32>, %c: memref<48x64xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<48x64xf32>, memref<64x64xf32>) outs(%c : memref<48x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// Operands that a fused precision cast rounds to bf16 (f32 parameters and
// activations of f32 ops): each element is rounded once, not once per tile
// that reads it. The row operand whole, into a buffer before the loops; the
// column operand per panel: for each head (h, a dim of the column operand
// only) and panel of 32 columns a [256 x 1 x 32] buffer; the panels are the
// parallel loop (2^21 multiply-adds), and the unit head dim of the
// contraction left inside takes no tile role: its tiles are 8 rows (m) x 32
// columns, as without the casts.
// CONTRACT-LABEL: func.func @matmul_rounded
// CONTRACT: %[[ROWS:.+]] = memref.alloc() {alignment = 64 : i64} : memref<64x256xf32>
// CONTRACT: linalg.generic {{.+}} ins(%arg0 : memref<64x256xf32>) outs(%[[ROWS]] : memref<64x256xf32>)
// CONTRACT-NEXT: ^bb0(%[[X:.+]]: f32, %{{.+}}: f32):
// CONTRACT-NEXT: %[[XR:.+]] = arith.truncf %[[X]] : f32 to bf16
// CONTRACT-NEXT: %[[XE:.+]] = arith.extf %[[XR]] : bf16 to f32
// CONTRACT-NEXT: linalg.yield %[[XE]] : f32
// CONTRACT: scf.parallel (%[[H:.+]], %[[E:.+]]) = (%c0, %c0) to (%c4, %c32) step (%c1, %c32)
// CONTRACT: %[[PANEL:.+]] = memref.subview %arg1[0, %[[H]], %[[E]]] [256, 1, 32] [1, 1, 1]
// CONTRACT: %[[COLS:.+]] = memref.alloc() {alignment = 64 : i64} : memref<256x1x32xf32>
// CONTRACT: linalg.generic {{.+}} ins(%[[PANEL]] : {{.+}}) outs(%[[COLS]] : memref<256x1x32xf32>)
// CONTRACT: arith.truncf
// CONTRACT: scf.for %{{.+}} = %c0 to %c64 step %c8
// CONTRACT: scf.for %{{.+}} = %c0 to %c256 step %c8 iter_args
// CONTRACT-DAG: memref.subview %[[ROWS]]
// CONTRACT-DAG: memref.subview %[[COLS]]
// CONTRACT-NOT: arith.truncf
// CONTRACT: vector.contract {{.+}} : vector<8x8xf32>, vector<8x1x32xf32> into vector<8x1x32xf32>
// CONTRACT: memref.dealloc %[[COLS]]
// CONTRACT: scf.reduce
// CONTRACT: memref.dealloc %[[ROWS]]
#ar = affine_map<(m, h, e, k) -> (m, k)>
#br = affine_map<(m, h, e, k) -> (k, h, e)>
#cr = affine_map<(m, h, e, k) -> (m, h, e)>
func.func @matmul_rounded(%a: memref<64x256xf32>, %b: memref<256x4x32xf32>, %c: memref<64x4x32xf32>) {
  linalg.generic {indexing_maps = [#ar, #br, #cr], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<64x256xf32>, memref<256x4x32xf32>) outs(%c : memref<64x4x32xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %yr = arith.truncf %y : f32 to bf16
    %xr = arith.truncf %x : f32 to bf16
    %xe = arith.extf %xr : bf16 to f32
    %ye = arith.extf %yr : bf16 to f32
    %p = arith.mulf %xe, %ye : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// One row (a matrix-vector product): no row tile shares the column operand,
// so it is widened inside the tile as before, without a buffer.
// CONTRACT-LABEL: func.func @gemv_bf16
// CONTRACT-NOT: memref.alloc
// CONTRACT: arith.extf {{.+}} : vector<8x32xbf16> to vector<8x32xf32>
// CONTRACT: return
func.func @gemv_bf16(%a: memref<1x256xbf16>, %b: memref<256x64xbf16>, %c: memref<1x64xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<1x256xbf16>, memref<256x64xbf16>) outs(%c : memref<1x64xf32>) {
  ^bb0(%x: bf16, %y: bf16, %acc: f32):
    %xe = arith.extf %x : bf16 to f32
    %ye = arith.extf %y : bf16 to f32
    %p = arith.mulf %xe, %ye : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
