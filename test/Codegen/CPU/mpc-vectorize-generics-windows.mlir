// RUN: mpc-opt --split-input-file --mpc-emulate-narrow-floats="include-f16 expand-casts=false" --mpc-vectorize-generics %s | FileCheck %s

// mpc-vectorize-generics on window reductions (pooling): the output width
// goes in vectors, the window loops run around them in their order (the
// window's width unrolled), and a stride-2 read is a load of twice the
// lanes with every other element picked by a shuffle.

// f16 max pooling, 2x2 windows at stride 2 on a 16-wide row (torch_cnn's):
// 8 outputs per row, one 16-element load per window offset; the read for
// the window's second column would end past the row, so it starts one
// element early and picks the odd elements. max of f16 values is exact in
// f32 (one rounding back, as in the scalar loop).
// CHECK-LABEL: func.func @max_pool_f16
// CHECK: scf.for %[[N:.+]] = %c0 to %c2 step %c1
// CHECK: scf.for %[[C:.+]] = %c0 to %c4 step %c1
// CHECK: scf.for %[[H:.+]] = %c0 to %c8 step %c1
// CHECK: %[[ACC:.+]] = vector.load %{{.+}}[%[[N]], %[[C]], %[[H]], %c0] : memref<2x4x8x8xf16>, vector<8xf16>
// CHECK: %[[KH:.+]] = scf.for %{{.+}} = %c0 to %c2 step %c1 iter_args(%[[A:.+]] = %[[ACC]]) -> (vector<8xf16>)
// CHECK: %[[W0:.+]] = vector.load %{{.+}} : memref<2x4x16x16xf16>, vector<16xf16>
// CHECK: %[[I0:.+]] = vector.bitcast %[[W0]] : vector<16xf16> to vector<16xi16>
// CHECK: %[[S0:.+]] = vector.shuffle %[[I0]], %[[I0]] [0, 2, 4, 6, 8, 10, 12, 14] : vector<16xi16>, vector<16xi16>
// CHECK: %[[F0:.+]] = vector.bitcast %[[S0]] : vector<8xi16> to vector<8xf16>
// CHECK: %[[E0:.+]] = arith.extf %[[F0]] : vector<8xf16> to vector<8xf32>
// CHECK: %[[M0:.+]] = arith.maximumf %[[E0]], %{{.+}} : vector<8xf32>
// CHECK: %[[T0:.+]] = arith.truncf %[[M0]] : vector<8xf32> to vector<8xf16>
// CHECK: %[[W1:.+]] = vector.load %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}, %c0] : memref<2x4x16x16xf16>, vector<16xf16>
// CHECK: %[[I1:.+]] = vector.bitcast %[[W1]] : vector<16xf16> to vector<16xi16>
// CHECK: vector.shuffle %[[I1]], %[[I1]] [1, 3, 5, 7, 9, 11, 13, 15] : vector<16xi16>, vector<16xi16>
// CHECK: arith.maximumf {{.+}} : vector<8xf32>
// CHECK: scf.yield
// CHECK: vector.store %[[KH]], %{{.+}}[%[[N]], %[[C]], %[[H]], %c0] : memref<2x4x8x8xf16>, vector<8xf16>
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @max_pool_f16(%x: memref<2x4x16x16xf16>, %w: memref<2x2xi1>, %y: memref<2x4x8x8xf16>) {
  linalg.generic {indexing_maps = [affine_map<(n, c, h, w, kh, kw) -> (n, c, h * 2 + kh, w * 2 + kw)>,
                                   affine_map<(n, c, h, w, kh, kw) -> (kh, kw)>,
                                   affine_map<(n, c, h, w, kh, kw) -> (n, c, h, w)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<2x4x16x16xf16>, memref<2x2xi1>) outs(%y : memref<2x4x8x8xf16>) {
  ^bb0(%v: f16, %unused: i1, %acc: f16):
    %m = arith.maximumf %v, %acc : f16
    linalg.yield %m : f16
  }
  return
}

// -----

// bf16 average-pool sums in f32, ResNet-18's max-pool shape (3x3 windows,
// stride 2, 56 outputs from a padded 114-wide row): three 16-lane chunks in
// a loop (their reads stay in the row for every window offset), then one
// of 8 lanes; each window element is added to the f32 accumulator in the
// scalar loop's order (kh outer, kw inner).
// CHECK-LABEL: func.func @avg_pool_sum_bf16
// CHECK: scf.for %[[H:.+]] = %c0 to %c56 step %c1
// CHECK: scf.for %[[W:.+]] = %c0 to %c48 step %c16
// CHECK: vector.load {{.+}} : memref<1x2x56x56xf32>, vector<16xf32>
// CHECK: scf.for %{{.+}} = %c0 to %c3 step %c1 iter_args
// CHECK-COUNT-3: vector.shuffle {{.+}} : vector<32xi16>, vector<32xi16>
// CHECK-NOT: vector.shuffle
// CHECK: vector.store {{.+}} : memref<1x2x56x56xf32>, vector<16xf32>
// CHECK: vector.load {{.+}}[%{{.+}}, %{{.+}}, %[[H]], %c48] : memref<1x2x56x56xf32>, vector<8xf32>
// CHECK: scf.for %{{.+}} = %c0 to %c3 step %c1 iter_args
// CHECK: vector.load {{.+}}, %c96] : memref<1x2x114x114xbf16>, vector<16xbf16>
// CHECK: vector.shuffle {{.+}} [0, 2, 4, 6, 8, 10, 12, 14] : vector<16xi16>, vector<16xi16>
// CHECK: arith.addf {{.+}} : vector<8xf32>
// CHECK: vector.load {{.+}}, %c97] : memref<1x2x114x114xbf16>, vector<16xbf16>
// CHECK: vector.shuffle {{.+}} [0, 2, 4, 6, 8, 10, 12, 14] : vector<16xi16>, vector<16xi16>
// CHECK: arith.addf {{.+}} : vector<8xf32>
// CHECK: vector.load {{.+}}, %c98] : memref<1x2x114x114xbf16>, vector<16xbf16>
// CHECK: vector.shuffle {{.+}} [0, 2, 4, 6, 8, 10, 12, 14] : vector<16xi16>, vector<16xi16>
// CHECK: arith.addf {{.+}} : vector<8xf32>
// CHECK: vector.store {{.+}} : memref<1x2x56x56xf32>, vector<8xf32>
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @avg_pool_sum_bf16(%x: memref<1x2x114x114xbf16>, %w: memref<3x3xi1>, %y: memref<1x2x56x56xf32>) {
  linalg.generic {indexing_maps = [affine_map<(n, c, h, w, kh, kw) -> (n, c, h * 2 + kh, w * 2 + kw)>,
                                   affine_map<(n, c, h, w, kh, kw) -> (kh, kw)>,
                                   affine_map<(n, c, h, w, kh, kw) -> (n, c, h, w)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<1x2x114x114xbf16>, memref<3x3xi1>) outs(%y : memref<1x2x56x56xf32>) {
  ^bb0(%v: bf16, %unused: i1, %acc: f32):
    %e = arith.extf %v : bf16 to f32
    %s = arith.addf %acc, %e : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Stride 1 and a per-channel scale read as a scalar and broadcast; 13
// outputs go as chunks of 8, 4 and 1 lanes.
// CHECK-LABEL: func.func @stride1_scaled
// CHECK: %[[S8:.+]] = memref.load %{{.+}} : memref<3xf32>
// CHECK: vector.broadcast %[[S8]] : f32 to vector<8xf32>
// CHECK: vector.load {{.+}} : memref<1x3x15x15xf32>, vector<8xf32>
// CHECK: arith.mulf {{.+}} : vector<8xf32>
// CHECK: vector.load {{.+}} : memref<1x3x15x15xf32>, vector<4xf32>
// CHECK: arith.mulf {{.+}} : vector<4xf32>
// CHECK: arith.mulf {{.+}} : vector<1xf32>
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @stride1_scaled(%x: memref<1x3x15x15xf32>, %s: memref<3xf32>, %w: memref<3x3xi1>, %y: memref<1x3x13x13xf32>) {
  linalg.generic {indexing_maps = [affine_map<(n, c, h, w, kh, kw) -> (n, c, h + kh, w + kw)>,
                                   affine_map<(n, c, h, w, kh, kw) -> (c)>,
                                   affine_map<(n, c, h, w, kh, kw) -> (kh, kw)>,
                                   affine_map<(n, c, h, w, kh, kw) -> (n, c, h, w)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %s, %w : memref<1x3x15x15xf32>, memref<3xf32>, memref<3x3xi1>) outs(%y : memref<1x3x13x13xf32>) {
  ^bb0(%v: f32, %scale: f32, %unused: i1, %acc: f32):
    %p = arith.mulf %v, %scale : f32
    %m = arith.maximumf %p, %acc : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// A window wider than 16 is not unrolled: the op stays for the scalar loops.
// CHECK-LABEL: func.func @wide_window
// CHECK: linalg.generic
func.func @wide_window(%x: memref<1x1x1x64xf32>, %w: memref<1x32xi1>, %y: memref<1x1x1x16xf32>) {
  linalg.generic {indexing_maps = [affine_map<(n, c, h, w, kh, kw) -> (n, c, h + kh, w * 2 + kw)>,
                                   affine_map<(n, c, h, w, kh, kw) -> (kh, kw)>,
                                   affine_map<(n, c, h, w, kh, kw) -> (n, c, h, w)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<1x1x1x64xf32>, memref<1x32xi1>) outs(%y : memref<1x1x1x16xf32>) {
  ^bb0(%v: f32, %unused: i1, %acc: f32):
    %m = arith.maximumf %v, %acc : f32
    linalg.yield %m : f32
  }
  return
}
