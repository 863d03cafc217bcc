// The category rules under the greedy (TF-AMP-style) baseline.
// RUN: mpc-opt %s --split-input-file --mpc-assign-precision="policy=bf16 strategy=greedy" | FileCheck %s --check-prefixes=LOW,BF16
// RUN: mpc-opt %s --split-input-file --mpc-assign-precision="policy=fp16 strategy=greedy" | FileCheck %s --check-prefixes=LOW,FP16
// RUN: mpc-opt %s --split-input-file --mpc-assign-precision=policy=fp32 | FileCheck %s --check-prefix=FP32
// fp32 is the default policy.
// RUN: mpc-opt %s --split-input-file --mpc-assign-precision | FileCheck %s --check-prefix=FP32
// RUN: not mpc-opt %s --mpc-assign-precision=policy=fp12 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not mpc-opt %s --mpc-assign-precision="policy=bf16 strategy=best" 2>&1 | FileCheck %s --check-prefix=BAD-STRATEGY

// Min-cut placement (the default strategy), and the casts each strategy leaves.
// RUN: mpc-opt %s --split-input-file --mpc-assign-precision=policy=bf16 | FileCheck %s --check-prefix=CUT
// RUN: mpc-opt %s --split-input-file --mpc-assign-precision="policy=bf16 strategy=greedy" | FileCheck %s --check-prefix=GREEDY
// RUN: mpc-opt %s --split-input-file --mpc-assign-precision="policy=bf16 strategy=mincut" --mpc-insert-casts --mpc-fold-casts | FileCheck %s --check-prefix=CUT-CASTS
// RUN: mpc-opt %s --split-input-file --mpc-assign-precision="policy=bf16 strategy=greedy" --mpc-insert-casts --mpc-fold-casts | FileCheck %s --check-prefix=GREEDY-CASTS

// Policy-file overrides, on the last part of this file (split-file keeps the
// other cases out, since every rule must match something).
// RUN: split-file %s %t
// RUN: mpc-opt %t/overrides.mlir --mpc-assign-precision="policy=bf16 policy-file=%S/Inputs/policy-op.json" | FileCheck %s --check-prefix=OP
// RUN: mpc-opt %t/overrides.mlir --mpc-assign-precision="policy=bf16 strategy=greedy policy-file=%S/Inputs/policy-op.json" | FileCheck %s --check-prefix=OP
// RUN: mpc-opt %t/overrides.mlir --mpc-assign-precision="policy=bf16 policy-file=%S/Inputs/policy-glob.json" | FileCheck %s --check-prefix=GLOB
// RUN: mpc-opt %t/overrides.mlir --mpc-assign-precision="policy=bf16 policy-file=%S/Inputs/policy-between.json" | FileCheck %s --check-prefix=BETWEEN
// Node names as torch.onnx.export writes them: a glob with a long fixed
// prefix (a GlobPattern once kept a pointer into freed JSON text and matched
// nothing past 15 characters).
// RUN: mpc-opt %t/long-names.mlir --mpc-assign-precision="policy=bf16 policy-file=%S/Inputs/policy-glob-long.json" | FileCheck %s --check-prefix=LONG
// RUN: not mpc-opt %t/overrides.mlir --mpc-assign-precision="policy=bf16 policy-file=%S/Inputs/policy-malformed.json" 2>&1 | FileCheck %s --check-prefix=MALFORMED
// RUN: not mpc-opt %t/overrides.mlir --mpc-assign-precision="policy=bf16 policy-file=%S/Inputs/does-not-exist.json" 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not mpc-opt %t/overrides.mlir --mpc-assign-precision="policy=bf16 policy-file=%S/Inputs/policy-unknown-op.json" 2>&1 | FileCheck %s --check-prefix=UNKNOWN-OP
// RUN: not mpc-opt %t/overrides.mlir --mpc-assign-precision="policy=bf16 policy-file=%S/Inputs/policy-bad-precision.json" 2>&1 | FileCheck %s --check-prefix=BAD-PRECISION
// RUN: not mpc-opt %t/overrides.mlir --mpc-assign-precision="policy=bf16 policy-file=%S/Inputs/policy-no-match.json" 2>&1 | FileCheck %s --check-prefix=NO-MATCH
// RUN: not mpc-opt %t/overrides.mlir --mpc-assign-precision="policy=bf16 policy-file=%S/Inputs/policy-no-op-match.json" 2>&1 | FileCheck %s --check-prefix=NO-OP-MATCH
// RUN: not mpc-opt %t/overrides.mlir --mpc-assign-precision="policy=bf16 policy-file=%S/Inputs/policy-between-missing.json" 2>&1 | FileCheck %s --check-prefix=BETWEEN-MISSING
// RUN: not mpc-opt %t/overrides.mlir --mpc-assign-precision="policy=bf16 policy-file=%S/Inputs/policy-between-unconnected.json" 2>&1 | FileCheck %s --check-prefix=UNCONNECTED
// RUN: not mpc-opt %t/overrides.mlir --mpc-assign-precision="policy=bf16 policy-file=%S/Inputs/policy-unknown-key.json" 2>&1 | FileCheck %s --check-prefix=UNKNOWN-KEY

// Node names the importer folded away (the module's mpc.folded_nodes) are
// accepted: the rule is noted in the module and in every report format. A
// name that never existed stays an error.
// RUN: mpc-opt %t/folded.mlir --mpc-assign-precision="policy=bf16 policy-file=%S/Inputs/policy-folded.json" | FileCheck %s --check-prefix=FOLDED
// RUN: mpc-opt %t/folded.mlir --mpc-assign-precision="policy=bf16 policy-file=%S/Inputs/policy-folded.json" --mpc-precision-report -o /dev/null | FileCheck %s --check-prefix=FOLDED-TEXT
// RUN: mpc-opt %t/folded.mlir --mpc-assign-precision="policy=bf16 policy-file=%S/Inputs/policy-folded.json" --mpc-precision-report=%t.folded.json -o /dev/null
// RUN: FileCheck %s --check-prefix=FOLDED-JSON --input-file=%t.folded.json
// RUN: %python %inputs/check_precision_report_json.py %t.folded.json
// RUN: mpc-opt %t/folded.mlir --mpc-assign-precision="policy=bf16 policy-file=%S/Inputs/policy-folded.json" --mpc-precision-report=%t.folded.html -o /dev/null
// RUN: FileCheck %s --check-prefix=FOLDED-HTML --input-file=%t.folded.html
// RUN: mpc-opt %t/folded.mlir --mpc-assign-precision="policy=bf16 policy-file=%S/Inputs/policy-op.json" | FileCheck %s --check-prefix=NO-NOTES
// RUN: not mpc-opt %t/folded.mlir --mpc-assign-precision="policy=bf16 policy-file=%S/Inputs/policy-no-match.json" 2>&1 | FileCheck %s --check-prefix=NO-MATCH

// Value ranges (docs/precision-range.md), on ranges.mlir: a user range or
// calibration data that makes the matmul overflow fp16 forces it (and only
// what else overflows) to f32, under both strategies; small ranges, no
// ranges (no prediction) and bf16 (f32's exponent range) leave it low.
// RUN: mpc-opt %t/ranges.mlir --mpc-assign-precision="policy=fp16 input-ranges=x:-100:100" | FileCheck %s --check-prefixes=RANGE-BIG,RANGE-BIG-CUT
// RUN: mpc-opt %t/ranges.mlir --mpc-assign-precision="policy=fp16 strategy=greedy input-ranges=x:-100:100" | FileCheck %s --check-prefixes=RANGE-BIG,RANGE-BIG-GREEDY
// RUN: mpc-opt %t/ranges.mlir --mpc-assign-precision="policy=fp16 input-ranges=x:-1:1" | FileCheck %s --check-prefix=RANGE-SMALL
// RUN: mpc-opt %t/ranges.mlir --mpc-assign-precision="policy=fp16 strategy=greedy input-ranges=x:-1:1" | FileCheck %s --check-prefix=RANGE-SMALL
// RUN: mpc-opt %t/ranges.mlir --mpc-assign-precision="policy=fp16" | FileCheck %s --check-prefix=RANGE-NONE
// RUN: mpc-opt %t/ranges.mlir --mpc-assign-precision="policy=bf16 input-ranges=x:-100:100" | FileCheck %s --check-prefix=RANGE-BF16
// RUN: %python -c "import numpy as np; np.save('%t/x.npy', np.linspace(-100, 50, 256, dtype=np.float32).reshape(4, 64))"
// RUN: mpc-opt %t/ranges.mlir --mpc-assign-precision="policy=fp16 calibration-data=%t/x.npy" | FileCheck %s --check-prefix=CALIB
// RUN: rm -rf %t/calib && mkdir %t/calib && cp %t/x.npy %t/calib/x.npy
// RUN: mpc-opt %t/ranges.mlir --mpc-assign-precision="policy=fp16 calibration-data=%t/calib" | FileCheck %s --check-prefix=CALIB
// A user range beats calibration data for the same input.
// RUN: mpc-opt %t/ranges.mlir --mpc-assign-precision="policy=fp16 calibration-data=%t/x.npy input-ranges=x:-1:1" | FileCheck %s --check-prefix=RANGE-SMALL
// An override is obeyed, and the report still sees the predicted overflow.
// RUN: mpc-opt %t/ranges.mlir --mpc-assign-precision="policy=fp16 input-ranges=x:-100:100 policy-file=%S/Inputs/policy-range-override.json" | FileCheck %s --check-prefix=RANGE-OVERRIDE
// RUN: not mpc-opt %t/ranges.mlir --mpc-assign-precision="policy=fp16 input-ranges=x:1" 2>&1 | FileCheck %s --check-prefix=RANGE-SYNTAX
// RUN: not mpc-opt %t/ranges.mlir --mpc-assign-precision="policy=fp16 input-ranges=x:5:1" 2>&1 | FileCheck %s --check-prefix=RANGE-ORDER
// RUN: not mpc-opt %t/ranges.mlir --mpc-assign-precision="policy=fp16 input-ranges=y:0:1" 2>&1 | FileCheck %s --check-prefix=RANGE-NAME
// input-ranges is a list: each entry is checked on its own, errors name the
// entry at fault, and a trailing comma adds nothing.
// RUN: mpc-opt %t/ranges.mlir --mpc-assign-precision="policy=fp16 input-ranges=x:-100:100," | FileCheck %s --check-prefixes=RANGE-BIG,RANGE-BIG-CUT
// RUN: not mpc-opt %t/ranges.mlir --mpc-assign-precision="policy=fp16 input-ranges=x:-1:1,y:1" 2>&1 | FileCheck %s --check-prefix=RANGE-LIST-SYNTAX
// RUN: not mpc-opt %t/ranges.mlir --mpc-assign-precision="policy=fp16 input-ranges=x:-1:1,y:0:1" 2>&1 | FileCheck %s --check-prefix=RANGE-NAME
// RUN: not mpc-opt %t/ranges.mlir --mpc-assign-precision="policy=fp16 input-ranges=x:-1:1,x:-2:2" 2>&1 | FileCheck %s --check-prefix=RANGE-TWICE
// RUN: not mpc-opt %t/ranges.mlir --mpc-assign-precision="policy=fp16 calibration-data=%t/missing.npy" 2>&1 | FileCheck %s --check-prefix=CALIB-MISSING
// RUN: rm -rf %t/empty && mkdir %t/empty
// RUN: not mpc-opt %t/ranges.mlir --mpc-assign-precision="policy=fp16 calibration-data=%t/empty" 2>&1 | FileCheck %s --check-prefix=CALIB-DIR
// RUN: cp %t/x.npy %t/z.npy
// RUN: not mpc-opt %t/ranges.mlir --mpc-assign-precision="policy=fp16 calibration-data=%t/z.npy" 2>&1 | FileCheck %s --check-prefix=CALIB-NAME
// RUN: rm -rf %t/ints && mkdir %t/ints && %python -c "import numpy as np; np.save('%t/ints/x.npy', np.zeros((4, 64), np.int64))"
// RUN: not mpc-opt %t/ranges.mlir --mpc-assign-precision="policy=fp16 calibration-data=%t/ints" 2>&1 | FileCheck %s --check-prefix=CALIB-INT

// The option parser refuses unknown values, listing the valid ones.
// BAD: mpc-opt: for the --policy option: unknown value 'fp12'; valid values are fp32, fp16 and bf16
// BAD-STRATEGY: mpc-opt: for the --strategy option: unknown value 'best'; valid values are mincut and greedy

mpc.parameter @"fc.weight" : tensor<8x16xf32> = dense<0.5> : tensor<8x16xf32>
mpc.parameter @"fc.bias" : tensor<16xf32> = dense<0.1> : tensor<16xf32>

// An MLP head: the matmul goes low with an f32 accumulator, its followers go
// low with it, the softmax stays f32, and whatever reads the softmax follows
// it back to f32.
// LOW-LABEL: func.func @mlp
// FP32-LABEL: func.func @mlp
func.func @mlp(%x: tensor<4x8xf32>) -> tensor<4x16xf32> {
  // LOW: mpc.get_parameter @fc.weight {mpc.precision = f32, mpc.reason = "source: stored in f32"}
  // FP32: mpc.get_parameter @fc.weight {mpc.precision = f32, mpc.reason = "source: stored in f32"}
  %w = mpc.get_parameter @"fc.weight" : tensor<8x16xf32>
  %b = mpc.get_parameter @"fc.bias" : tensor<16xf32>
  // BF16: mpc.matmul {{.*}} {acc_type = f32, mpc.precision = bf16, mpc.reason = "compute-bound: bf16 with f32 accumulation"}
  // FP16: mpc.matmul {{.*}} {acc_type = f32, mpc.precision = f16, mpc.reason = "compute-bound: f16 with f32 accumulation"}
  // FP32: mpc.matmul {{.*}} {mpc.precision = f32, mpc.reason = "policy fp32"}
  %mm = mpc.matmul %x, %w : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  // The bias is a parameter: it is cast once, so it does not hold the add in f32.
  // BF16: mpc.add {{.*}} {mpc.precision = bf16, mpc.reason = "follows its inputs (all low)"}
  // FP16: mpc.add {{.*}} {mpc.precision = f16, mpc.reason = "follows its inputs (all low)"}
  // FP32: mpc.add {{.*}} {mpc.precision = f32, mpc.reason = "policy fp32"}
  %a = mpc.add %mm, %b : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  // BF16: mpc.relu {{.*}} {mpc.precision = bf16, mpc.reason = "follows its inputs (all low)"}
  // FP16: mpc.relu {{.*}} {mpc.precision = f16, mpc.reason = "follows its inputs (all low)"}
  %r = mpc.relu %a : tensor<4x16xf32>
  // BF16: mpc.transpose {{.*}} {mpc.precision = bf16, mpc.reason = "data movement follows its data", perm = array<i64: 1, 0>}
  // FP16: mpc.transpose {{.*}} {mpc.precision = f16, mpc.reason = "data movement follows its data", perm = array<i64: 1, 0>}
  %t = mpc.transpose %r {perm = array<i64: 1, 0>} : (tensor<4x16xf32>) -> tensor<16x4xf32>
  %t2 = mpc.transpose %t {perm = array<i64: 1, 0>} : (tensor<16x4xf32>) -> tensor<4x16xf32>
  // Sensitive ops get no acc_type: they compute in f32 already.
  // LOW: mpc.softmax {{.*}} {axis = 1 : i64, mpc.precision = f32, mpc.reason = "numerically sensitive: kept in f32"}
  // FP32: mpc.softmax {{.*}} {axis = 1 : i64, mpc.precision = f32, mpc.reason = "policy fp32"}
  %s = mpc.softmax %t2 {axis = 1 : i64} : tensor<4x16xf32>
  // LOW: mpc.add {{.*}} {mpc.precision = f32, mpc.reason = "follows an f32 input"}
  %o = mpc.add %s, %r : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %o : tensor<4x16xf32>
}

// -----

// Function arguments are f32 values produced at run time.
// LOW-LABEL: func.func @follows_arguments
func.func @follows_arguments(%x: tensor<4xf32>, %h: tensor<4xf16>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf16>) {
  // LOW: mpc.tanh {{.*}} {mpc.precision = f32, mpc.reason = "follows an f32 input"}
  %0 = mpc.tanh %x : tensor<4xf32>
  // LOW: mpc.exp {{.*}} {mpc.precision = f32, mpc.reason = "numerically sensitive: kept in f32"}
  %1 = mpc.exp %x : tensor<4xf32>
  // An f16 argument is already low: the follower takes the policy's type.
  // BF16: mpc.neg {{.*}} {mpc.precision = bf16, mpc.reason = "follows its inputs (all low)"}
  // FP16: mpc.neg {{.*}} {mpc.precision = f16, mpc.reason = "follows its inputs (all low)"}
  %2 = mpc.neg %h : tensor<4xf16>
  return %0, %1, %2 : tensor<4xf32>, tensor<4xf32>, tensor<4xf16>
}

// -----

mpc.parameter @w : tensor<16x8xf32> = dense<0.5> : tensor<16x8xf32>
mpc.parameter @scale : tensor<1x16xf32> = dense<2.0> : tensor<1x16xf32>

// Rearranged parameters are still cast once; an op reading only parameters
// and constants has nothing low to follow.
// LOW-LABEL: func.func @parameters_and_constants
func.func @parameters_and_constants(%x: tensor<4x8xf32>) -> (tensor<4x16xf32>, tensor<16x8xf32>) {
  %p = mpc.get_parameter @w : tensor<16x8xf32>
  // LOW: mpc.transpose {{.*}} {mpc.precision = f32, mpc.reason = "parameter or constant data: stays f32", perm = array<i64: 1, 0>}
  %wt = mpc.transpose %p {perm = array<i64: 1, 0>} : (tensor<16x8xf32>) -> tensor<8x16xf32>
  // LOW: mpc.matmul
  %mm = mpc.matmul %x, %wt : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %sp = mpc.get_parameter @scale : tensor<1x16xf32>
  // LOW: mpc.reshape {{.*}} {mpc.precision = f32, mpc.reason = "parameter or constant data: stays f32", shape = array<i64: 16>}
  %sr = mpc.reshape %sp {shape = array<i64: 16>} : (tensor<1x16xf32>) -> tensor<16xf32>
  // BF16: mpc.mul {{.*}} {mpc.precision = bf16, mpc.reason = "follows its inputs (all low)"}
  // FP16: mpc.mul {{.*}} {mpc.precision = f16, mpc.reason = "follows its inputs (all low)"}
  %m = mpc.mul %mm, %sr : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %c = arith.constant dense<2.0> : tensor<16x8xf32>
  // LOW: mpc.add {{.*}} {mpc.precision = f32, mpc.reason = "inputs are parameters or constants: kept in f32"}
  %s = mpc.add %p, %c : (tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<16x8xf32>
  return %m, %s : tensor<4x16xf32>, tensor<16x8xf32>
}

// -----

mpc.parameter @table : tensor<10x8xf32> = dense<0.5> : tensor<10x8xf32>

// A gather from a parameter table at run-time indices is a run-time value:
// it holds its reader in f32.
// LOW-LABEL: func.func @embedding
func.func @embedding(%ids: tensor<4xi64>, %x: tensor<4x8xf32>, %y: tensor<8x8xf32>) -> tensor<4x8xf32> {
  %t = mpc.get_parameter @table : tensor<10x8xf32>
  // LOW: mpc.gather {{.*}} {axis = 0 : i64, mpc.precision = f32, mpc.reason = "parameter or constant data: stays f32"}
  %g = mpc.gather %t, %ids {axis = 0 : i64} : (tensor<10x8xf32>, tensor<4xi64>) -> tensor<4x8xf32>
  %mm = mpc.matmul %x, %y : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  // LOW: mpc.mul {{.*}} {mpc.precision = f32, mpc.reason = "follows an f32 input"}
  %m = mpc.mul %mm, %g : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %m : tensor<4x8xf32>
}

// -----

// Only float operands carry precision: integer compares get none, a gather
// follows its float table, not its indices.
// LOW-LABEL: func.func @non_float
// FP32-LABEL: func.func @non_float
func.func @non_float(%i: tensor<4xi64>, %j: tensor<4xi64>, %x: tensor<4x8xf32>, %y: tensor<8x8xf32>) -> (tensor<4xi1>, tensor<4x8xf32>) {
  // LOW: mpc.equal %{{.*}}, %{{.*}} : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi1>
  // FP32: mpc.equal %{{.*}}, %{{.*}} : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi1>
  %e = mpc.equal %i, %j : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi1>
  // LOW: mpc.matmul
  %mm = mpc.matmul %x, %y : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  // BF16: mpc.gather {{.*}} {axis = 0 : i64, mpc.precision = bf16, mpc.reason = "data movement follows its data"}
  %g = mpc.gather %mm, %i {axis = 0 : i64} : (tensor<4x8xf32>, tensor<4xi64>) -> tensor<4x8xf32>
  return %e, %g : tensor<4xi1>, tensor<4x8xf32>
}

// -----

// Accumulating followers get an f32 accumulator too; sensitive reductions
// stay f32 without one; data movement of mixed precisions widens to f32.
// LOW-LABEL: func.func @conv_net
func.func @conv_net(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %y: tensor<1x4x4x4xf32>) -> (tensor<1x4xf32>, tensor<2x4x4x4xf32>) {
  // BF16: mpc.conv {{.*}} {acc_type = f32, dilations = array<i64: 1, 1>, group = 1 : i64, mpc.precision = bf16
  %c = mpc.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  // BF16: mpc.avg_pool {{.*}} {acc_type = f32, kernel_shape = array<i64: 2, 2>, mpc.precision = bf16, mpc.reason = "follows its inputs (all low)"
  %p = mpc.avg_pool %c {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, count_include_pad = false, ceil_mode = false} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  // LOW: mpc.reduce_mean {{.*}} {axes = array<i64: 2, 3>, keepdims = false, mpc.precision = f32, mpc.reason = "numerically sensitive: kept in f32"}
  %m = mpc.reduce_mean %p {axes = array<i64: 2, 3>, keepdims = false} : (tensor<1x4x4x4xf32>) -> tensor<1x4xf32>
  // LOW: mpc.concat {{.*}} {axis = 0 : i64, mpc.precision = f32, mpc.reason = "data movement of mixed precisions: f32"}
  %cat = mpc.concat %p, %y {axis = 0 : i64} : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<2x4x4x4xf32>
  return %m, %cat : tensor<1x4xf32>, tensor<2x4x4x4xf32>
}

// -----

mpc.parameter @w1 : tensor<64x64xf32> = dense<0.5> : tensor<64x64xf32>
mpc.parameter @w2 : tensor<64x64xf32> = dense<0.5> : tensor<64x64xf32>
mpc.parameter @gamma : tensor<64xf32> = dense<1.0> : tensor<64xf32>
mpc.parameter @beta : tensor<64xf32> = dense<0.0> : tensor<64xf32>

// A pre-norm residual block. Greedy paints each residual add f32 (it reads
// the f32 layer_norm), so every matmul output is cast up and every add output
// cast back down for the next matmul. The min-cut runs the adds low: they
// share the one cast of the layer_norm output that the first matmul needs.
// CUT-LABEL: func.func @residual
// GREEDY-LABEL: func.func @residual
// CUT-CASTS-LABEL: func.func @residual
// GREEDY-CASTS-LABEL: func.func @residual
func.func @residual(%x: tensor<8x64xf32>) -> tensor<8x64xf32> {
  %g = mpc.get_parameter @gamma : tensor<64xf32>
  %b = mpc.get_parameter @beta : tensor<64xf32>
  // CUT: mpc.layer_norm {{.*}} mpc.precision = f32, mpc.reason = "numerically sensitive: kept in f32"
  %ln = mpc.layer_norm %x, %g, %b {axis = 1 : i64, epsilon = 1.0e-05 : f64} : (tensor<8x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  %w1 = mpc.get_parameter @w1 : tensor<64x64xf32>
  // CUT: mpc.matmul {{.*}} mpc.precision = bf16, mpc.reason = "compute-bound: bf16 with f32 accumulation"
  %mm1 = mpc.matmul %ln, %w1 : (tensor<8x64xf32>, tensor<64x64xf32>) -> tensor<8x64xf32>
  // CUT: mpc.add {{.*}} {mpc.precision = bf16, mpc.reason = "min-cut: bf16 saves 2106368 bytes (traffic 3072, casts 2103296)"}
  // GREEDY: mpc.add {{.*}} {mpc.precision = f32, mpc.reason = "follows an f32 input"}
  %r1 = mpc.add %mm1, %ln : (tensor<8x64xf32>, tensor<8x64xf32>) -> tensor<8x64xf32>
  %w2 = mpc.get_parameter @w2 : tensor<64x64xf32>
  %mm2 = mpc.matmul %r1, %w2 : (tensor<8x64xf32>, tensor<64x64xf32>) -> tensor<8x64xf32>
  // CUT: mpc.add {{.*}} {mpc.precision = bf16, mpc.reason = "min-cut: bf16 saves 1054720 bytes (traffic 3072, casts 1051648)"}
  // GREEDY: mpc.add {{.*}} {mpc.precision = f32, mpc.reason = "follows an f32 input"}
  %r2 = mpc.add %mm2, %r1 : (tensor<8x64xf32>, tensor<8x64xf32>) -> tensor<8x64xf32>
  // Two parameter casts (for the matmuls) in both; then one cast down of the
  // layer_norm output and one up for the result with the min-cut, against
  // four (one down and one up per matmul) greedily.
  // CUT-CASTS-COUNT-4: mpc.cast
  // CUT-CASTS-NOT: mpc.cast
  // CUT-CASTS: return
  // GREEDY-CASTS-COUNT-6: mpc.cast
  // GREEDY-CASTS-NOT: mpc.cast
  // GREEDY-CASTS: return
  return %r2 : tensor<8x64xf32>
}

// -----

// A follower between two sensitive ops: going low would cost two casts for
// little traffic, so the min-cut keeps it in f32 and says why.
// CUT-LABEL: func.func @sensitive_sandwich
func.func @sensitive_sandwich(%x: tensor<8x64xf32>) -> tensor<8x64xf32> {
  %e = mpc.exp %x : tensor<8x64xf32>
  // CUT: mpc.neg {{.*}} {mpc.precision = f32, mpc.reason = "min-cut: f32 saves 2101248 bytes (traffic -2048, casts 2103296)"}
  %n = mpc.neg %e : tensor<8x64xf32>
  %l = mpc.log %n : tensor<8x64xf32>
  return %l : tensor<8x64xf32>
}

// -----

mpc.parameter @wb : tensor<64x64xf32> = dense<0.5> : tensor<64x64xf32>
mpc.parameter @bb : tensor<64xf32> = dense<0.1> : tensor<64xf32>

// A bias add feeding an f32 layer_norm. Greedy runs it low (the bias is a
// parameter), so the bias is cast down and the sum cast up; the cut keeps it
// f32 and casts only the matmul output: parameter casts happen every run.
// CUT-LABEL: func.func @bias_before_norm
// GREEDY-LABEL: func.func @bias_before_norm
// CUT-CASTS-LABEL: func.func @bias_before_norm
// GREEDY-CASTS-LABEL: func.func @bias_before_norm
func.func @bias_before_norm(%x: tensor<8x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>) -> tensor<8x64xf32> {
  %w = mpc.get_parameter @wb : tensor<64x64xf32>
  %bias = mpc.get_parameter @bb : tensor<64xf32>
  %mm = mpc.matmul %x, %w : (tensor<8x64xf32>, tensor<64x64xf32>) -> tensor<8x64xf32>
  // CUT: mpc.add {{.*}} {mpc.precision = f32, mpc.reason = "min-cut: f32 saves 1046784 bytes (traffic -2176, casts 1048960)"}
  // GREEDY: mpc.add {{.*}} {mpc.precision = bf16, mpc.reason = "follows its inputs (all low)"}
  %a = mpc.add %mm, %bias : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  // x and w down, then the matmul output up; greedy adds the bias down.
  // CUT-CASTS-COUNT-3: mpc.cast
  // CUT-CASTS-NOT: mpc.cast
  // CUT-CASTS: return
  // GREEDY-CASTS-COUNT-4: mpc.cast
  // GREEDY-CASTS-NOT: mpc.cast
  // GREEDY-CASTS: return
  %ln = mpc.layer_norm %a, %g, %b {axis = 1 : i64, epsilon = 1.0e-05 : f64} : (tensor<8x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  return %ln : tensor<8x64xf32>
}

// -----

// Storage types are kept: an f16 parameter is read as f16, and full precision
// never narrows what the model computes in f64.
mpc.parameter @half : tensor<4xf16> = dense<1.0> : tensor<4xf16>
// FP32-LABEL: func.func @wide_and_narrow_storage
// LOW-LABEL: func.func @wide_and_narrow_storage
func.func @wide_and_narrow_storage(%x: tensor<4xf64>) -> (tensor<4xf16>, tensor<4xf64>) {
  // FP32: mpc.get_parameter @half {mpc.precision = f16, mpc.reason = "source: stored in f16"}
  // LOW: mpc.get_parameter @half {mpc.precision = f16, mpc.reason = "source: stored in f16"}
  %h = mpc.get_parameter @half : tensor<4xf16>
  // FP32: mpc.exp {{.*}} {mpc.precision = f64, mpc.reason = "policy fp32"}
  // LOW: mpc.exp {{.*}} {mpc.precision = f64, mpc.reason = "numerically sensitive: kept in f64"}
  %e = mpc.exp %x : tensor<4xf64>
  return %h, %e : tensor<4xf16>, tensor<4xf64>
}

// -----

//--- overrides.mlir
mpc.parameter @ow : tensor<16x16xf32> = dense<0.5> : tensor<16x16xf32>

// Overrides beat categories and the cut; the last matching rule wins.
// OP-LABEL: func.func @overrides
// GLOB-LABEL: func.func @overrides
// BETWEEN-LABEL: func.func @overrides
func.func @overrides(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %w = mpc.get_parameter @ow : tensor<16x16xf32>
  // OP: mpc.matmul {{.*}} {mpc.node = "enc.fc", mpc.precision = f32, mpc.reason = "override rule #1 (op mpc.matmul)"}
  // GLOB: mpc.matmul {{.*}} {acc_type = bf16, mpc.node = "enc.fc", mpc.precision = f16, mpc.reason = "compute-bound: f16 with bf16 accumulation"}
  // BETWEEN: mpc.matmul {{.*}} {acc_type = f32, mpc.node = "enc.fc", mpc.precision = bf16, mpc.reason = "compute-bound: bf16 with f32 accumulation"}
  %mm = mpc.matmul %x, %w {mpc.node = "enc.fc"} : (tensor<4x16xf32>, tensor<16x16xf32>) -> tensor<4x16xf32>
  // BETWEEN: mpc.relu {{.*}} {mpc.node = "enc.act", mpc.precision = f32, mpc.reason = "override rule #0 (between 'enc.act' and 'head.fc')"}
  %r = mpc.relu %mm {mpc.node = "enc.act"} : tensor<4x16xf32>
  // An accumulating op overridden low gets the wide accumulator too.
  // OP: mpc.softmax {{.*}} {acc_type = f32, axis = 1 : i64, mpc.node = "head.softmax", mpc.precision = bf16, mpc.reason = "override rule #0 (op mpc.softmax)"}
  // GLOB: mpc.softmax {{.*}} {axis = 1 : i64, mpc.node = "head.softmax", mpc.precision = f32, mpc.reason = "override rule #0 (match 'head.*')"}
  // BETWEEN: mpc.softmax {{.*}} {axis = 1 : i64, mpc.node = "head.softmax", mpc.precision = f32, mpc.reason = "override rule #0 (between 'enc.act' and 'head.fc')"}
  %s = mpc.softmax %r {axis = 1 : i64, mpc.node = "head.softmax"} : tensor<4x16xf32>
  // OP: mpc.matmul {{.*}} {mpc.node = "head.fc", mpc.precision = f32, mpc.reason = "override rule #1 (op mpc.matmul)"}
  // GLOB: mpc.matmul {{.*}} {acc_type = f16, mpc.node = "head.fc", mpc.precision = f16, mpc.reason = "override rule #1 (match 'head.fc')"}
  // BETWEEN: mpc.matmul {{.*}} {mpc.node = "head.fc", mpc.precision = f32, mpc.reason = "override rule #0 (between 'enc.act' and 'head.fc')"}
  %mm2 = mpc.matmul %s, %w {mpc.node = "head.fc"} : (tensor<4x16xf32>, tensor<16x16xf32>) -> tensor<4x16xf32>
  // GLOB: mpc.tanh {{.*}} {mpc.node = "head.out", mpc.precision = f32, mpc.reason = "override rule #0 (match 'head.*')"}
  // BETWEEN: mpc.tanh {{.*}} {mpc.node = "head.out", mpc.precision = f32, mpc.reason = "min-cut: f32
  %t = mpc.tanh %mm2 {mpc.node = "head.out"} : tensor<4x16xf32>
  return %t : tensor<4x16xf32>
}

// Every rule that cannot be obeyed is an error naming the file and the rule.
// MALFORMED: error: mpc-assign-precision: policy file '{{.*}}policy-malformed.json': malformed JSON:
// MISSING: error: mpc-assign-precision: policy file '{{.*}}does-not-exist.json': cannot read:
// UNKNOWN-OP: error: mpc-assign-precision: policy file '{{.*}}policy-unknown-op.json': rule #1 {"op":"mpc.sofmax","precision":"f32"}: unknown op 'mpc.sofmax'
// BAD-PRECISION: error: mpc-assign-precision: policy file '{{.*}}policy-bad-precision.json': rule #0 {"op":"mpc.relu","precision":"fp8"}: "precision" must be one of "f32", "fp16", "bf16", got "fp8"
// NO-MATCH: error: mpc-assign-precision: policy file '{{.*}}policy-no-match.json': rule #0 {"match":"decoder.*","precision":"f32"}: no node name matches 'decoder.*'
// NO-OP-MATCH: error: mpc-assign-precision: policy file '{{.*}}policy-no-op-match.json': rule #0 {"op":"mpc.conv","precision":"f32"}: no 'mpc.conv' op in this program takes a precision
// BETWEEN-MISSING: error: mpc-assign-precision: policy file '{{.*}}policy-between-missing.json': rule #0 {"between":["enc.act","nowhere"],"precision":"f32"}: no node named 'nowhere' takes a precision
// UNCONNECTED: error: mpc-assign-precision: policy file '{{.*}}policy-between-unconnected.json': rule #0 {"between":["head.fc","enc.fc"],"precision":"f32"}: no path leads from 'head.fc' to 'enc.fc'
// UNKNOWN-KEY: error: mpc-assign-precision: policy file '{{.*}}policy-unknown-key.json': rule #0 {"op":"mpc.relu","precison":"f32"}: unknown key "precison"

// -----

//--- ranges.mlir
mpc.parameter @"r.weight" : tensor<64x16xf32> = dense<10.0> : tensor<64x16xf32>

// RANGE-BIG-LABEL: func.func @ranges
func.func @ranges(%x: tensor<4x64xf32> {mpc.name = "x"}) -> (tensor<4x16xf32>, tensor<4x64xf32>) {
  %w = mpc.get_parameter @"r.weight" : tensor<64x16xf32>
  // 64 products of |x| <= 100 and 10: up to 64000, within 2x of 65504.
  // RANGE-BIG: mpc.matmul {{.*}} {mpc.precision = f32, mpc.reason = "range: |y| may reach 6.4e+04 > fp16 max 65504 / 2 (safety margin) (input x in [-100, 100])"}
  // RANGE-SMALL: mpc.matmul {{.*}} {acc_type = f32, mpc.precision = f16, mpc.reason = "compute-bound: f16 with f32 accumulation"}
  // RANGE-NONE: mpc.matmul {{.*}} {acc_type = f32, mpc.precision = f16, mpc.reason = "compute-bound: f16 with f32 accumulation"}
  // RANGE-BF16: mpc.matmul {{.*}} {acc_type = f32, mpc.precision = bf16, mpc.reason = "compute-bound: bf16 with f32 accumulation"}
  // CALIB: mpc.matmul {{.*}} {mpc.precision = f32, mpc.reason = "range: |y| may reach 6.4e+04 > fp16 max 65504 / 2 (safety margin) (input x in [-100, 50])"}
  // RANGE-OVERRIDE: mpc.matmul {{.*}} {acc_type = f32, mpc.precision = f16, mpc.reason = "override rule #0 (op mpc.matmul); warning: range: |y| may reach 6.4e+04 > fp16 max 65504 / 2 (safety margin) (input x in [-100, 100])"}
  %mm = mpc.matmul %x, %w : (tensor<4x64xf32>, tensor<64x16xf32>) -> tensor<4x16xf32>
  // Its reader holds the same values, so it is forced as well ...
  // RANGE-BIG: mpc.relu {{.*}} {mpc.precision = f32, mpc.reason = "range: |y| may reach 6.4e+04
  // RANGE-SMALL: mpc.relu {{.*}} {mpc.precision = f16,
  %r = mpc.relu %mm : tensor<4x16xf32>
  // ... and so is tanh, which would read them cast to fp16 ...
  // RANGE-BIG: mpc.tanh {{.*}} {mpc.precision = f32, mpc.reason = "range: operand #0 |x| may reach 6.4e+04 > fp16 max 65504 / 2 (safety margin) (input x in [-100, 100])"}
  %t0 = mpc.tanh %r : tensor<4x16xf32>
  // ... but its result is back in range: the strategy places its reader.
  // RANGE-BIG-CUT: mpc.neg {{.*}} {mpc.precision = f32, mpc.reason = "min-cut: f32
  // RANGE-BIG-GREEDY: mpc.neg {{.*}} {mpc.precision = f32, mpc.reason = "follows an f32 input"}
  %t = mpc.neg %t0 : tensor<4x16xf32>
  // Values below fp16's smallest subnormal would all flush to 0.
  // RANGE-BIG: mpc.mul {{.*}} {mpc.precision = f32, mpc.reason = "range: every non-zero |y| is below 1e-08 < fp16 smallest subnormal 5.96e-08 (flushes to 0) (input x in [-100, 100])"}
  // RANGE-SMALL: mpc.mul {{.*}} {mpc.precision = f32, mpc.reason = "range: every non-zero |y| is below 1e-10 < fp16 smallest subnormal 5.96e-08 (flushes to 0) (input x in [-1, 1])"}
  // RANGE-BF16: mpc.mul {{.*}} {mpc.precision = f32, mpc.reason = "min-cut: f32
  // Without input ranges the constant factor alone is known, and too small.
  // RANGE-NONE: mpc.mul {{.*}} {mpc.precision = f32, mpc.reason = "range: every non-zero operand #1 |x| is below 1e-10 < fp16 smallest subnormal 5.96e-08 (flushes to 0) (from parameter and constant values)"}
  %c = arith.constant dense<1.0e-10> : tensor<4x64xf32>
  %small = mpc.mul %x, %c : (tensor<4x64xf32>, tensor<4x64xf32>) -> tensor<4x64xf32>
  return %t, %small : tensor<4x16xf32>, tensor<4x64xf32>
}

mpc.parameter @"ln.scale" : tensor<64xf32> = dense<2.0> : tensor<64xf32>
mpc.parameter @"ln.bias" : tensor<64xf32> = dense<1.0> : tensor<64xf32>

// Rules of other ops, through RangeOpInterface.
// RANGE-BIG-LABEL: func.func @rules
// RANGE-NONE-LABEL: func.func @rules
func.func @rules(%x: tensor<4x64xf32> {mpc.name = "x"}) -> (tensor<4xf32>, tensor<4x64xf32>) {
  // A sum of 64 squares of |x| <= 100: sensitive anyway, but the reason
  // says what the values would do.
  // RANGE-BIG: mpc.reduce_sum {{.*}} mpc.precision = f32, mpc.reason = "range: |y| may reach 6.4e+05 > fp16 max 65504 (input x in [-100, 100])"
  // RANGE-SMALL: mpc.reduce_sum {{.*}} mpc.precision = f32, mpc.reason = "numerically sensitive: kept in f32"
  %sq = mpc.mul %x, %x : (tensor<4x64xf32>, tensor<4x64xf32>) -> tensor<4x64xf32>
  %sum = mpc.reduce_sum %sq {axes = array<i64: 1>, keepdims = false} : (tensor<4x64xf32>) -> tensor<4xf32>
  // layer_norm bounds its result by sqrt(63) * 2 + 1 whatever x is, so the
  // product with 1e4 is predicted to overflow even without input ranges.
  %g = mpc.get_parameter @"ln.scale" : tensor<64xf32>
  %b = mpc.get_parameter @"ln.bias" : tensor<64xf32>
  %ln = mpc.layer_norm %x, %g, %b {axis = 1 : i64, epsilon = 1.0e-05 : f64} : (tensor<4x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<4x64xf32>
  %c = arith.constant dense<1.0e4> : tensor<4x64xf32>
  // RANGE-NONE: mpc.mul {{.*}} {mpc.precision = f32, mpc.reason = "range: |y| may reach 1.69e+05 > fp16 max 65504 (from parameter and constant values)"}
  %big = mpc.mul %ln, %c : (tensor<4x64xf32>, tensor<4x64xf32>) -> tensor<4x64xf32>
  return %sum, %big : tensor<4xf32>, tensor<4x64xf32>
}

// The trigonometric rules: sin is within [-1, 1] whatever x is; sinh grows
// like exp.
// RANGE-BIG-LABEL: func.func @math_rules
// RANGE-NONE-LABEL: func.func @math_rules
func.func @math_rules(%x: tensor<4x64xf32> {mpc.name = "x"}) -> (tensor<4x64xf32>, tensor<4x64xf32>) {
  // Without input ranges: sin's bound times the constant is known to overflow.
  %s = mpc.sin %x : tensor<4x64xf32>
  %c = arith.constant dense<1.0e5> : tensor<4x64xf32>
  // RANGE-NONE: mpc.mul {{.*}} {mpc.precision = f32, mpc.reason = "range: |y| may reach 1e+05 > fp16 max 65504 (from parameter and constant values)"}
  %big = mpc.mul %s, %c : (tensor<4x64xf32>, tensor<4x64xf32>) -> tensor<4x64xf32>
  // RANGE-BIG: mpc.sinh {{.*}} {mpc.precision = f32, mpc.reason = "range: |y| may reach 1.34e+43 > fp16 max 65504 (input x in [-100, 100])"}
  %h = mpc.sinh %x : tensor<4x64xf32>
  return %big, %h : tensor<4x64xf32>, tensor<4x64xf32>
}

// RANGE-SYNTAX: error: mpc-assign-precision: input-ranges: expected NAME:LO:HI (e.g. x:-1:1), got 'x:1'
// RANGE-ORDER: error: mpc-assign-precision: input-ranges: 'x:5:1' needs finite LO <= HI
// RANGE-NAME: error: mpc-assign-precision: input-ranges: no graph input is named 'y'; inputs are 'x'
// RANGE-LIST-SYNTAX: error: mpc-assign-precision: input-ranges: expected NAME:LO:HI (e.g. x:-1:1), got 'y:1'
// RANGE-TWICE: error: mpc-assign-precision: input-ranges: input 'x' is given twice
// CALIB-MISSING: error: mpc-assign-precision: calibration-data: no such file or directory '{{.*}}missing.npy'
// CALIB-DIR: error: mpc-assign-precision: calibration-data: directory '{{.*}}empty' has no 'x.npy' for graph input 'x'
// CALIB-INT: error: mpc-assign-precision: calibration-data: '{{.*}}x.npy' holds i64 values; only float inputs (f64, f32, f16, bf16) have ranges
// CALIB-NAME: error: mpc-assign-precision: calibration-data: no graph input is named 'z'; inputs are 'x'

//--- folded.mlir
// FOLDED: module attributes {mpc.folded_nodes = ["shape.gather", "shape.concat", "ident"], mpc.policy_notes = ["rule #0 {\22match\22:\22shape.*\22,\22precision\22:\22f32\22} names nodes 'shape.gather', 'shape.concat', folded away at import (into a constant, or into an input): the rule has nothing to apply to", "rule #1 {\22between\22:[\22shape.concat\22,\22head.fc\22],\22precision\22:\22f32\22} names node 'shape.concat', folded away at import (into a constant, or into an input): the rule has nothing to apply to"]}
// FOLDED: mpc.matmul {{.*}} {mpc.node = "head.fc", mpc.precision = f32, mpc.reason = "override rule #2 (match 'head.*')"}
// FOLDED-TEXT: note: rule #0 {"match":"shape.*","precision":"f32"} names nodes 'shape.gather', 'shape.concat', folded away at import (into a constant, or into an input): the rule has nothing to apply to
// FOLDED-TEXT-NEXT: note: rule #1 {"between":["shape.concat","head.fc"],"precision":"f32"} names node 'shape.concat', folded away
// FOLDED-JSON: "notes": [
// FOLDED-JSON-NEXT: "rule #0 {\"match\":\"shape.*\",\"precision\":\"f32\"} names nodes 'shape.gather', 'shape.concat', folded away at import
// FOLDED-JSON-NEXT: "rule #1 {\"between\":[\"shape.concat\",\"head.fc\"],\"precision\":\"f32\"} names node 'shape.concat', folded away at import
// FOLDED-HTML: <h2>Notes</h2>
// FOLDED-HTML-NEXT: <ul class="notes">
// FOLDED-HTML-NEXT: <li>rule #0 {&quot;match&quot;:&quot;shape.*&quot;,&quot;precision&quot;:&quot;f32&quot;} names nodes &#39;shape.gather&#39;, &#39;shape.concat&#39;, folded away at import
// A policy file whose rules all apply leaves no notes.
// NO-NOTES: module attributes {mpc.folded_nodes = ["shape.gather", "shape.concat", "ident"]} {
module attributes {mpc.folded_nodes = ["shape.gather", "shape.concat", "ident"]} {
  mpc.parameter @w : tensor<16x16xf32> = dense<0.5> : tensor<16x16xf32>
  func.func @folded(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
    %w = mpc.get_parameter @w : tensor<16x16xf32>
    %r = mpc.relu %x {mpc.node = "enc.act"} : tensor<4x16xf32>
    %mm = mpc.matmul %r, %w {mpc.node = "head.fc"} : (tensor<4x16xf32>, tensor<16x16xf32>) -> tensor<4x16xf32>
    %s = mpc.softmax %mm {axis = 1 : i64, mpc.node = "head.softmax"} : tensor<4x16xf32>
    return %s : tensor<4x16xf32>
  }
}

//--- long-names.mlir
// LONG-LABEL: func.func @long_names
func.func @long_names(%x: tensor<4x16xf32>, %w: tensor<16x16xf32>) -> tensor<4x16xf32> {
  // LONG: mpc.softmax {{.*}}mpc.node = "/layers.0/self_attn/Softmax", mpc.precision = bf16, mpc.reason = "override rule #1 (match '/layers.0/self_attn/Softmax*')"
  %s = mpc.softmax %x {axis = 1 : i64, mpc.node = "/layers.0/self_attn/Softmax"} : tensor<4x16xf32>
  // LONG: mpc.matmul {{.*}}mpc.node = "/layers.0/self_attn/MatMul_1", mpc.precision = f32, mpc.reason = "override rule #0 (match '/layers.0/self_attn/MatMul_1')"
  %mm = mpc.matmul %s, %w {mpc.node = "/layers.0/self_attn/MatMul_1"} : (tensor<4x16xf32>, tensor<16x16xf32>) -> tensor<4x16xf32>
  return %mm : tensor<4x16xf32>
}
