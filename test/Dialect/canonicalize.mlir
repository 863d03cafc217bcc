// The ops' folders (lib/Dialect/MpcFolds.cpp, CastFolds.cpp): a folded
// element is what the compiled code computes, bit for bit, so only correctly
// rounded operations fold; the trivial folds forward an operand.
// RUN: mpc-opt --canonicalize --split-input-file %s | FileCheck %s

// CHECK-LABEL: func.func @add_broadcast
// CHECK: %[[R:.+]] = arith.constant dense<{{\[}}[1.100000e+01, 2.200000e+01], [1.300000e+01, 2.400000e+01]]> : tensor<2x2xf32>
// CHECK-NEXT: return %[[R]]
func.func @add_broadcast() -> tensor<2x2xf32> {
  %a = arith.constant dense<[[1.0], [3.0]]> : tensor<2x1xf32>
  %b = arith.constant dense<[10.0, 21.0]> : tensor<2xf32>
  %r = mpc.add %a, %b : (tensor<2x1xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  return %r : tensor<2x2xf32>
}

// -----

// One operand computed at run time: nothing to fold.
// CHECK-LABEL: func.func @add_not_constant
// CHECK: mpc.add
func.func @add_not_constant(%x: tensor<2xf32>) -> tensor<2xf32> {
  %c = arith.constant dense<1.0> : tensor<2xf32>
  %r = mpc.add %x, %c : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

// Rounded once, to nearest even, in the element type: 1 + 2^-11 is a tie in
// f16 and rounds to 1; 1 + 3 * 2^-11 rounds up.
// CHECK-LABEL: func.func @add_f16_rounds_to_even
// CHECK: arith.constant dense<[1.000000e+00, 1.001950e+00]> : tensor<2xf16>
func.func @add_f16_rounds_to_even() -> tensor<2xf16> {
  %a = arith.constant dense<1.0> : tensor<2xf16>
  %b = arith.constant dense<[0.00048828125, 0.00146484375]> : tensor<2xf16>
  %r = mpc.add %a, %b : (tensor<2xf16>, tensor<2xf16>) -> tensor<2xf16>
  return %r : tensor<2xf16>
}

// -----

// bf16 keeps 8 bits of mantissa: 256 + 1 is 256.
// CHECK-LABEL: func.func @add_bf16
// CHECK: arith.constant dense<2.560000e+02> : tensor<bf16>
func.func @add_bf16() -> tensor<bf16> {
  %a = arith.constant dense<256.0> : tensor<bf16>
  %b = arith.constant dense<1.0> : tensor<bf16>
  %r = mpc.add %a, %b : (tensor<bf16>, tensor<bf16>) -> tensor<bf16>
  return %r : tensor<bf16>
}

// -----

// fp8 computes in f32 and rounds back once. A result out of range stays: the
// fp8 op makes it NaN (f8E4M3FN has no infinity), but precision assignment
// computes the op in f32 and casts back with saturation.
// CHECK-LABEL: func.func @add_fp8
// CHECK-DAG: arith.constant dense<[1.280000e+02, 4.000000e+00]> : tensor<2xf8E4M3FN>
// CHECK-DAG: mpc.add
func.func @add_fp8() -> (tensor<2xf8E4M3FN>, tensor<f8E4M3FN>) {
  %a = arith.constant dense<[64.0, 1.75]> : tensor<2xf8E4M3FN>
  %b = arith.constant dense<[64.0, 2.25]> : tensor<2xf8E4M3FN>
  %r = mpc.add %a, %b : (tensor<2xf8E4M3FN>, tensor<2xf8E4M3FN>) -> tensor<2xf8E4M3FN>
  %m = arith.constant dense<448.0> : tensor<f8E4M3FN>
  %o = mpc.add %m, %m : (tensor<f8E4M3FN>, tensor<f8E4M3FN>) -> tensor<f8E4M3FN>
  return %r, %o : tensor<2xf8E4M3FN>, tensor<f8E4M3FN>
}

// -----

// Integers wrap around like the lowering's arith ops.
// CHECK-LABEL: func.func @int_arithmetic
// CHECK-DAG: arith.constant dense<[-2147483648, 7]> : tensor<2xi32>
// CHECK-DAG: arith.constant dense<[-6, 12]> : tensor<2xi64>
// CHECK-DAG: arith.constant dense<[2, -3]> : tensor<2xi64>
func.func @int_arithmetic() -> (tensor<2xi32>, tensor<2xi64>, tensor<2xi64>) {
  %a = arith.constant dense<[2147483647, 3]> : tensor<2xi32>
  %b = arith.constant dense<[1, 4]> : tensor<2xi32>
  %sum = mpc.add %a, %b : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
  %c = arith.constant dense<[-2, 3]> : tensor<2xi64>
  %d = arith.constant dense<[3, 4]> : tensor<2xi64>
  %e = arith.constant dense<[7, -7]> : tensor<2xi64>
  %f = arith.constant dense<[3, 2]> : tensor<2xi64>
  %product = mpc.mul %c, %d : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  // Division truncates toward zero.
  %quotient = mpc.div %e, %f : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  return %sum, %product, %quotient : tensor<2xi32>, tensor<2xi64>, tensor<2xi64>
}

// -----

// Undefined in the compiled code: division by zero and INT_MIN / -1.
// CHECK-LABEL: func.func @int_div_undefined
// CHECK-COUNT-2: mpc.div
func.func @int_div_undefined() -> (tensor<2xi32>, tensor<i32>) {
  %a = arith.constant dense<[6, 6]> : tensor<2xi32>
  %b = arith.constant dense<[3, 0]> : tensor<2xi32>
  %r = mpc.div %a, %b : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
  %min = arith.constant dense<-2147483648> : tensor<i32>
  %m1 = arith.constant dense<-1> : tensor<i32>
  %s = mpc.div %min, %m1 : (tensor<i32>, tensor<i32>) -> tensor<i32>
  return %r, %s : tensor<2xi32>, tensor<i32>
}

// -----

// Float division by zero is an infinity (folds); 0/0 makes a NaN, whose bits
// are the hardware's choice (does not fold).
// CHECK-LABEL: func.func @float_div
// CHECK-DAG: %[[INF:.+]] = arith.constant dense<[0x7F800000, 0xFF800000]> : tensor<2xf32>
// CHECK-DAG: %[[NAN:.+]] = mpc.div
// CHECK: return %[[INF]], %[[NAN]]
func.func @float_div() -> (tensor<2xf32>, tensor<f32>) {
  %a = arith.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %z = arith.constant dense<0.0> : tensor<2xf32>
  %r = mpc.div %a, %z : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %zs = arith.constant dense<0.0> : tensor<f32>
  %n = mpc.div %zs, %zs : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %r, %n : tensor<2xf32>, tensor<f32>
}

// -----

// max/min as arith-expand compiles maximumf/minimumf: a NaN operand wins;
// equal operands, +0 and -0 too, give the right one.
// CHECK-LABEL: func.func @max_min
// CHECK-DAG: arith.constant dense<[0x7FC00000, 0.000000e+00, -0.000000e+00, 2.000000e+00]> : tensor<4xf32>
// CHECK-DAG: arith.constant dense<[0x7FC00000, 0.000000e+00, -0.000000e+00, 1.000000e+00]> : tensor<4xf32>
// CHECK-DAG: arith.constant dense<0x7FC00001> : tensor<2xf32>
// CHECK-DAG: arith.constant dense<[5, -4]> : tensor<2xi64>
func.func @max_min() -> (tensor<4xf32>, tensor<4xf32>, tensor<2xf32>, tensor<2xi64>) {
  %a = arith.constant dense<[0x7FC00000, -0.0, 0.0, 1.0]> : tensor<4xf32>
  %b = arith.constant dense<[1.0, 0.0, -0.0, 2.0]> : tensor<4xf32>
  %max = mpc.max %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %min = mpc.min %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  // Two NaNs: the right one.
  %n = arith.constant dense<[0x7FC00000, 0x7FC00002]> : tensor<2xf32>
  %m = arith.constant dense<0x7FC00001> : tensor<f32>
  %nmax = mpc.max %n, %m : (tensor<2xf32>, tensor<f32>) -> tensor<2xf32>
  %c = arith.constant dense<[5, -7]> : tensor<2xi64>
  %d = arith.constant dense<-4> : tensor<i64>
  %imax = mpc.max %c, %d : (tensor<2xi64>, tensor<i64>) -> tensor<2xi64>
  return %max, %min, %nmax, %imax : tensor<4xf32>, tensor<4xf32>, tensor<2xf32>, tensor<2xi64>
}

// -----

// Which operand wins a tie depends on the order, so max and min are not
// commutative: a constant left operand stays on the left.
// CHECK-LABEL: func.func @max_keeps_operand_order
// CHECK: mpc.max %[[C:.+]], %arg0
// CHECK: mpc.min %[[C]], %arg0
func.func @max_keeps_operand_order(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %c = arith.constant dense<0.0> : tensor<4xf32>
  %max = mpc.max %c, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %min = mpc.min %c, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %max, %min : tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @sub_splat
// CHECK: arith.constant dense<-1.000000e+00> : tensor<4x4xf32>
func.func @sub_splat() -> tensor<4x4xf32> {
  %a = arith.constant dense<1.0> : tensor<4x4xf32>
  %b = arith.constant dense<2.0> : tensor<f32>
  %r = mpc.sub %a, %b : (tensor<4x4xf32>, tensor<f32>) -> tensor<4x4xf32>
  return %r : tensor<4x4xf32>
}

// -----

// CHECK-LABEL: func.func @unary
// CHECK-DAG: arith.constant dense<[-1.000000e+00, 0.000000e+00, 0xFFC00000]> : tensor<3xf32>
// CHECK-DAG: arith.constant dense<[1.000000e+00, 0.000000e+00, 0x7FC00000]> : tensor<3xf32>
// CHECK-DAG: arith.constant dense<[2147483647, -2147483648]> : tensor<2xi32>
// CHECK-DAG: arith.constant dense<[0.000000e+00, 0.000000e+00, 3.000000e+00]> : tensor<3xf32>
func.func @unary() -> (tensor<3xf32>, tensor<3xf32>, tensor<2xi32>, tensor<3xf32>) {
  %a = arith.constant dense<[1.0, -0.0, 0x7FC00000]> : tensor<3xf32>
  %neg = mpc.neg %a : tensor<3xf32>
  %abs = mpc.abs %neg : tensor<3xf32>
  // abs of the most negative integer wraps to itself, as math.absi does.
  %i = arith.constant dense<[-2147483647, -2147483648]> : tensor<2xi32>
  %iabs = mpc.abs %i : tensor<2xi32>
  // relu(-0) is +0 (maximumf).
  %r = arith.constant dense<[-2.0, -0.0, 3.0]> : tensor<3xf32>
  %relu = mpc.relu %r : tensor<3xf32>
  return %neg, %abs, %iabs, %relu : tensor<3xf32>, tensor<3xf32>, tensor<2xi32>, tensor<3xf32>
}

// -----

// sqrt and 1/x are correctly rounded; sqrt(-0) is -0; sqrt(-1) makes a NaN
// and stays.
// CHECK-LABEL: func.func @sqrt_reciprocal
// CHECK-DAG: arith.constant dense<[1.41421354, -0.000000e+00]> : tensor<2xf32>
// CHECK-DAG: arith.constant dense<[1.000000e+00, 1.414060e+00, 1.732420e+00]> : tensor<3xf16>
// CHECK-DAG: arith.constant dense<[0.333333343, 0xFF800000]> : tensor<2xf32>
// CHECK-DAG: mpc.sqrt
func.func @sqrt_reciprocal() -> (tensor<2xf32>, tensor<3xf16>, tensor<2xf32>, tensor<f32>) {
  %a = arith.constant dense<[2.0, -0.0]> : tensor<2xf32>
  %s = mpc.sqrt %a : tensor<2xf32>
  %h = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf16>
  %sh = mpc.sqrt %h : tensor<3xf16>
  %b = arith.constant dense<[3.0, -0.0]> : tensor<2xf32>
  %r = mpc.reciprocal %b : tensor<2xf32>
  %m = arith.constant dense<-1.0> : tensor<f32>
  %sm = mpc.sqrt %m : tensor<f32>
  return %s, %sh, %r, %sm : tensor<2xf32>, tensor<3xf16>, tensor<2xf32>, tensor<f32>
}

// -----

// The approximated functions never fold.
// CHECK-LABEL: func.func @not_exact
// CHECK: mpc.exp
// CHECK: mpc.log
// CHECK: mpc.tanh
// CHECK: mpc.erf
// CHECK: mpc.sigmoid
// CHECK: mpc.gelu
// CHECK: mpc.pow
func.func @not_exact() -> (tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>) {
  %a = arith.constant dense<2.0> : tensor<f32>
  %exp = mpc.exp %a : tensor<f32>
  %log = mpc.log %a : tensor<f32>
  %tanh = mpc.tanh %a : tensor<f32>
  %erf = mpc.erf %a : tensor<f32>
  %sigmoid = mpc.sigmoid %a : tensor<f32>
  %gelu = mpc.gelu %a : tensor<f32>
  %pow = mpc.pow %a, %a : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %exp, %log, %tanh, %erf, %sigmoid, %gelu, %pow : tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>
}

// -----

// Bounds are rounded into the element type (integers: truncated toward 0).
// CHECK-LABEL: func.func @clip
// CHECK-DAG: arith.constant dense<[0.000000e+00, 2.500000e+00, 6.000000e+00, 0x7FC00000]> : tensor<4xf32>
// CHECK-DAG: arith.constant dense<[0, 2, 6]> : tensor<3xi64>
// CHECK-DAG: mpc.clip {{.*}} : tensor<i32>
func.func @clip() -> (tensor<4xf32>, tensor<3xi64>, tensor<i32>) {
  %a = arith.constant dense<[-1.0, 2.5, 7.0, 0x7FC00000]> : tensor<4xf32>
  %r = mpc.clip %a {min = 0.0 : f64, max = 6.0 : f64} : tensor<4xf32>
  %i = arith.constant dense<[-3, 2, 9]> : tensor<3xi64>
  %ri = mpc.clip %i {min = 0.5 : f64, max = 6.9 : f64} : tensor<3xi64>
  // A bound the type cannot hold is left to run time.
  %j = arith.constant dense<3> : tensor<i32>
  %rj = mpc.clip %j {max = 1.0e+10 : f64} : tensor<i32>
  return %r, %ri, %rj : tensor<4xf32>, tensor<3xi64>, tensor<i32>
}

// -----

// Ordered comparisons: false whenever NaN is involved; -0 == +0.
// CHECK-LABEL: func.func @compare
// CHECK-DAG: arith.constant dense<[false, true, false]> : tensor<3xi1>
// CHECK-DAG: arith.constant dense<[true, false, false]> : tensor<3xi1>
// CHECK-DAG: arith.constant dense<[false, true, true]> : tensor<3xi1>
// CHECK-DAG: arith.constant dense<[false, false, true]> : tensor<3xi1>
// CHECK-DAG: arith.constant dense<[true, false]> : tensor<2xi1>
func.func @compare() -> (tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<2xi1>) {
  %a = arith.constant dense<[0x7FC00000, -0.0, 1.0]> : tensor<3xf32>
  %b = arith.constant dense<[1.0, 0.0, 2.0]> : tensor<3xf32>
  %eq = mpc.equal %a, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xi1>
  %gt = mpc.greater %b, %a : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xi1>
  %le = mpc.less_equal %a, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xi1>
  %i = arith.constant dense<[-1, 5, 2]> : tensor<3xi64>
  %j = arith.constant dense<2> : tensor<i64>
  %lt = mpc.less %i, %j : (tensor<3xi64>, tensor<i64>) -> tensor<3xi1>
  %k = arith.constant dense<[3, 1]> : tensor<2xi32>
  %l = arith.constant dense<[3, 2]> : tensor<2xi32>
  %ge = mpc.greater_equal %k, %l : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi1>
  return %eq, %gt, %le, %lt, %ge : tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<2xi1>
}

// -----

// CHECK-LABEL: func.func @where
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2xf32>, %[[Y:[^:]+]]: tensor<2xf32>, %[[C:[^:]+]]: tensor<2xi1>)
// CHECK-DAG: %[[K:.+]] = arith.constant dense<{{\[}}[1, 20], [1, 20]]> : tensor<2x2xi64>
// CHECK-DAG: %[[W:.+]] = mpc.where %[[C]], %[[X]], %[[Y]]
// CHECK: return %[[K]], %[[X]], %[[Y]], %[[X]], %[[W]]
func.func @where(%x: tensor<2xf32>, %y: tensor<2xf32>, %c: tensor<2xi1>)
    -> (tensor<2x2xi64>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) {
  %cond = arith.constant dense<[true, false]> : tensor<2xi1>
  %a = arith.constant dense<1> : tensor<i64>
  %b = arith.constant dense<[[10, 20], [10, 20]]> : tensor<2x2xi64>
  %k = mpc.where %cond, %a, %b : (tensor<2xi1>, tensor<i64>, tensor<2x2xi64>) -> tensor<2x2xi64>
  // A condition known everywhere selects a whole side...
  %t = arith.constant dense<true> : tensor<2xi1>
  %f = arith.constant dense<false> : tensor<2xi1>
  %wx = mpc.where %t, %x, %y : (tensor<2xi1>, tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %wy = mpc.where %f, %x, %y : (tensor<2xi1>, tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  // ... and so do two equal sides.
  %same = mpc.where %c, %x, %x : (tensor<2xi1>, tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %w = mpc.where %c, %x, %y : (tensor<2xi1>, tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %k, %wx, %wy, %same, %w : tensor<2x2xi64>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
}

// -----

// The side taken needs the result's shape to stand in for it.
// CHECK-LABEL: func.func @where_broadcasts
// CHECK: mpc.where
func.func @where_broadcasts(%x: tensor<f32>, %y: tensor<2xf32>) -> tensor<2xf32> {
  %t = arith.constant dense<true> : tensor<2xi1>
  %r = mpc.where %t, %x, %y : (tensor<2xi1>, tensor<f32>, tensor<2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

// CHECK-LABEL: func.func @reshape
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x3xf32>)
// CHECK-DAG: %[[K:.+]] = arith.constant dense<{{\[}}[1, 2], [3, 4]]> : tensor<2x2xi64>
// CHECK-DAG: %[[R:.+]] = mpc.reshape %[[X]] {shape = array<i64: 6>} : (tensor<2x3xf32>) -> tensor<6xf32>
// CHECK: return %[[X]], %[[R]], %[[X]], %[[K]]
func.func @reshape(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<6xf32>, tensor<2x3xf32>, tensor<2x2xi64>) {
  %same = mpc.reshape %x {shape = array<i64: 2, 3>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // A reshape of a reshape reads the first one's input...
  %a = mpc.reshape %x {shape = array<i64: 3, 2>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %b = mpc.reshape %a {shape = array<i64: 6>} : (tensor<3x2xf32>) -> tensor<6xf32>
  // ... which it is, when it comes back to that shape.
  %c = mpc.reshape %x {shape = array<i64: 6, 1>} : (tensor<2x3xf32>) -> tensor<6x1xf32>
  %d = mpc.reshape %c {shape = array<i64: 2, 3>} : (tensor<6x1xf32>) -> tensor<2x3xf32>
  %k = arith.constant dense<[1, 2, 3, 4]> : tensor<4xi64>
  %kr = mpc.reshape %k {shape = array<i64: 2, 2>} : (tensor<4xi64>) -> tensor<2x2xi64>
  return %same, %b, %d, %kr : tensor<2x3xf32>, tensor<6xf32>, tensor<2x3xf32>, tensor<2x2xi64>
}

// -----

// Parameters are trained state, never constants.
// CHECK-LABEL: func.func @parameter
// CHECK: mpc.get_parameter
// CHECK-NEXT: mpc.transpose
// CHECK-NEXT: mpc.add
mpc.parameter @w : tensor<2x2xf32> = dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
func.func @parameter() -> tensor<2x2xf32> {
  %w = mpc.get_parameter @w : tensor<2x2xf32>
  %t = mpc.transpose %w {perm = array<i64: 1, 0>} : (tensor<2x2xf32>) -> tensor<2x2xf32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %r = mpc.add %t, %one : (tensor<2x2xf32>, tensor<f32>) -> tensor<2x2xf32>
  return %r : tensor<2x2xf32>
}

// -----

// CHECK-LABEL: func.func @transpose
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x3xf32>)
// CHECK-DAG: %[[T:.+]] = arith.constant dense<{{\[}}[1.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00], [3.000000e+00, 6.000000e+00]]> : tensor<3x2xf32>
// CHECK-DAG: %[[B:.+]] = arith.constant dense<{{\[}}[true, false], [true, true], [false, false]]> : tensor<3x2xi1>
// CHECK: return %[[X]], %[[T]], %[[B]]
func.func @transpose(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<3x2xf32>, tensor<3x2xi1>) {
  %id = mpc.transpose %x {perm = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %c = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %t = mpc.transpose %c {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %m = arith.constant dense<[[true, true, false], [false, true, false]]> : tensor<2x3xi1>
  %b = mpc.transpose %m {perm = array<i64: 1, 0>} : (tensor<2x3xi1>) -> tensor<3x2xi1>
  return %id, %t, %b : tensor<2x3xf32>, tensor<3x2xf32>, tensor<3x2xi1>
}

// -----

// CHECK-LABEL: func.func @broadcast
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2xf32>)
// CHECK-DAG: %[[B:.+]] = arith.constant dense<{{\[}}[1, 2], [1, 2], [1, 2]]> : tensor<3x2xi32>
// CHECK: return %[[X]], %[[B]]
func.func @broadcast(%x: tensor<2xf32>) -> (tensor<2xf32>, tensor<3x2xi32>) {
  %same = mpc.broadcast %x {shape = array<i64: 2>} : (tensor<2xf32>) -> tensor<2xf32>
  %c = arith.constant dense<[1, 2]> : tensor<2xi32>
  %b = mpc.broadcast %c {shape = array<i64: 3, 2>} : (tensor<2xi32>) -> tensor<3x2xi32>
  return %same, %b : tensor<2xf32>, tensor<3x2xi32>
}

// -----

// Folded constants are capped at 2^20 elements; a splat costs one element
// whatever its shape and always folds.
// CHECK-LABEL: func.func @size_cap
// CHECK-DAG: %[[S:.+]] = arith.constant dense<1.000000e+00> : tensor<524289x2xf32>
// CHECK-DAG: %[[B:.+]] = mpc.broadcast
// CHECK: return %[[B]], %[[S]]
func.func @size_cap() -> (tensor<524289x2xf32>, tensor<524289x2xf32>) {
  %c = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %big = mpc.broadcast %c {shape = array<i64: 524289, 2>} : (tensor<2xf32>) -> tensor<524289x2xf32>
  %one = arith.constant dense<1.0> : tensor<2xf32>
  %splat = mpc.broadcast %one {shape = array<i64: 524289, 2>} : (tensor<2xf32>) -> tensor<524289x2xf32>
  return %big, %splat : tensor<524289x2xf32>, tensor<524289x2xf32>
}

// -----

// CHECK-LABEL: func.func @slice
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x3xf32>)
// CHECK-DAG: %[[S:.+]] = arith.constant dense<{{\[}}[6, 4], [3, 1]]> : tensor<2x2xi64>
// CHECK-DAG: %[[P:.+]] = mpc.slice %[[X]]
// CHECK: return %[[X]], %[[P]], %[[S]]
func.func @slice(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x2xf32>, tensor<2x2xi64>) {
  %whole = mpc.slice %x {offsets = array<i64: 0, 0>, sizes = array<i64: 2, 3>, strides = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %part = mpc.slice %x {offsets = array<i64: 0, 1>, sizes = array<i64: 2, 2>, strides = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  // Negative strides walk backwards from the offset.
  %c = arith.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %s = mpc.slice %c {offsets = array<i64: 1, 2>, sizes = array<i64: 2, 2>, strides = array<i64: -1, -2>} : (tensor<2x3xi64>) -> tensor<2x2xi64>
  return %whole, %part, %s : tensor<2x3xf32>, tensor<2x2xf32>, tensor<2x2xi64>
}

// -----

// CHECK-LABEL: func.func @concat
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2xf32>)
// CHECK-DAG: %[[C:.+]] = arith.constant dense<{{\[}}[1, 2, 5], [3, 4, 6]]> : tensor<2x3xi64>
// CHECK-DAG: %[[M:.+]] = mpc.concat %[[X]], %{{.+}} {axis = 0 : i64}
// CHECK: return %[[X]], %[[C]], %[[M]]
func.func @concat(%x: tensor<2xf32>) -> (tensor<2xf32>, tensor<2x3xi64>, tensor<4xf32>) {
  %one = mpc.concat %x {axis = 0 : i64} : (tensor<2xf32>) -> tensor<2xf32>
  %a = arith.constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi64>
  %b = arith.constant dense<[[5], [6]]> : tensor<2x1xi64>
  %c = mpc.concat %a, %b {axis = 1 : i64} : (tensor<2x2xi64>, tensor<2x1xi64>) -> tensor<2x3xi64>
  %k = arith.constant dense<0.0> : tensor<2xf32>
  %m = mpc.concat %x, %k {axis = 0 : i64} : (tensor<2xf32>, tensor<2xf32>) -> tensor<4xf32>
  return %one, %c, %m : tensor<2xf32>, tensor<2x3xi64>, tensor<4xf32>
}

// -----

// Negative indices count from the end, out-of-range ones are clamped, as the
// lowering reads them.
// CHECK-LABEL: func.func @gather
// CHECK-DAG: arith.constant dense<{{\[}}[3, 1, 3], [6, 4, 6]]> : tensor<2x3xi64>
// CHECK-DAG: mpc.gather %{{.+}}, %{{.+}} {axis = 0 : i64} : (tensor<2x3xi64>, tensor<1xi64>)
func.func @gather(%i: tensor<1xi64>) -> (tensor<2x3xi64>, tensor<1x3xi64>) {
  %data = arith.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %idx = arith.constant dense<[-1, 0, 7]> : tensor<3xi32>
  %g = mpc.gather %data, %idx {axis = 1 : i64} : (tensor<2x3xi64>, tensor<3xi32>) -> tensor<2x3xi64>
  %h = mpc.gather %data, %i {axis = 0 : i64} : (tensor<2x3xi64>, tensor<1xi64>) -> tensor<1x3xi64>
  return %g, %h : tensor<2x3xi64>, tensor<1x3xi64>
}

// -----

// Reductions fold where the order of the elements cannot matter: integers
// (wrapping; a mean truncates) and float max/min, unless +0 and -0 tie (the
// order decides which wins). A float sum does not.
// CHECK-LABEL: func.func @reduce
// CHECK-DAG: arith.constant dense<[6, 15]> : tensor<2xi64>
// CHECK-DAG: arith.constant dense<{{\[}}[2], [5]]> : tensor<2x1xi64>
// CHECK-DAG: arith.constant dense<720> : tensor<i64>
// CHECK-DAG: arith.constant dense<[4, 5, 6]> : tensor<3xi64>
// CHECK-DAG: arith.constant dense<[1, 2, 3]> : tensor<3xi64>
// CHECK-DAG: arith.constant dense<[0x7FC00000, 2.000000e+00]> : tensor<2xf32>
// CHECK-DAG: arith.constant dense<[-3.000000e+00, 0.000000e+00]> : tensor<2xf32>
// CHECK-DAG: mpc.reduce_sum %{{.+}} {axes = array<i64: 1>, keepdims = false} : (tensor<2x2xf32>) -> tensor<2xf32>
// CHECK-DAG: mpc.reduce_max %{{.+}} {axes = array<i64: 0>, keepdims = false} : (tensor<2xf32>) -> tensor<f32>
func.func @reduce() -> (tensor<2xi64>, tensor<2x1xi64>, tensor<i64>, tensor<3xi64>, tensor<3xi64>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<f32>) {
  %i = arith.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %sum = mpc.reduce_sum %i {axes = array<i64: 1>, keepdims = false} : (tensor<2x3xi64>) -> tensor<2xi64>
  %mean = mpc.reduce_mean %i {axes = array<i64: 1>} : (tensor<2x3xi64>) -> tensor<2x1xi64>
  %prod = mpc.reduce_prod %i {axes = array<i64: 0, 1>, keepdims = false} : (tensor<2x3xi64>) -> tensor<i64>
  %max = mpc.reduce_max %i {axes = array<i64: 0>, keepdims = false} : (tensor<2x3xi64>) -> tensor<3xi64>
  %min = mpc.reduce_min %i {axes = array<i64: 0>, keepdims = false} : (tensor<2x3xi64>) -> tensor<3xi64>
  %f = arith.constant dense<[[0x7FC00000, 1.0], [2.0, -0.0]]> : tensor<2x2xf32>
  %fmax = mpc.reduce_max %f {axes = array<i64: 1>, keepdims = false} : (tensor<2x2xf32>) -> tensor<2xf32>
  %g = arith.constant dense<[[-3.0, 1.0], [0.0, 5.0]]> : tensor<2x2xf32>
  %fmin = mpc.reduce_min %g {axes = array<i64: 1>, keepdims = false} : (tensor<2x2xf32>) -> tensor<2xf32>
  %fsum = mpc.reduce_sum %g {axes = array<i64: 1>, keepdims = false} : (tensor<2x2xf32>) -> tensor<2xf32>
  %zeros = arith.constant dense<[0.0, -0.0]> : tensor<2xf32>
  %tie = mpc.reduce_max %zeros {axes = array<i64: 0>, keepdims = false} : (tensor<2xf32>) -> tensor<f32>
  return %sum, %mean, %prod, %max, %min, %fmax, %fmin, %fsum, %tie : tensor<2xi64>, tensor<2x1xi64>, tensor<i64>, tensor<3xi64>, tensor<3xi64>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<f32>
}

// -----

// Casts into i1 compare with zero, as the lowering does (NaN is true).
// CHECK-LABEL: func.func @cast_to_bool
// CHECK-DAG: arith.constant dense<[false, true, true, true]> : tensor<4xi1>
// CHECK-DAG: arith.constant dense<[false, true, true]> : tensor<3xi1>
func.func @cast_to_bool() -> (tensor<4xi1>, tensor<3xi1>) {
  %f = arith.constant dense<[-0.0, 0.5, -2.0, 0x7FC00000]> : tensor<4xf32>
  %fb = mpc.cast %f : tensor<4xf32> to tensor<4xi1>
  %i = arith.constant dense<[0, 2, -1]> : tensor<3xi64>
  %ib = mpc.cast %i : tensor<3xi64> to tensor<3xi1>
  return %fb, %ib : tensor<4xi1>, tensor<3xi1>
}
