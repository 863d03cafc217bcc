// mpc-tile-and-vectorize{native-bf16-dot}: bf16 x bf16 -> f32 contractions
// on AVX512-BF16 pair dot products (x86vector.avx512.dot). IR only: runs on
// any host (the instruction itself: test/Target/CPU/native-bf16-dot.mlir).
// RUN: mpc-opt --mpc-tile-and-vectorize="min-macs=0 native-bf16-dot=true" %s | FileCheck %s --check-prefix=NATIVE
// RUN: mpc-opt --mpc-tile-and-vectorize="min-macs=0" %s | FileCheck %s --check-prefix=EXACT
// RUN: mpc-opt --mpc-tile-and-vectorize="min-macs=0 native-bf16-dot=true emulate-bf16-dot=true" %s | FileCheck %s --check-prefix=EMULATE

// A 20 x 7 x 64 matmul: an odd reduction (3 pairs and a last step paired
// with zero), two 32-column panels, a tile of 8 rows (2 of them) and one of
// the 4 rows left.
// NATIVE-LABEL: func.func @matmul_odd_k
// The column operand packed per panel as [k/2][32][2]: rows k and k+1
// interleaved, the last (k = 6) with zeros.
// NATIVE: %[[ZEROS:.+]] = arith.constant dense<0.000000e+00> : vector<16xbf16>
// NATIVE: %[[PACKED:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x4x64xbf16>
// NATIVE: %[[EVEN:.+]] = vector.load %arg1[%{{.+}}, %{{.+}}] : memref<7x64xbf16>, vector<16xbf16>
// NATIVE: %[[ODD:.+]] = vector.load %arg1[%{{.+}}, %{{.+}}] : memref<7x64xbf16>, vector<16xbf16>
// NATIVE: vector.interleave %[[EVEN]], %[[ODD]] : vector<16xbf16> -> vector<32xbf16>
// NATIVE: %[[LAST:.+]] = vector.load %arg1[%c6, %{{.+}}] : memref<7x64xbf16>, vector<16xbf16>
// NATIVE: vector.interleave %[[LAST]], %[[ZEROS]] : vector<16xbf16> -> vector<32xbf16>
// The full tiles: 8 x 2 accumulators kept over the loop of pairs; each
// step loads the panel's two packed vectors and broadcasts each row's pair
// (k, k+1) as one 32-bit word.
// NATIVE: scf.for %{{.+}} = %c0 to %c3 step %c1 iter_args({{.+}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// NATIVE: %[[B0:.+]] = vector.load %[[PACKED]][%{{.+}}, %{{.+}}, %c0] : memref<2x4x64xbf16>, vector<32xbf16>
// NATIVE: %[[B1:.+]] = vector.load %[[PACKED]][%{{.+}}, %{{.+}}, %c32] : memref<2x4x64xbf16>, vector<32xbf16>
// NATIVE: %[[PAIR:.+]] = vector.load %arg0[%{{.+}}, %{{.+}}] : memref<20x7xbf16>, vector<2xbf16>
// NATIVE: %[[WORD:.+]] = vector.bitcast %[[PAIR]] : vector<2xbf16> to vector<1xi32>
// NATIVE: %[[SCALAR:.+]] = vector.extract %[[WORD]][0] : i32 from vector<1xi32>
// NATIVE: %[[SPLAT:.+]] = vector.broadcast %[[SCALAR]] : i32 to vector<16xi32>
// NATIVE: %[[A:.+]] = vector.bitcast %[[SPLAT]] : vector<16xi32> to vector<32xbf16>
// NATIVE: x86vector.avx512.dot %{{.+}}, %[[A]], %[[B0]] : vector<32xbf16> -> vector<16xf32>
// NATIVE: x86vector.avx512.dot %{{.+}}, %[[A]], %[[B1]] : vector<32xbf16> -> vector<16xf32>
// The last step: row element 6 paired with a zero.
// NATIVE: %[[A6:.+]] = memref.load %arg0[%{{.+}}, %c6] : memref<20x7xbf16>
// NATIVE: vector.from_elements %[[A6]], %{{.+}} : vector<2xbf16>
// The 4 rows left (16 to 19): 4 x 2 accumulators.
// NATIVE: scf.for %{{.+}} = %c0 to %c3 step %c1 iter_args({{.+}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// NATIVE: memref.dealloc %[[PACKED]]
// NATIVE-NOT: linalg.generic

// Without the option: the exact FMAs, no dot products.
// EXACT-LABEL: func.func @matmul_odd_k
// EXACT-NOT: x86vector
// EXACT: vector.fma
// EXACT-NOT: x86vector

// Emulated: each dot product as two FMAs, the odd elements' first.
// EMULATE-LABEL: func.func @matmul_odd_k
// EMULATE-NOT: x86vector
// EMULATE: %[[W:.+]] = vector.bitcast %{{.+}} : vector<32xbf16> to vector<16xi32>
// EMULATE: %[[LO:.+]] = arith.shli %[[W]], %{{.+}} : vector<16xi32>
// EMULATE: %[[HI:.+]] = arith.andi %[[W]], %{{.+}} : vector<16xi32>
// EMULATE: %[[ODDSUM:.+]] = vector.fma %{{.+}}, %{{.+}}, %{{.+}} : vector<16xf32>
// EMULATE-NEXT: vector.fma %{{.+}}, %{{.+}}, %[[ODDSUM]] : vector<16xf32>
func.func @matmul_odd_k(%a: memref<20x7xbf16>, %b: memref<7x64xbf16>, %c: memref<20x64xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j, l) -> (i, l)>, affine_map<(i, j, l) -> (l, j)>,
                                   affine_map<(i, j, l) -> (i, j)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<20x7xbf16>, memref<7x64xbf16>) outs(%c : memref<20x64xf32>) {
  ^bb0(%x: bf16, %y: bf16, %acc: f32):
    %xe = arith.extf %x : bf16 to f32
    %ye = arith.extf %y : bf16 to f32
    %p = arith.mulf %xe, %ye : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// 8 columns: 256-bit dot products (8 f32 lanes), one 8-column panel; a
// fused f32 -> bf16 rounding of the row operand runs once per element into
// a bf16 buffer the tiles read; a long reduction (600 = 300 pairs) runs in
// blocks of 128 pairs.
// NATIVE-LABEL: func.func @rounded_rows_8_columns
// NATIVE: %[[ROUNDED:.+]] = memref.alloc() {alignment = 64 : i64} : memref<16x600xbf16>
// NATIVE: linalg.generic {{.+}} ins(%arg0 : memref<16x600xf32>) outs(%[[ROUNDED]] : memref<16x600xbf16>)
// NATIVE: arith.truncf %{{.+}} : f32 to bf16
// NATIVE: memref.alloc() {alignment = 64 : i64} : memref<1x300x16xbf16>
// NATIVE: scf.for %[[BLOCK:.+]] = %c0 to %c300 step %c128
// NATIVE: %[[END:.+]] = arith.minsi %{{.+}}, %c300 : index
// NATIVE: scf.for %{{.+}} = %[[BLOCK]] to %[[END]] step %c1 iter_args
// NATIVE: vector.load %[[ROUNDED]][%{{.+}}, %{{.+}}] : memref<16x600xbf16>, vector<2xbf16>
// NATIVE: x86vector.avx512.dot %{{.+}}, %{{.+}}, %{{.+}} : vector<16xbf16> -> vector<8xf32>
// NATIVE: memref.dealloc %[[ROUNDED]]
func.func @rounded_rows_8_columns(%a: memref<16x600xf32>, %b: memref<600x8xbf16>, %c: memref<16x8xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j, l) -> (i, l)>, affine_map<(i, j, l) -> (l, j)>,
                                   affine_map<(i, j, l) -> (i, j)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<16x600xf32>, memref<600x8xbf16>) outs(%c : memref<16x8xf32>) {
  ^bb0(%x: f32, %y: bf16, %acc: f32):
    %xr = arith.truncf %x : f32 to bf16
    %xe = arith.extf %xr : bf16 to f32
    %ye = arith.extf %y : bf16 to f32
    %p = arith.mulf %xe, %ye : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// Not for f32 operands, nor for columns that are no multiple of 4: the
// exact register tiles.
// NATIVE-LABEL: func.func @f32_operand
// NATIVE-NOT: x86vector
// NATIVE: vector.fma
// NATIVE-NOT: x86vector
func.func @f32_operand(%a: memref<16x64xf32>, %b: memref<64x32xbf16>, %c: memref<16x32xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j, l) -> (i, l)>, affine_map<(i, j, l) -> (l, j)>,
                                   affine_map<(i, j, l) -> (i, j)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<16x64xf32>, memref<64x32xbf16>) outs(%c : memref<16x32xf32>) {
  ^bb0(%x: f32, %y: bf16, %acc: f32):
    %ye = arith.extf %y : bf16 to f32
    %p = arith.mulf %x, %ye : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// NATIVE-LABEL: func.func @odd_columns
// NATIVE-NOT: x86vector
// NATIVE: return
func.func @odd_columns(%a: memref<16x64xbf16>, %b: memref<64x30xbf16>, %c: memref<16x30xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j, l) -> (i, l)>, affine_map<(i, j, l) -> (l, j)>,
                                   affine_map<(i, j, l) -> (i, j)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<16x64xbf16>, memref<64x30xbf16>) outs(%c : memref<16x30xf32>) {
  ^bb0(%x: bf16, %y: bf16, %acc: f32):
    %xe = arith.extf %x : bf16 to f32
    %ye = arith.extf %y : bf16 to f32
    %p = arith.mulf %xe, %ye : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
