// RUN: mpc-opt --split-input-file --mpc-pad-in-place %s | FileCheck %s

// The relu writes straight into the interior of the padded tensor: the fill
// of the padded shape comes first, the relu's output is its [1, 4, 6, 6]
// slice, and the pad becomes the insert of that slice. Another reader of the
// relu (here the second result) reads the same slice.
// CHECK-LABEL: func.func @relu_then_pad
// CHECK-NOT: tensor.pad
// CHECK: %[[FILLED:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1x4x8x8xf32>)
// CHECK: %[[INTERIOR:.+]] = tensor.extract_slice %[[FILLED]][0, 0, 1, 1] [1, 4, 6, 6] [1, 1, 1, 1]
// CHECK: %[[RELU:.+]] = linalg.generic {{.+}} outs(%[[INTERIOR]] : tensor<1x4x6x6xf32>)
// CHECK: arith.maximumf
// CHECK: %[[PADDED:.+]] = tensor.insert_slice %[[RELU]] into %[[FILLED]][0, 0, 1, 1] [1, 4, 6, 6] [1, 1, 1, 1]
// CHECK: return %[[PADDED]], %[[RELU]]
func.func @relu_then_pad(%x: tensor<1x4x6x6xf32>) -> (tensor<1x4x8x8xf32>, tensor<1x4x6x6xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x6x6xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(a, b, c, d) -> (a, b, c, d)>, affine_map<(a, b, c, d) -> (a, b, c, d)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x : tensor<1x4x6x6xf32>) outs(%e : tensor<1x4x6x6xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4x6x6xf32>
  %p = tensor.pad %r low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x4x6x6xf32> to tensor<1x4x8x8xf32>
  return %p, %r : tensor<1x4x8x8xf32>, tensor<1x4x6x6xf32>
}

// -----

// A max pooling (its output starts at -inf) through a reshape: the -inf
// fill is redone on the interior, reshaped to the pooling's shape.
// CHECK-LABEL: func.func @maxpool_then_pad
// CHECK-NOT: tensor.pad
// CHECK: %[[FILLED:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1x1x4x6x6xf32>)
// CHECK: %[[INTERIOR:.+]] = tensor.extract_slice %[[FILLED]][0, 0, 0, 1, 1] [1, 1, 4, 4, 4] [1, 1, 1, 1, 1]
// CHECK: %[[FLAT:.+]] = tensor.collapse_shape %[[INTERIOR]] {{\[}}[0], [1, 2], [3], [4]] : tensor<1x1x4x4x4xf32> into tensor<1x4x4x4xf32>
// CHECK: %[[START:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[FLAT]] : tensor<1x4x4x4xf32>)
// CHECK: %[[POOL:.+]] = linalg.generic {{.+}} outs(%[[START]] : tensor<1x4x4x4xf32>)
// CHECK: %[[BACK:.+]] = tensor.expand_shape %[[POOL]]
// CHECK: tensor.insert_slice %[[BACK]] into %[[FILLED]][0, 0, 0, 1, 1] [1, 1, 4, 4, 4] [1, 1, 1, 1, 1]
func.func @maxpool_then_pad(%x: tensor<1x4x8x8xf32>) -> tensor<1x1x4x6x6xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e = tensor.empty() : tensor<1x4x4x4xf32>
  %f = linalg.fill ins(%ninf : f32) outs(%e : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %w = tensor.empty() : tensor<2x2xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(a, b, c, d, e, f) -> (a, b, c * 2 + e, d * 2 + f)>, affine_map<(a, b, c, d, e, f) -> (e, f)>, affine_map<(a, b, c, d, e, f) -> (a, b, c, d)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%x, %w : tensor<1x4x8x8xf32>, tensor<2x2xf32>) outs(%f : tensor<1x4x4x4xf32>) {
  ^bb0(%in: f32, %unused: f32, %out: f32):
    %mx = arith.maximumf %in, %out : f32
    linalg.yield %mx : f32
  } -> tensor<1x4x4x4xf32>
  %x5 = tensor.expand_shape %m [[0], [1, 2], [3], [4]] output_shape [1, 1, 4, 4, 4] : tensor<1x4x4x4xf32> into tensor<1x1x4x4x4xf32>
  %p = tensor.pad %x5 low[0, 0, 0, 1, 1] high[0, 0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index, %n: index):
    tensor.yield %zero : f32
  } : tensor<1x1x4x4x4xf32> to tensor<1x1x4x6x6xf32>
  return %p : tensor<1x1x4x6x6xf32>
}

// -----

// A producer that reads its output (an accumulation into an argument) keeps
// its pad.
// CHECK-LABEL: func.func @reads_its_output
// CHECK: tensor.pad
func.func @reads_its_output(%x: tensor<1x4x6x6xf32>, %acc: tensor<1x4x6x6xf32>) -> tensor<1x4x8x8xf32> {
  %zero = arith.constant 0.0 : f32
  %r = linalg.generic {indexing_maps = [affine_map<(a, b, c, d) -> (a, b, c, d)>, affine_map<(a, b, c, d) -> (a, b, c, d)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x : tensor<1x4x6x6xf32>) outs(%acc : tensor<1x4x6x6xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  } -> tensor<1x4x6x6xf32>
  %p = tensor.pad %r low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x4x6x6xf32> to tensor<1x4x8x8xf32>
  return %p : tensor<1x4x8x8xf32>
}
