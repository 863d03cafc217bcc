// RUN: mpc-opt --split-input-file --mpc-lower-to-linalg --mpc-conv-to-matmul=min-macs=0 %s | FileCheck %s
// Below the work threshold (2^12 multiply-adds by default, that of
// mpc-tile-and-vectorize) the convolution generic stays: its matmul would
// not be tiled, so the copy would be waste. From there on even small
// convolutions (a CNN's 8 -> 16 channels on 4x4 maps) are rewritten.
// RUN: mpc-opt --split-input-file --mpc-lower-to-linalg --mpc-conv-to-matmul %s | FileCheck %s --check-prefix=SMALL

// Strided, padded, grouped: the windows are copied into patches
// [N, G, C, KH, KW, OH, OW], flattened to [N, G, C*KH*KW, OH*OW], and one
// generic over (n, g, m, p, k) reads the weights [G, M, C*KH*KW] first.
// CHECK-DAG: #[[WINDOW:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d5 * 2 + d3, d6 * 2 + d4)>
// CHECK-DAG: #[[W:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d2, d4)>
// CHECK-DAG: #[[PATCH:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @grouped_strided
// CHECK: %[[WT:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0], [1], [2, 3, 4]] : tensor<2x3x2x3x3xf32> into tensor<2x3x18xf32>
// CHECK: %[[ACC:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1x2x3x16xf32>)
// CHECK-NOT: scf.for
// CHECK: %[[PATCHES:.+]] = linalg.generic {indexing_maps = [#[[WINDOW]], #{{.+}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%{{.+}} : tensor<1x2x2x10x10xf32>) outs(%{{.+}} : tensor<1x2x2x3x3x4x4xf32>)
// CHECK: %[[FLAT:.+]] = tensor.collapse_shape %[[PATCHES]] {{\[}}[0], [1], [2], [3], [4], [5, 6]]
// CHECK: %[[P:.+]] = tensor.collapse_shape %[[FLAT]] {{\[}}[0], [1], [2, 3, 4], [5]] : tensor<1x2x2x3x3x16xf32> into tensor<1x2x18x16xf32>
// CHECK: %[[MM:.+]] = linalg.generic {indexing_maps = [#[[W]], #[[PATCH]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[WT]], %[[P]] : tensor<2x3x18xf32>, tensor<1x2x18x16xf32>) outs(%[[ACC]] : tensor<1x2x3x16xf32>)
// CHECK-NEXT: ^bb0(%[[WEIGHT:.+]]: f32, %[[INPUT:.+]]: f32, %[[SUM:.+]]: f32):
// CHECK-NEXT: %[[PROD:.+]] = arith.mulf %[[WEIGHT]], %[[INPUT]] : f32
// CHECK-NEXT: arith.addf %[[SUM]], %[[PROD]] : f32
// CHECK: tensor.expand_shape %[[MM]] {{\[}}[0], [1], [2], [3, 4]] output_shape [1, 2, 3, 4, 4]
// SMALL-LABEL: func.func @grouped_strided
// SMALL-NOT: tensor.collapse_shape {{.+}} into tensor<1x2x18x16xf32>
// SMALL: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]
func.func @grouped_strided(%x: tensor<1x4x8x8xf32>, %w: tensor<6x2x3x3xf32>, %b: tensor<6xf32>) -> tensor<1x6x4x4xf32> {
  %0 = mpc.conv %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<1x6x4x4xf32>
  return %0 : tensor<1x6x4x4xf32>
}

// -----

// 1x1, stride 1: the input already is the patches (no copy); the bf16 -> f32
// extensions stay in the body.
// CHECK-LABEL: func.func @pointwise_bf16
// CHECK-NOT: linalg.generic
// CHECK-NOT: tensor.extract_slice
// CHECK: %[[P:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0], [1], [2], [3, 4]] : tensor<1x1x4x8x8xbf16> into tensor<1x1x4x64xbf16>
// CHECK-NOT: linalg.generic
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %[[P]] : tensor<1x6x4xbf16>, tensor<1x1x4x64xbf16>) outs(%{{.+}} : tensor<1x1x6x64xf32>)
// CHECK-NEXT: ^bb0(%[[WEIGHT:.+]]: bf16, %[[INPUT:.+]]: bf16, %{{.+}}: f32):
// CHECK-DAG: %[[I:.+]] = arith.extf %[[INPUT]] : bf16 to f32
// CHECK-DAG: %[[W:.+]] = arith.extf %[[WEIGHT]] : bf16 to f32
// CHECK: arith.mulf %[[W]], %[[I]] : f32
func.func @pointwise_bf16(%x: tensor<1x4x8x8xbf16>, %w: tensor<6x4x1x1xbf16>) -> tensor<1x6x8x8xbf16> {
  %0 = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x8x8xbf16>, tensor<6x4x1x1xbf16>) -> tensor<1x6x8x8xbf16>
  return %0 : tensor<1x6x8x8xbf16>
}

// -----

// 1-D, strided and dilated: stride and dilation are read off the map.
// CHECK-DAG: #[[WINDOW:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4 * 2 + d3 * 3)>
// CHECK-LABEL: func.func @dilated_1d
// CHECK: linalg.generic {indexing_maps = [#[[WINDOW]], #{{.+}}], {{.+}} outs(%{{.+}} : tensor<1x1x4x3x2xf32>)
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<1x6x12xf32>, tensor<1x1x12x2xf32>)
func.func @dilated_1d(%x: tensor<1x4x9xf32>, %w: tensor<6x4x3xf32>) -> tensor<1x6x2xf32> {
  %0 = mpc.conv %x, %w {strides = array<i64: 2>, pads = array<i64: 0, 0>, dilations = array<i64: 3>, group = 1 : i64} : (tensor<1x4x9xf32>, tensor<6x4x3xf32>) -> tensor<1x6x2xf32>
  return %0 : tensor<1x6x2xf32>
}

// -----

// A generic of another layout (input channel and kernel loop trade places
// in the input map) is not a convolution of mpc.conv's form: left alone.
// CHECK-LABEL: func.func @other_layout
// CHECK-NOT: tensor.collapse_shape
// CHECK: linalg.generic
// CHECK-NOT: linalg.generic
func.func @other_layout(%x: tensor<1x1x3x7xf32>, %w: tensor<1x3x2x3xf32>, %acc: tensor<1x1x3x6xf32>) -> tensor<1x1x3x6xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(n, g, m, o, c, k) -> (n, g, k, o + c)>,
                                        affine_map<(n, g, m, o, c, k) -> (g, m, c, k)>,
                                        affine_map<(n, g, m, o, c, k) -> (n, g, m, o)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : tensor<1x1x3x7xf32>, tensor<1x3x2x3xf32>) outs(%acc : tensor<1x1x3x6xf32>) {
  ^bb0(%a: f32, %b: f32, %s: f32):
    %p = arith.mulf %a, %b : f32
    %r = arith.addf %s, %p : f32
    linalg.yield %r : f32
  } -> tensor<1x1x3x6xf32>
  return %0 : tensor<1x1x3x6xf32>
}

// -----

// 34 output rows of 34 positions: blocks of 2 rows (68 positions, the most
// rows dividing 34 within 256 positions), 17 per image, 34 iterations for
// the 2 images, each copying the 4 input rows its windows read and updating
// its 68 columns of the accumulator. 68 is not a multiple of the 32-wide
// register tile: two contractions, on columns [0, 64) and [64, 68).
// CHECK-LABEL: func.func @blocked_rows
// CHECK-DAG: %[[ITERATIONS:.+]] = arith.constant 34 : index
// CHECK: scf.for %[[I:.+]] = %{{.+}} to %[[ITERATIONS]] step %{{.+}} iter_args(%[[ACC:.+]] = %{{.+}}) -> (tensor<2x1x8x1156xf32>)
// CHECK-DAG: %[[BLOCKS:.+]] = arith.constant 17 : index
// CHECK-DAG: %[[N:.+]] = arith.divui %[[I]], %[[BLOCKS]] : index
// CHECK-DAG: %[[BLOCK:.+]] = arith.remui %[[I]], %[[BLOCKS]] : index
// CHECK-DAG: %[[ROW:.+]] = arith.muli %[[BLOCK]], %{{.+}} : index
// CHECK-DAG: %[[COL:.+]] = arith.muli %[[BLOCK]], %{{.+}} : index
// CHECK-DAG: %[[ACC_BLOCK:.+]] = tensor.extract_slice %[[ACC]][%[[N]], 0, 0, %[[COL]]] [1, 1, 8, 68] [1, 1, 1, 1]
// CHECK-DAG: %[[IN_ROW:.+]] = arith.muli %[[ROW]], %{{.+}} : index
// CHECK: %[[ROWS:.+]] = tensor.extract_slice %{{.+}}[%[[N]], 0, 0, %[[IN_ROW]], 0] [1, 1, 2, 4, 36] [1, 1, 1, 1, 1]
// CHECK: linalg.generic {{.+}} ins(%[[ROWS]] : tensor<1x1x2x4x36xf32>) outs(%{{.+}} : tensor<1x1x2x3x3x2x34xf32>)
// CHECK: %[[PATCHES:.+]] = tensor.collapse_shape {{.+}} into tensor<1x1x18x68xf32>
// CHECK: %[[P0:.+]] = tensor.extract_slice %[[PATCHES]][0, 0, 0, 0] [1, 1, 18, 64] [1, 1, 1, 1]
// CHECK: %[[A0:.+]] = tensor.extract_slice %[[ACC_BLOCK]][0, 0, 0, 0] [1, 1, 8, 64] [1, 1, 1, 1]
// CHECK: %[[MM0:.+]] = linalg.generic {{.+}} ins(%{{.+}}, %[[P0]] : tensor<1x8x18xf32>, tensor<1x1x18x64xf32>) outs(%[[A0]] : tensor<1x1x8x64xf32>)
// CHECK: %[[HALF:.+]] = tensor.insert_slice %[[MM0]] into %[[ACC_BLOCK]][0, 0, 0, 0] [1, 1, 8, 64] [1, 1, 1, 1]
// CHECK: %[[P1:.+]] = tensor.extract_slice %[[PATCHES]][0, 0, 0, 64] [1, 1, 18, 4] [1, 1, 1, 1]
// CHECK: %[[A1:.+]] = tensor.extract_slice %[[HALF]][0, 0, 0, 64] [1, 1, 8, 4] [1, 1, 1, 1]
// CHECK: %[[MM1:.+]] = linalg.generic {{.+}} ins(%{{.+}}, %[[P1]] : tensor<1x8x18xf32>, tensor<1x1x18x4xf32>) outs(%[[A1]] : tensor<1x1x8x4xf32>)
// CHECK: %[[MM:.+]] = tensor.insert_slice %[[MM1]] into %[[HALF]][0, 0, 0, 64] [1, 1, 8, 4] [1, 1, 1, 1]
// CHECK: %[[NEW:.+]] = tensor.insert_slice %[[MM]] into %[[ACC]][%[[N]], 0, 0, %[[COL]]] [1, 1, 8, 68] [1, 1, 1, 1]
// CHECK: scf.yield %[[NEW]]
// Each iteration writes only its own block: threads may share them.
// CHECK-NEXT: } {mpc.independent_iterations}
func.func @blocked_rows(%x: tensor<2x2x34x34xf32>, %w: tensor<8x2x3x3xf32>) -> tensor<2x8x34x34xf32> {
  %0 = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<2x2x34x34xf32>, tensor<8x2x3x3xf32>) -> tensor<2x8x34x34xf32>
  return %0 : tensor<2x8x34x34xf32>
}

// -----

// 7x7 outputs (ResNet-18's last stage): 49 = 32 + 17 positions. The 17
// are not a power of two: their patches and accumulator columns are padded
// with zeros to 32 (tensor.pad), contracted at that width, and the first
// 17 columns of the result go back into the accumulator.
// CHECK-LABEL: func.func @map_7x7
// CHECK: %[[P:.+]] = tensor.collapse_shape {{.+}} into tensor<1x1x36x49xf32>
// CHECK: %[[MM0:.+]] = linalg.generic {{.+}} outs(%{{.+}} : tensor<1x1x8x32xf32>)
// CHECK: %[[HALF:.+]] = tensor.insert_slice %[[MM0]] into %{{.+}}[0, 0, 0, 0] [1, 1, 8, 32] [1, 1, 1, 1]
// CHECK: %[[P1:.+]] = tensor.extract_slice %[[P]][0, 0, 0, 32] [1, 1, 36, 17] [1, 1, 1, 1]
// CHECK: %[[A1:.+]] = tensor.extract_slice %[[HALF]][0, 0, 0, 32] [1, 1, 8, 17] [1, 1, 1, 1]
// CHECK: %[[PP:.+]] = tensor.pad %[[P1]] low[0, 0, 0, 0] high[0, 0, 0, 15]
// CHECK: tensor<1x1x36x17xf32> to tensor<1x1x36x32xf32>
// CHECK: %[[PA:.+]] = tensor.pad %[[A1]] low[0, 0, 0, 0] high[0, 0, 0, 15]
// CHECK: tensor<1x1x8x17xf32> to tensor<1x1x8x32xf32>
// CHECK: %[[MM1:.+]] = linalg.generic {{.+}} ins(%{{.+}}, %[[PP]] : tensor<1x8x36xf32>, tensor<1x1x36x32xf32>) outs(%[[PA]] : tensor<1x1x8x32xf32>)
// CHECK: %[[KEEP:.+]] = tensor.extract_slice %[[MM1]][0, 0, 0, 0] [1, 1, 8, 17] [1, 1, 1, 1]
// CHECK: tensor.insert_slice %[[KEEP]] into %[[HALF]][0, 0, 0, 32] [1, 1, 8, 17] [1, 1, 1, 1]
func.func @map_7x7(%x: tensor<1x4x7x7xf32>, %w: tensor<8x4x3x3xf32>) -> tensor<1x8x7x7xf32> {
  %0 = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x7x7xf32>, tensor<8x4x3x3xf32>) -> tensor<1x8x7x7xf32>
  return %0 : tensor<1x8x7x7xf32>
}

// -----

// Fewer positions than a register tile's 32 (3x3 outputs): all 9 padded to
// 16 (half the vector width or less would pad to 8), one contraction.
// CHECK-LABEL: func.func @map_3x3
// CHECK: tensor.pad {{.+}} high[0, 0, 0, 7]
// CHECK: tensor.pad {{.+}} high[0, 0, 0, 7]
// CHECK: %[[MM:.+]] = linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<1x8x36xf32>, tensor<1x1x36x16xf32>) outs(%{{.+}} : tensor<1x1x8x16xf32>)
// CHECK: tensor.extract_slice %[[MM]][0, 0, 0, 0] [1, 1, 8, 9] [1, 1, 1, 1]
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @map_3x3(%x: tensor<1x4x5x5xf32>, %w: tensor<8x4x3x3xf32>) -> tensor<1x8x3x3xf32> {
  %0 = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x5x5xf32>, tensor<8x4x3x3xf32>) -> tensor<1x8x3x3xf32>
  return %0 : tensor<1x8x3x3xf32>
}

// -----

// A CNN's second convolution (8 -> 16 channels, stride 2, 4x4 outputs, batch
// 2: 2 * 16 * 16 * 72 = 36864 multiply-adds, above the default threshold):
// rewritten, one batch element per iteration, 16 columns (a power of two,
// not padded).
// SMALL-LABEL: func.func @small_cnn
// SMALL: scf.for
// SMALL: linalg.generic {{.+}} outs(%{{.+}} : tensor<1x1x8x3x3x4x4xf32>)
// SMALL-NOT: tensor.pad
// SMALL: linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<1x16x72xf32>, tensor<1x1x72x16xf32>) outs(%{{.+}} : tensor<1x1x16x16xf32>)
// CHECK-LABEL: func.func @small_cnn
func.func @small_cnn(%x: tensor<2x8x8x8xf32>, %w: tensor<16x8x3x3xf32>) -> tensor<2x16x4x4xf32> {
  %0 = mpc.conv %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<2x8x8x8xf32>, tensor<16x8x3x3xf32>) -> tensor<2x16x4x4xf32>
  return %0 : tensor<2x16x4x4xf32>
}

// -----

// The filter gradient: one batch element per iteration; its patches laid
// out [G, P, C*KH*KW] (filter entries innermost, the vector dimension), dy
// [G, M, P] first, one reduction (the output positions).
// CHECK-DAG: #[[WINDOW:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d3, d1 * 2 + d4, d2 * 2 + d5)>
// CHECK-DAG: #[[DY:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[PATCH:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// CHECK-DAG: #[[DW:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @grad_filter
// CHECK: %[[ACC0:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0], [1], [2, 3, 4]] : tensor<2x3x2x3x3xf32> into tensor<2x3x18xf32>
// CHECK: %[[LOOP:.+]] = scf.for %[[N:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %[[ACC0]]) -> (tensor<2x3x18xf32>)
// CHECK: %[[IMAGE:.+]] = tensor.extract_slice %{{.+}}[%[[N]], 0, 0, 0, 0] [1, 2, 2, 10, 10] [1, 1, 1, 1, 1] : tensor<2x2x2x10x10xf32> to tensor<2x2x10x10xf32>
// CHECK: %[[PATCHES:.+]] = linalg.generic {indexing_maps = [#[[WINDOW]], #{{.+}}], {{.+}} ins(%[[IMAGE]] : tensor<2x2x10x10xf32>) outs(%{{.+}} : tensor<2x4x4x2x3x3xf32>)
// CHECK: %[[P1:.+]] = tensor.collapse_shape %[[PATCHES]] {{\[}}[0], [1], [2], [3, 4, 5]]
// CHECK: %[[P:.+]] = tensor.collapse_shape %[[P1]] {{\[}}[0], [1, 2], [3]] : tensor<2x4x4x18xf32> into tensor<2x16x18xf32>
// CHECK: %[[DYN:.+]] = tensor.extract_slice %{{.+}}[%[[N]], 0, 0, 0, 0] [1, 2, 3, 4, 4]
// CHECK: %[[G:.+]] = tensor.collapse_shape %[[DYN]] {{\[}}[0], [1], [2, 3]] : tensor<2x3x4x4xf32> into tensor<2x3x16xf32>
// CHECK: %[[NEW:.+]] = linalg.generic {indexing_maps = [#[[DY]], #[[PATCH]], #[[DW]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[G]], %[[P]] : tensor<2x3x16xf32>, tensor<2x16x18xf32>) outs(%[[ACC]] : tensor<2x3x18xf32>)
// CHECK-NEXT: ^bb0(%[[D:.+]]: f32, %[[X:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT: arith.mulf %[[D]], %[[X]] : f32
// CHECK: scf.yield %[[NEW]]
// The iterations add into one accumulator: not independent.
// CHECK-NEXT: }{{$}}
// CHECK: tensor.expand_shape %[[LOOP]] {{\[}}[0], [1], [2, 3, 4]] output_shape [2, 3, 2, 3, 3]
func.func @grad_filter(%x: tensor<2x4x8x8xf32>, %dy: tensor<2x6x4x4xf32>) -> tensor<6x2x3x3xf32> {
  %0 = mpc.conv_grad_filter %x, %dy {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<2x4x8x8xf32>, tensor<2x6x4x4xf32>) -> tensor<6x2x3x3xf32>
  return %0 : tensor<6x2x3x3xf32>
}

// -----

// An empty batch: no work, left alone.
// CHECK-LABEL: func.func @empty_batch
// CHECK-NOT: scf.for
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]
func.func @empty_batch(%x: tensor<0x2x6x6xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<0x4x4x4xf32> {
  %0 = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<0x2x6x6xf32>, tensor<4x2x3x3xf32>) -> tensor<0x4x4x4xf32>
  return %0 : tensor<0x4x4x4xf32>
}

// -----

// 32 output channels on a 7x7 map (49 positions, no multiple of the 32-wide
// register tile): computed transposed, the positions as the tile's rows and
// 32 channels as its columns. The constant weight [32, 2, 1, 1] (w[m, c] =
// 2m + c) is packed at compile time as [G, M / 32, C * KH * KW, 32]: row c
// holds the 32 channels' weights for input channel c. (With 7 output
// columns and 2 channels the patches keep the convolution's (c, kh, kw)
// order; see @channels_inner for the other.) The accumulator
// starts as a fill in the [N, G, M / 32, P, 32] layout and is copied back to
// [N, G, M, P] at the end.
// CHECK-DAG: #[[ROWS:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d3, d5)>
// CHECK-DAG: #[[PACKED:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d1, d2, d5, d4)>
// CHECK-DAG: #[[ACC5:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4)>
// CHECK-LABEL: func.func @channels_as_columns
// CHECK: %[[W:.+]] = arith.constant dense<{{\[\[\[\[}}0.000000e+00, 2.000000e+00, 4.000000e+00, {{.+}}, 6.200000e+01], [1.000000e+00, 3.000000e+00, {{.+}}, 6.300000e+01]]]]> : tensor<1x1x2x32xf32>
// CHECK: %[[ACC:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1x1x1x49x32xf32>)
// CHECK: %[[PATCHES:.+]] = linalg.generic {{.+}} outs(%{{.+}} : tensor<1x1x7x7x2x1x1xf32>)
// CHECK: %[[ROWS5:.+]] = tensor.collapse_shape %[[PATCHES]] {{\[}}[0], [1], [2], [3], [4, 5, 6]]
// CHECK: %[[P:.+]] = tensor.collapse_shape %[[ROWS5]] {{\[}}[0], [1], [2, 3], [4]] : tensor<1x1x7x7x2xf32> into tensor<1x1x49x2xf32>
// CHECK: %[[MM:.+]] = linalg.generic {indexing_maps = [#[[ROWS]], #[[PACKED]], #[[ACC5]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[P]], %[[W]] : tensor<1x1x49x2xf32>, tensor<1x1x2x32xf32>) outs(%[[ACC]] : tensor<1x1x1x49x32xf32>)
// CHECK-NEXT: ^bb0(%[[INPUT:.+]]: f32, %[[WEIGHT:.+]]: f32, %[[SUM:.+]]: f32):
// CHECK-NEXT: %[[PROD:.+]] = arith.mulf %[[INPUT]], %[[WEIGHT]] : f32
// CHECK-NEXT: arith.addf %[[SUM]], %[[PROD]] : f32
// CHECK: %[[BACK:.+]] = linalg.generic {{.+}} ins(%[[MM]] : tensor<1x1x1x49x32xf32>) outs(%{{.+}} : tensor<1x1x1x32x49xf32>)
// CHECK: tensor.collapse_shape %[[BACK]] {{\[}}[0], [1], [2, 3], [4]] : tensor<1x1x1x32x49xf32> into tensor<1x1x32x49xf32>
func.func @channels_as_columns(%x: tensor<1x2x7x7xf32>) -> tensor<1x32x7x7xf32> {
  %w = arith.constant dense<[[[[0.0]],[[1.0]]],[[[2.0]],[[3.0]]],[[[4.0]],[[5.0]]],[[[6.0]],[[7.0]]],[[[8.0]],[[9.0]]],[[[10.0]],[[11.0]]],[[[12.0]],[[13.0]]],[[[14.0]],[[15.0]]],[[[16.0]],[[17.0]]],[[[18.0]],[[19.0]]],[[[20.0]],[[21.0]]],[[[22.0]],[[23.0]]],[[[24.0]],[[25.0]]],[[[26.0]],[[27.0]]],[[[28.0]],[[29.0]]],[[[30.0]],[[31.0]]],[[[32.0]],[[33.0]]],[[[34.0]],[[35.0]]],[[[36.0]],[[37.0]]],[[[38.0]],[[39.0]]],[[[40.0]],[[41.0]]],[[[42.0]],[[43.0]]],[[[44.0]],[[45.0]]],[[[46.0]],[[47.0]]],[[[48.0]],[[49.0]]],[[[50.0]],[[51.0]]],[[[52.0]],[[53.0]]],[[[54.0]],[[55.0]]],[[[56.0]],[[57.0]]],[[[58.0]],[[59.0]]],[[[60.0]],[[61.0]]],[[[62.0]],[[63.0]]]]> : tensor<32x2x1x1xf32>
  %0 = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x2x7x7xf32>, tensor<32x2x1x1xf32>) -> tensor<1x32x7x7xf32>
  return %0 : tensor<1x32x7x7xf32>
}

// -----

// The same with a weight known only at run time (training): it is packed by
// a copy generic, [1, 64, 4, 9] -> [1, 2, 32, 4, 9] -> [1, 2, 4, 9, 32] ->
// [1, 2, 36, 32] (the convolution's (c, kh, kw) order: 7 output columns).
// CHECK-LABEL: func.func @runtime_weight
// CHECK: %[[SPLIT:.+]] = tensor.expand_shape %{{.+}} {{\[}}[0], [1, 2], [3], [4]] output_shape [1, 2, 32, 4, 9] : tensor<1x64x4x9xf32> into tensor<1x2x32x4x9xf32>
// CHECK: %[[MOVED:.+]] = linalg.generic {{.+}} ins(%[[SPLIT]] : tensor<1x2x32x4x9xf32>) outs(%{{.+}} : tensor<1x2x4x9x32xf32>)
// CHECK: %[[PACKED:.+]] = tensor.collapse_shape %[[MOVED]] {{\[}}[0], [1], [2, 3], [4]] : tensor<1x2x4x9x32xf32> into tensor<1x2x36x32xf32>
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %[[PACKED]] : tensor<1x1x49x36xf32>, tensor<1x2x36x32xf32>) outs(%{{.+}} : tensor<1x1x2x49x32xf32>)
func.func @runtime_weight(%x: tensor<1x4x7x7xf32>, %w: tensor<64x4x3x3xf32>) -> tensor<1x64x7x7xf32> {
  %0 = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x7x7xf32>, tensor<64x4x3x3xf32>) -> tensor<1x64x7x7xf32>
  return %0 : tensor<1x64x7x7xf32>
}

// -----

// f32, stride 1, 8 or more output columns and input channels: the patches
// hold each position's (kh, kw, c) with the channels innermost (a transpose
// of the input's rows that mpc-vectorize-generics moves in register
// blocks), and the weight is packed in that order: [1, 32, 8, 9] -> [1, 1,
// 32, 8, 9] -> [1, 1, 9, 8, 32] -> [1, 1, 72, 32].
// CHECK-DAG: #[[TOPACKED:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3, d2)>
// CHECK-DAG: #[[IM2COL:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d6, d2 + d4, d3 + d5)>
// CHECK-LABEL: func.func @channels_inner
// CHECK: %[[SPLIT:.+]] = tensor.expand_shape %{{.+}} {{\[}}[0], [1, 2], [3], [4]] output_shape [1, 1, 32, 8, 9] : tensor<1x32x8x9xf32> into tensor<1x1x32x8x9xf32>
// CHECK: %[[MOVED:.+]] = linalg.generic {indexing_maps = [#[[TOPACKED]], #{{.+}}], {{.+}} ins(%[[SPLIT]] : tensor<1x1x32x8x9xf32>) outs(%{{.+}} : tensor<1x1x9x8x32xf32>)
// CHECK: %[[PACKED:.+]] = tensor.collapse_shape %[[MOVED]] {{\[}}[0], [1], [2, 3], [4]] : tensor<1x1x9x8x32xf32> into tensor<1x1x72x32xf32>
// CHECK: linalg.generic {indexing_maps = [#[[IM2COL]], #{{.+}}], {{.+}} outs(%{{.+}} : tensor<1x1x{{[0-9]+}}x10x3x3x8xf32>)
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %[[PACKED]] : tensor<1x1x{{[0-9]+}}x72xf32>, tensor<1x1x72x32xf32>)
func.func @channels_inner(%x: tensor<1x8x10x10xf32>, %w: tensor<32x8x3x3xf32>) -> tensor<1x32x10x10xf32> {
  %0 = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x8x10x10xf32>, tensor<32x8x3x3xf32>) -> tensor<1x32x10x10xf32>
  return %0 : tensor<1x32x10x10xf32>
}

// -----

// bf16, transposed (49 positions): the patches keep the convolution's (c, kh, kw) order
// (channels innermost would change each output's order of additions, and
// with it its bits) and are f32: the im2col copy widens each element once,
// and the contraction reads them without a cast (the register tiles then
// broadcast f32 rows). The weight keeps its bf16 widening.
// CHECK-LABEL: func.func @transposed_bf16
// CHECK: %[[PATCHES:.+]] = linalg.generic {{.+}} ins(%{{.+}} : tensor<1x1x8x9x9xbf16>) outs(%{{.+}} : tensor<1x1x7x7x8x3x3xf32>)
// CHECK-NEXT: ^bb0(%[[X:.+]]: bf16, %{{.+}}: f32):
// CHECK-NEXT: %[[XE:.+]] = arith.extf %[[X]] : bf16 to f32
// CHECK-NEXT: linalg.yield %[[XE]] : f32
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<1x1x49x72xf32>, tensor<1x1x72x32xbf16>)
// CHECK-NEXT: ^bb0(%[[INPUT:.+]]: f32, %[[WEIGHT:.+]]: bf16, %[[SUM:.+]]: f32):
// CHECK-NEXT: %[[W:.+]] = arith.extf %[[WEIGHT]] : bf16 to f32
// CHECK-NEXT: %[[PROD:.+]] = arith.mulf %[[INPUT]], %[[W]] : f32
// CHECK-NEXT: arith.addf %[[SUM]], %[[PROD]] : f32
func.func @transposed_bf16(%x: tensor<1x8x7x7xbf16>, %w: tensor<32x8x3x3xbf16>) -> tensor<1x32x7x7xbf16> {
  %0 = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x8x7x7xbf16>, tensor<32x8x3x3xbf16>) -> tensor<1x32x7x7xbf16>
  return %0 : tensor<1x32x7x7xbf16>
}

// -----

// Blocks of rows (7 of 28, 196 positions) and a batch of 2, transposed: one
// independent iteration per (image, block), each on its [1, 1, 1, 196, 32]
// slice of the accumulator.
// CHECK-LABEL: func.func @blocked_channels_as_columns
// CHECK: %[[C8:.+]] = arith.constant 8 : index
// CHECK: scf.for %{{.+}} = %{{.+}} to %[[C8]] step %{{.+}} iter_args(%[[ACC:.+]] = %{{.+}}) -> (tensor<2x1x1x784x32xf32>)
// CHECK: tensor.extract_slice %[[ACC]][%{{.+}}, 0, 0, %{{.+}}, 0] [1, 1, 1, 196, 32] [1, 1, 1, 1, 1]
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<1x1x196x36xf32>, tensor<1x1x36x32xf32>) outs(%{{.+}} : tensor<1x1x1x196x32xf32>)
// CHECK: } {mpc.independent_iterations}
func.func @blocked_channels_as_columns(%x: tensor<2x4x28x28xf32>, %w: tensor<32x4x3x3xf32>) -> tensor<2x32x28x28xf32> {
  %0 = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<2x4x28x28xf32>, tensor<32x4x3x3xf32>) -> tensor<2x32x28x28xf32>
  return %0 : tensor<2x32x28x28xf32>
}

// -----

// A constant start (the zero a bias-free convolution accumulates onto)
// gets a fill of its own in the matmul's [N, G, M, P] shape: CSE merges the
// equal starts of several convolutions into one fill, which bufferization
// then copied (a memcpy of the whole output) once per convolution.
// CHECK-LABEL: func.func @constant_start
// CHECK: %[[EMPTY:.+]] = tensor.empty() : tensor<1x1x16x32xf32>
// CHECK: %[[START:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[EMPTY]] : tensor<1x1x16x32xf32>)
// CHECK: linalg.generic {{.+}} outs(%[[START]] : tensor<1x1x16x32xf32>)
func.func @constant_start(%x: tensor<1x4x6x10xf32>, %w: tensor<16x4x3x3xf32>) -> tensor<1x16x4x8xf32> {
  %0 = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x4x6x10xf32>, tensor<16x4x3x3xf32>) -> tensor<1x16x4x8xf32>
  return %0 : tensor<1x16x4x8xf32>
}

// -----

// 3-D, strided in two dims: patches [N, G, C, KD, KH, KW, OD, OH, OW].
// CHECK-DAG: #[[WINDOW3D:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8) -> (d0, d1, d2, d3 + d6, d7 * 2 + d4, d8 * 2 + d5)>
// CHECK-LABEL: func.func @conv_3d
// CHECK: linalg.generic {indexing_maps = [#[[WINDOW3D]], #{{.+}}], {{.+}} outs(%{{.+}} : tensor<1x1x2x2x3x3x4x2x2xf32>)
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<1x4x36xf32>, tensor<1x1x36x16xf32>) outs(%{{.+}} : tensor<1x1x4x16xf32>)
// CHECK: tensor.expand_shape %{{.+}} {{\[}}[0], [1], [2], [3, 4, 5]] output_shape [1, 1, 4, 4, 2, 2]
func.func @conv_3d(%x: tensor<1x2x5x6x6xf32>, %w: tensor<4x2x2x3x3xf32>) -> tensor<1x4x4x2x2xf32> {
  %0 = mpc.conv %x, %w {strides = array<i64: 1, 2, 2>, pads = array<i64: 0, 0, 0, 0, 0, 0>, dilations = array<i64: 1, 1, 1>, group = 1 : i64} : (tensor<1x2x5x6x6xf32>, tensor<4x2x2x3x3xf32>) -> tensor<1x4x4x2x2xf32>
  return %0 : tensor<1x4x4x2x2xf32>
}

// -----

// Dilation 2 in both dims: the kernel offsets of the windows step by 2.
// CHECK-DAG: #[[DILATED:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d5 + d3 * 2, d6 + d4 * 2)>
// CHECK-LABEL: func.func @dilated_2d
// CHECK: linalg.generic {indexing_maps = [#[[DILATED]], #{{.+}}], {{.+}} ins(%{{.+}} : tensor<1x1x2x9x9xf32>) outs(%{{.+}} : tensor<1x1x2x3x3x5x5xf32>)
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<1x4x18xf32>, tensor<1x1x18x{{[0-9]+}}xf32>)
func.func @dilated_2d(%x: tensor<1x2x9x9xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x5x5xf32> {
  %0 = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 2, 2>, group = 1 : i64} : (tensor<1x2x9x9xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x5x5xf32>
  return %0 : tensor<1x4x5x5xf32>
}

// -----

// One input channel per group (4 groups, 2 output channels each): g is the
// classification's depth loop, kept as the matmul's batch.
// CHECK-LABEL: func.func @depthwise_groups
// CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0], [1], [2, 3, 4]] : tensor<4x2x1x3x3xf32> into tensor<4x2x9xf32>
// CHECK: linalg.generic {{.+}} outs(%{{.+}} : tensor<1x4x1x3x3x4x4xf32>)
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<4x2x9xf32>, tensor<1x4x9x16xf32>) outs(%{{.+}} : tensor<1x4x2x16xf32>)
func.func @depthwise_groups(%x: tensor<1x4x6x6xf32>, %w: tensor<8x1x3x3xf32>) -> tensor<1x8x4x4xf32> {
  %0 = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 4 : i64} : (tensor<1x4x6x6xf32>, tensor<8x1x3x3xf32>) -> tensor<1x8x4x4xf32>
  return %0 : tensor<1x8x4x4xf32>
}

// -----

// The filter gradient, 1-D, stride 2 and dilation 3: its output positions
// (stride) and kernel offsets (dilation) keep their multipliers in the
// patches [G, O, C, K].
// CHECK-DAG: #[[GRAD_WINDOW:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d1 * 2 + d3 * 3)>
// CHECK-LABEL: func.func @grad_filter_dilated_1d
// CHECK: scf.for
// CHECK: linalg.generic {indexing_maps = [#[[GRAD_WINDOW]], #{{.+}}], {{.+}} outs(%{{.+}} : tensor<1x4x2x3xf32>)
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<1x4x4xf32>, tensor<1x4x6xf32>) outs(%{{.+}} : tensor<1x4x6xf32>)
func.func @grad_filter_dilated_1d(%x: tensor<2x2x13xf32>, %dy: tensor<2x4x4xf32>) -> tensor<4x2x3xf32> {
  %0 = mpc.conv_grad_filter %x, %dy {strides = array<i64: 2>, pads = array<i64: 0, 0>, dilations = array<i64: 3>, group = 1 : i64} : (tensor<2x2x13xf32>, tensor<2x4x4xf32>) -> tensor<4x2x3xf32>
  return %0 : tensor<4x2x3xf32>
}

// -----

// Recognised by the roles of its loops, not their numbering: loops (c, k,
// n, o, g, m), and the window sum written kernel term first. Its stride 2
// and dilation 3 go to the patches as in mpc.conv's own generic.
// CHECK-DAG: #[[REORDERED:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4 * 2 + d3 * 3)>
// CHECK-LABEL: func.func @reordered_loops
// CHECK: linalg.generic {indexing_maps = [#[[REORDERED]], #{{.+}}], {{.+}} outs(%{{.+}} : tensor<1x1x3x3x4xf32>)
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<1x2x9xf32>, tensor<1x1x9x4xf32>) outs(%{{.+}} : tensor<1x1x2x4xf32>)
func.func @reordered_loops(%x: tensor<1x1x3x13xf32>, %w: tensor<1x2x3x3xf32>, %acc: tensor<1x1x2x4xf32>) -> tensor<1x1x2x4xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(c, k, n, o, g, m) -> (n, g, c, k * 3 + o * 2)>,
                                        affine_map<(c, k, n, o, g, m) -> (g, m, c, k)>,
                                        affine_map<(c, k, n, o, g, m) -> (n, g, m, o)>],
                       iterator_types = ["reduction", "reduction", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %w : tensor<1x1x3x13xf32>, tensor<1x2x3x3xf32>) outs(%acc : tensor<1x1x2x4xf32>) {
  ^bb0(%a: f32, %b: f32, %s: f32):
    %p = arith.mulf %a, %b : f32
    %r = arith.addf %s, %p : f32
    linalg.yield %r : f32
  } -> tensor<1x1x2x4xf32>
  return %0 : tensor<1x1x2x4xf32>
}

// -----

// The same convolution channels-last (input [N, W, G, C], weight [K, G, C,
// M], result [N, O, G, M]): the same loop roles, another layout, left alone.
// CHECK-LABEL: func.func @channels_last
// CHECK-NOT: tensor.collapse_shape
// CHECK: linalg.generic
// CHECK-NOT: linalg.generic
func.func @channels_last(%x: tensor<1x13x1x3xf32>, %w: tensor<3x1x3x2xf32>, %acc: tensor<1x4x1x2xf32>) -> tensor<1x4x1x2xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(n, g, m, o, c, k) -> (n, o * 2 + k * 3, g, c)>,
                                        affine_map<(n, g, m, o, c, k) -> (k, g, c, m)>,
                                        affine_map<(n, g, m, o, c, k) -> (n, o, g, m)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : tensor<1x13x1x3xf32>, tensor<3x1x3x2xf32>) outs(%acc : tensor<1x4x1x2xf32>) {
  ^bb0(%a: f32, %b: f32, %s: f32):
    %p = arith.mulf %a, %b : f32
    %r = arith.addf %s, %p : f32
    linalg.yield %r : f32
  } -> tensor<1x4x1x2xf32>
  return %0 : tensor<1x4x1x2xf32>
}

// -----

// The result with its channel and position dims swapped: left alone.
// CHECK-LABEL: func.func @permuted_output
// CHECK-NOT: tensor.collapse_shape
// CHECK: linalg.generic
// CHECK-NOT: linalg.generic
func.func @permuted_output(%x: tensor<1x1x3x13xf32>, %w: tensor<1x2x3x3xf32>, %acc: tensor<1x1x4x2xf32>) -> tensor<1x1x4x2xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(n, g, m, o, c, k) -> (n, g, c, o * 2 + k * 3)>,
                                        affine_map<(n, g, m, o, c, k) -> (g, m, c, k)>,
                                        affine_map<(n, g, m, o, c, k) -> (n, g, o, m)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : tensor<1x1x3x13xf32>, tensor<1x2x3x3xf32>) outs(%acc : tensor<1x1x4x2xf32>) {
  ^bb0(%a: f32, %b: f32, %s: f32):
    %p = arith.mulf %a, %b : f32
    %r = arith.addf %s, %p : f32
    linalg.yield %r : f32
  } -> tensor<1x1x4x2xf32>
  return %0 : tensor<1x1x4x2xf32>
}

// -----

// A depthwise map (the channel c read by input, weight and result alike, no
// output-channel loop): not one of the two layouts, left alone.
// CHECK-LABEL: func.func @depthwise_map
// CHECK-NOT: tensor.collapse_shape
// CHECK: linalg.generic
// CHECK-NOT: linalg.generic
func.func @depthwise_map(%x: tensor<1x1x3x13xf32>, %w: tensor<1x3x3xf32>, %acc: tensor<1x1x3x4xf32>) -> tensor<1x1x3x4xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(n, g, c, o, k) -> (n, g, c, o * 2 + k * 3)>,
                                        affine_map<(n, g, c, o, k) -> (g, c, k)>,
                                        affine_map<(n, g, c, o, k) -> (n, g, c, o)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<1x1x3x13xf32>, tensor<1x3x3xf32>) outs(%acc : tensor<1x1x3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %s: f32):
    %p = arith.mulf %a, %b : f32
    %r = arith.addf %s, %p : f32
    linalg.yield %r : f32
  } -> tensor<1x1x3x4xf32>
  return %0 : tensor<1x1x3x4xf32>
}

// -----

// A filter gradient whose dy is read [N, G, O, M] (transposed): left alone.
// CHECK-LABEL: func.func @transposed_dy
// CHECK-NOT: scf.for
// CHECK: linalg.generic
// CHECK-NOT: linalg.generic
func.func @transposed_dy(%x: tensor<2x1x3x13xf32>, %dy: tensor<2x1x4x2xf32>, %acc: tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(g, m, c, k, n, o) -> (n, g, c, o * 2 + k * 3)>,
                                        affine_map<(g, m, c, k, n, o) -> (n, g, o, m)>,
                                        affine_map<(g, m, c, k, n, o) -> (g, m, c, k)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %dy : tensor<2x1x3x13xf32>, tensor<2x1x4x2xf32>) outs(%acc : tensor<1x2x3x3xf32>) {
  ^bb0(%a: f32, %b: f32, %s: f32):
    %p = arith.mulf %a, %b : f32
    %r = arith.addf %s, %p : f32
    linalg.yield %r : f32
  } -> tensor<1x2x3x3xf32>
  return %0 : tensor<1x2x3x3xf32>
}

// -----

// A third input (a bias fused into the body): left alone.
// CHECK-LABEL: func.func @third_input
// CHECK-NOT: tensor.collapse_shape
// CHECK: linalg.generic
// CHECK-NOT: linalg.generic
func.func @third_input(%x: tensor<1x1x3x13xf32>, %w: tensor<1x2x3x3xf32>, %b: tensor<2xf32>, %acc: tensor<1x1x2x4xf32>) -> tensor<1x1x2x4xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(n, g, m, o, c, k) -> (n, g, c, o * 2 + k * 3)>,
                                        affine_map<(n, g, m, o, c, k) -> (g, m, c, k)>,
                                        affine_map<(n, g, m, o, c, k) -> (m)>,
                                        affine_map<(n, g, m, o, c, k) -> (n, g, m, o)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w, %b : tensor<1x1x3x13xf32>, tensor<1x2x3x3xf32>, tensor<2xf32>) outs(%acc : tensor<1x1x2x4xf32>) {
  ^bb0(%a: f32, %v: f32, %bias: f32, %s: f32):
    %p = arith.mulf %a, %v : f32
    %q = arith.addf %p, %bias : f32
    %r = arith.addf %s, %q : f32
    linalg.yield %r : f32
  } -> tensor<1x1x2x4xf32>
  return %0 : tensor<1x1x2x4xf32>
}

// -----

// A body that reads a loop index: the rewrite's loops are others, left alone.
// CHECK-LABEL: func.func @reads_index
// CHECK-NOT: tensor.collapse_shape
// CHECK: linalg.generic
// CHECK-NOT: linalg.generic
func.func @reads_index(%x: tensor<1x1x3x13xf32>, %w: tensor<1x2x3x3xf32>, %acc: tensor<1x1x2x4xf32>) -> tensor<1x1x2x4xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(n, g, m, o, c, k) -> (n, g, c, o * 2 + k * 3)>,
                                        affine_map<(n, g, m, o, c, k) -> (g, m, c, k)>,
                                        affine_map<(n, g, m, o, c, k) -> (n, g, m, o)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : tensor<1x1x3x13xf32>, tensor<1x2x3x3xf32>) outs(%acc : tensor<1x1x2x4xf32>) {
  ^bb0(%a: f32, %v: f32, %s: f32):
    %i = linalg.index 3 : index
    %j = arith.index_cast %i : index to i32
    %f = arith.sitofp %j : i32 to f32
    %p = arith.mulf %a, %v : f32
    %q = arith.mulf %p, %f : f32
    %r = arith.addf %s, %q : f32
    linalg.yield %r : f32
  } -> tensor<1x1x2x4xf32>
  return %0 : tensor<1x1x2x4xf32>
}

// -----

// Output positions that step backwards through the input (k * 3 - o):
// classified as a convolution of stride -1, left alone.
// CHECK-LABEL: func.func @negative_stride
// CHECK-NOT: tensor.collapse_shape
// CHECK: linalg.generic
// CHECK-NOT: linalg.generic
func.func @negative_stride(%x: tensor<1x1x3x9xf32>, %w: tensor<1x2x3x3xf32>, %acc: tensor<1x1x2x4xf32>) -> tensor<1x1x2x4xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(n, g, m, o, c, k) -> (n, g, c, k * 3 - o)>,
                                        affine_map<(n, g, m, o, c, k) -> (g, m, c, k)>,
                                        affine_map<(n, g, m, o, c, k) -> (n, g, m, o)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : tensor<1x1x3x9xf32>, tensor<1x2x3x3xf32>) outs(%acc : tensor<1x1x2x4xf32>) {
  ^bb0(%a: f32, %v: f32, %s: f32):
    %p = arith.mulf %a, %v : f32
    %r = arith.addf %s, %p : f32
    linalg.yield %r : f32
  } -> tensor<1x1x2x4xf32>
  return %0 : tensor<1x1x2x4xf32>
}

// -----

// A "strides" attribute that contradicts the map (linalg::inferConvolutionDims
// prefers it): the map decides, the generic does not match, left alone.
// CHECK-LABEL: func.func @strides_attribute
// CHECK-NOT: tensor.collapse_shape
// CHECK: linalg.generic
// CHECK-NOT: linalg.generic
func.func @strides_attribute(%x: tensor<1x1x3x13xf32>, %w: tensor<1x2x3x3xf32>, %acc: tensor<1x1x2x4xf32>) -> tensor<1x1x2x4xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(n, g, m, o, c, k) -> (n, g, c, o * 2 + k * 3)>,
                                        affine_map<(n, g, m, o, c, k) -> (g, m, c, k)>,
                                        affine_map<(n, g, m, o, c, k) -> (n, g, m, o)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : tensor<1x1x3x13xf32>, tensor<1x2x3x3xf32>) outs(%acc : tensor<1x1x2x4xf32>) attrs = {strides = dense<1> : tensor<1xi64>} {
  ^bb0(%a: f32, %v: f32, %s: f32):
    %p = arith.mulf %a, %v : f32
    %r = arith.addf %s, %p : f32
    linalg.yield %r : f32
  } -> tensor<1x1x2x4xf32>
  return %0 : tensor<1x1x2x4xf32>
}
