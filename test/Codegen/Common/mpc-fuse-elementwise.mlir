// RUN: mpc-opt --split-input-file --mpc-fuse-elementwise %s | FileCheck %s

#id2 = affine_map<(i, j) -> (i, j)>
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>

// An elementwise chain (add then exp) is one generic: each element is still
// computed once.
// CHECK-LABEL: func.func @chain
// CHECK: linalg.generic
// CHECK: arith.addf
// CHECK: math.exp
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @chain(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %s = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x, %y : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%u: f32, %v: f32, %o: f32):
    %r = arith.addf %u, %v : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %t = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%u: f32, %o: f32):
    %r = math.exp %u : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  return %t : tensor<4x8xf32>
}

// -----

#id2 = affine_map<(i, j) -> (i, j)>
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>

// An activation feeding a matmul's left operand would be recomputed for each
// of the 64 output columns if fused (upstream's linalg-fuse-elementwise-ops
// does so): it stays a separate generic, the matmul body stays mul + add.
// CHECK-LABEL: func.func @activation_into_matmul
// CHECK: linalg.generic
// CHECK: math.erf
// CHECK: linalg.yield
// CHECK: linalg.generic
// CHECK-NOT: math.erf
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: linalg.yield
func.func @activation_into_matmul(%x: tensor<16x32xf32>, %w: tensor<32x64xf32>) -> tensor<16x64xf32> {
  %e = tensor.empty() : tensor<16x32xf32>
  %g = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<16x32xf32>) outs(%e : tensor<16x32xf32>) {
  ^bb0(%u: f32, %o: f32):
    %r = math.erf %u : f32
    linalg.yield %r : f32
  } -> tensor<16x32xf32>
  %zero = arith.constant 0.0 : f32
  %ce = tensor.empty() : tensor<16x64xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%ce : tensor<16x64xf32>) -> tensor<16x64xf32>
  %m = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%g, %w : tensor<16x32xf32>, tensor<32x64xf32>) outs(%acc : tensor<16x64xf32>) {
  ^bb0(%u: f32, %v: f32, %o: f32):
    %p = arith.mulf %u, %v : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<16x64xf32>
  return %m : tensor<16x64xf32>
}

// -----

#id2 = affine_map<(i, j) -> (i, j)>
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>

// A precision cast is cheap to recompute and mpc-tile-and-vectorize expects
// it inside the contraction: it is still fused.
// CHECK-LABEL: func.func @cast_into_matmul
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: arith.truncf
// CHECK: arith.extf
// CHECK: arith.mulf
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @cast_into_matmul(%x: tensor<16x32xf32>, %w: tensor<32x64xbf16>) -> tensor<16x64xf32> {
  %e = tensor.empty() : tensor<16x32xbf16>
  %g = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<16x32xf32>) outs(%e : tensor<16x32xbf16>) {
  ^bb0(%u: f32, %o: bf16):
    %r = arith.truncf %u : f32 to bf16
    linalg.yield %r : bf16
  } -> tensor<16x32xbf16>
  %zero = arith.constant 0.0 : f32
  %ce = tensor.empty() : tensor<16x64xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%ce : tensor<16x64xf32>) -> tensor<16x64xf32>
  %m = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%g, %w : tensor<16x32xbf16>, tensor<32x64xbf16>) outs(%acc : tensor<16x64xf32>) {
  ^bb0(%u: bf16, %v: bf16, %o: f32):
    %ue = arith.extf %u : bf16 to f32
    %ve = arith.extf %v : bf16 to f32
    %p = arith.mulf %ue, %ve : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<16x64xf32>
  return %m : tensor<16x64xf32>
}

// -----

#id2 = affine_map<(i, j) -> (i, j)>

// A producer with a second user after its consumer: one generic computes
// the sum once, stores it for the return and applies exp to it.
// CHECK-LABEL: func.func @fan_out
// CHECK: %[[F:.+]]:2 = linalg.generic
// CHECK: %[[S:.+]] = arith.addf
// CHECK: %[[E:.+]] = math.exp %[[S]]
// CHECK: linalg.yield %[[S]], %[[E]]
// CHECK-NOT: linalg.generic
// CHECK: return %[[F]]#1, %[[F]]#0
func.func @fan_out(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %e = tensor.empty() : tensor<4x8xf32>
  %s = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x, %y : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%u: f32, %v: f32, %o: f32):
    %r = arith.addf %u, %v : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %t = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%u: f32, %o: f32):
    %r = math.exp %u : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  return %t, %s : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

#id2 = affine_map<(i, j) -> (i, j)>

// A diamond (the sum feeds exp and negf, both feed the product) is one
// generic with one result: the intermediate values have no other users.
// CHECK-LABEL: func.func @diamond
// CHECK: %[[F:.+]] = linalg.generic
// CHECK-SAME: outs(%{{.+}} : tensor<4x8xf32>)
// CHECK: %[[S:.+]] = arith.addf
// CHECK-DAG: %[[E:.+]] = math.exp %[[S]]
// CHECK-DAG: %[[N:.+]] = arith.negf %[[S]]
// CHECK: %[[P:.+]] = arith.mulf
// CHECK: linalg.yield %[[P]] : f32
// CHECK-NOT: linalg.generic
// CHECK: return %[[F]]
func.func @diamond(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %s = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x, %y : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%u: f32, %v: f32, %o: f32):
    %r = arith.addf %u, %v : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %a = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%u: f32, %o: f32):
    %r = math.exp %u : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %b = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%u: f32, %o: f32):
    %r = arith.negf %u : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %c = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%u: f32, %v: f32, %o: f32):
    %r = arith.mulf %u, %v : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  return %c : tensor<4x8xf32>
}

// -----

#id1 = affine_map<(i) -> (i)>

// An AdamW-like update: the new moments m2 and v2 each feed the state
// output's select and the parameter update. One generic reads g, m, v, p
// once and writes the moments' state outputs and the new parameter.
// CHECK-LABEL: func.func @optimizer
// CHECK: %[[F:.+]]:3 = linalg.generic
// CHECK-SAME: ins(%[[P:.+]], %[[OK:.+]], %[[M:.+]], %[[G:.+]], %[[V:.+]] : tensor<64xf32>, tensor<64xi1>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
// CHECK-SAME: outs(%{{.+}}, %{{.+}}, %{{.+}} : tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
// CHECK: ^bb0(%[[PI:[a-z0-9_]+]]: f32, %[[KI:[a-z0-9_]+]]: i1, %[[MI:[a-z0-9_]+]]: f32, %[[GI:[a-z0-9_]+]]: f32, %[[VI:[a-z0-9_]+]]: f32,
// CHECK: %[[V2:.+]] = arith.addf
// CHECK: %[[VS:.+]] = arith.select %[[KI]], %[[V2]], %[[VI]]
// CHECK: %[[M2:.+]] = arith.addf
// CHECK: %[[MS:.+]] = arith.select %[[KI]], %[[M2]], %[[MI]]
// CHECK: math.sqrt %[[V2]]
// CHECK: arith.divf %[[M2]]
// CHECK: %[[P2:.+]] = arith.subf %[[PI]]
// CHECK: linalg.yield %[[VS]], %[[MS]], %[[P2]]
// CHECK-NOT: linalg.generic
// CHECK: return %[[F]]#1, %[[F]]#0, %[[F]]#2
func.func @optimizer(%g: tensor<64xf32>, %m: tensor<64xf32>, %v: tensor<64xf32>, %p: tensor<64xf32>,
                     %ok: tensor<64xi1>) -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) {
  %e = tensor.empty() : tensor<64xf32>
  %b1 = arith.constant 0.9 : f32
  %c1 = arith.constant 0.1 : f32
  %lr = arith.constant 0.001 : f32
  %m2 = linalg.generic {indexing_maps = [#id1, #id1, #id1], iterator_types = ["parallel"]}
      ins(%g, %m : tensor<64xf32>, tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%gi: f32, %mi: f32, %o: f32):
    %a = arith.mulf %b1, %mi : f32
    %b = arith.mulf %c1, %gi : f32
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<64xf32>
  %v2 = linalg.generic {indexing_maps = [#id1, #id1, #id1], iterator_types = ["parallel"]}
      ins(%g, %v : tensor<64xf32>, tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%gi: f32, %vi: f32, %o: f32):
    %a = arith.mulf %b1, %vi : f32
    %gg = arith.mulf %gi, %gi : f32
    %b = arith.mulf %c1, %gg : f32
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<64xf32>
  %ms = linalg.generic {indexing_maps = [#id1, #id1, #id1, #id1], iterator_types = ["parallel"]}
      ins(%ok, %m2, %m : tensor<64xi1>, tensor<64xf32>, tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%k: i1, %a: f32, %b: f32, %o: f32):
    %r = arith.select %k, %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<64xf32>
  %vs = linalg.generic {indexing_maps = [#id1, #id1, #id1, #id1], iterator_types = ["parallel"]}
      ins(%ok, %v2, %v : tensor<64xi1>, tensor<64xf32>, tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%k: i1, %a: f32, %b: f32, %o: f32):
    %r = arith.select %k, %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<64xf32>
  %p2 = linalg.generic {indexing_maps = [#id1, #id1, #id1, #id1], iterator_types = ["parallel"]}
      ins(%m2, %v2, %p : tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%mi: f32, %vi: f32, %pi: f32, %o: f32):
    %s = math.sqrt %vi : f32
    %d = arith.divf %mi, %s : f32
    %u = arith.mulf %lr, %d : f32
    %r = arith.subf %pi, %u : f32
    linalg.yield %r : f32
  } -> tensor<64xf32>
  return %ms, %vs, %p2 : tensor<64xf32>, tensor<64xf32>, tensor<64xf32>
}

// -----

#id2 = affine_map<(i, j) -> (i, j)>
#tr = affine_map<(i, j) -> (j, i)>

// A consumer reading the producer through a transpose: the fused op loops
// over the consumer's points and stores the producer's result (and reads
// its operands, its linalg.index) through the transpose.
// CHECK-LABEL: func.func @through_transpose
// CHECK: %[[F:.+]]:2 = linalg.generic
// CHECK-SAME: ins(%{{.+}} : tensor<4x8xf32>) outs(%{{.+}}, %{{.+}} : tensor<4x8xf32>, tensor<8x4xf32>)
// CHECK: %[[I:.+]] = linalg.index 1 : index
// CHECK: arith.index_cast %[[I]]
// CHECK: math.exp
// CHECK-NOT: linalg.generic
// CHECK: return %[[F]]#1, %[[F]]#0 : tensor<8x4xf32>, tensor<4x8xf32>
func.func @through_transpose(%x: tensor<4x8xf32>) -> (tensor<8x4xf32>, tensor<4x8xf32>) {
  %e = tensor.empty() : tensor<4x8xf32>
  %et = tensor.empty() : tensor<8x4xf32>
  %s = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%u: f32, %o: f32):
    %i = linalg.index 0 : index
    %ii = arith.index_cast %i : index to i32
    %f = arith.sitofp %ii : i32 to f32
    %r = arith.addf %u, %f : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %t = linalg.generic {indexing_maps = [#tr, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<4x8xf32>) outs(%et : tensor<8x4xf32>) {
  ^bb0(%u: f32, %o: f32):
    %r = math.exp %u : f32
    linalg.yield %r : f32
  } -> tensor<8x4xf32>
  return %t, %s : tensor<8x4xf32>, tensor<4x8xf32>
}

// -----

#id2 = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (i)>

// Refused: a multi-use producer read by a reduction (the consumer is not
// elementwise), and one whose other user (the reduction) comes before the
// elementwise consumer, which would then have to be computed first.
// CHECK-LABEL: func.func @refuse_reduction_and_earlier_user
// CHECK: %[[S:.+]] = linalg.generic
// CHECK: arith.addf
// CHECK: linalg.yield
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
// CHECK-SAME: ins(%[[S]] : tensor<4x8xf32>)
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[S]] : tensor<4x8xf32>)
// CHECK: math.exp
func.func @refuse_reduction_and_earlier_user(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> (tensor<4xf32>, tensor<4x8xf32>) {
  %e = tensor.empty() : tensor<4x8xf32>
  %er = tensor.empty() : tensor<4xf32>
  %s = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x, %y : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%u: f32, %v: f32, %o: f32):
    %r = arith.addf %u, %v : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %sum = linalg.generic {indexing_maps = [#id2, #row], iterator_types = ["parallel", "reduction"]}
      ins(%s : tensor<4x8xf32>) outs(%er : tensor<4xf32>) {
  ^bb0(%u: f32, %o: f32):
    %r = arith.addf %u, %o : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  %t = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%u: f32, %o: f32):
    %r = math.exp %u : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  return %sum, %t : tensor<4xf32>, tensor<4x8xf32>
}

// -----

#id2 = affine_map<(i, j) -> (i, j)>
#tr = affine_map<(i, j) -> (j, i)>
#col = affine_map<(i, j, k) -> (i, j)>
#id3 = affine_map<(i, j, k) -> (i, j, k)>

// Refused: a consumer reading the producer at two different points (x and
// its transpose: the producer would be evaluated twice per point), and one
// reading it through a broadcast over a loop the producer does not have.
// CHECK-LABEL: func.func @refuse_two_points_and_broadcast
// CHECK: %[[S:.+]] = linalg.generic
// CHECK: arith.addf
// CHECK: linalg.yield
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[S]], %[[S]] : tensor<8x8xf32>, tensor<8x8xf32>)
// CHECK: arith.subf
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[S]] : tensor<8x8xf32>)
// CHECK: math.exp
func.func @refuse_two_points_and_broadcast(%x: tensor<8x8xf32>) -> (tensor<8x8xf32>, tensor<8x8x2xf32>) {
  %e = tensor.empty() : tensor<8x8xf32>
  %e3 = tensor.empty() : tensor<8x8x2xf32>
  %s = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x, %x : tensor<8x8xf32>, tensor<8x8xf32>) outs(%e : tensor<8x8xf32>) {
  ^bb0(%u: f32, %v: f32, %o: f32):
    %r = arith.addf %u, %v : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %d = linalg.generic {indexing_maps = [#id2, #tr, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%s, %s : tensor<8x8xf32>, tensor<8x8xf32>) outs(%e : tensor<8x8xf32>) {
  ^bb0(%u: f32, %v: f32, %o: f32):
    %r = arith.subf %u, %v : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %b = linalg.generic {indexing_maps = [#col, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<8x8xf32>) outs(%e3 : tensor<8x8x2xf32>) {
  ^bb0(%u: f32, %o: f32):
    %r = math.exp %u : f32
    linalg.yield %r : f32
  } -> tensor<8x8x2xf32>
  return %d, %b : tensor<8x8xf32>, tensor<8x8x2xf32>
}

// -----

#id2 = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (i)>

// The square of a multi-use difference feeds only a sum: it is fused into
// the sum (computed in the reduction, never stored), and the difference is
// not fused into it, which would store the squares for the sum to read.
// CHECK-LABEL: func.func @square_stays_in_reduction
// CHECK: %[[D:.+]] = linalg.generic
// CHECK: arith.subf
// CHECK: linalg.yield
// CHECK: %[[SUM:.+]] = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
// CHECK-SAME: ins(%[[D]] : tensor<4x8xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[D]], %[[SUM]] : tensor<4x8xf32>, tensor<4xf32>)
// CHECK: arith.divf
func.func @square_stays_in_reduction(%x: tensor<4x8xf32>, %m: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %er = tensor.empty() : tensor<4xf32>
  %d = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x, %m : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%u: f32, %v: f32, %o: f32):
    %r = arith.subf %u, %v : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %sq = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%d : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%u: f32, %o: f32):
    %r = arith.mulf %u, %u : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %sum = linalg.generic {indexing_maps = [#id2, #row], iterator_types = ["parallel", "reduction"]}
      ins(%sq : tensor<4x8xf32>) outs(%er : tensor<4xf32>) {
  ^bb0(%u: f32, %o: f32):
    %r = arith.addf %u, %o : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  %n = linalg.generic {indexing_maps = [#id2, #row, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%d, %sum : tensor<4x8xf32>, tensor<4xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%u: f32, %s: f32, %o: f32):
    %r = arith.divf %u, %s : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  return %n : tensor<4x8xf32>
}
