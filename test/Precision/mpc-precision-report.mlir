// Straight after assignment (types still f32): precisions come from mpc.precision.
// RUN: mpc-opt %s --split-input-file --mpc-assign-precision=policy=bf16 --mpc-precision-report -o /dev/null | FileCheck %s --check-prefix=ASSIGNED
// After insert-casts: the same rows, and the casts are counted.
// RUN: mpc-opt %s --split-input-file --mpc-assign-precision=policy=bf16 --mpc-insert-casts --mpc-precision-report -o /dev/null | FileCheck %s --check-prefix=CASTS
// Without any assignment: the types the ops compute in, no reasons.
// RUN: mpc-opt %s --split-input-file --mpc-precision-report -o /dev/null | FileCheck %s --check-prefix=TYPES
// To a file instead of stdout (the whole file as one module: one report); the
// IR still goes to stdout.
// RUN: mpc-opt %s --mpc-assign-precision=policy=fp16 --mpc-precision-report=output=%t.txt | FileCheck %s --check-prefix=IR
// RUN: FileCheck %s --check-prefix=FILE --input-file=%t.txt
// RUN: not mpc-opt %s --mpc-precision-report=output=%t.missing/report.txt 2>&1 | FileCheck %s --check-prefix=BADFILE

// Node names: mpc.node first, else a name location, else "-".
// ASSIGNED: node{{ +}}op{{ +}}precision{{ +}}accumulator{{ +}}category{{ +}}reason
// ASSIGNED-NEXT: conv1{{ +}}mpc.conv{{ +}}bf16{{ +}}f32{{ +}}compute_bound{{ +}}compute-bound: bf16 with f32 accumulation
// ASSIGNED-NEXT: relu1{{ +}}mpc.relu{{ +}}bf16{{ +}}-{{ +}}follow{{ +}}follows its inputs (all low)
// ASSIGNED-NEXT: fc.weight.read{{ +}}mpc.get_parameter{{ +}}f32{{ +}}-{{ +}}data_movement{{ +}}source: parameters are stored in f32
// ASSIGNED-NEXT: fc{{ +}}mpc.matmul{{ +}}bf16{{ +}}f32{{ +}}compute_bound{{ +}}compute-bound: bf16 with f32 accumulation
// ASSIGNED-NEXT: -{{ +}}mpc.softmax{{ +}}f32{{ +}}f32{{ +}}sensitive{{ +}}numerically sensitive: kept in f32
// ASSIGNED-EMPTY:
// ASSIGNED-NEXT: ops per precision: bf16=3 f32=2
// ASSIGNED-NEXT: casts: 0
// conv 2 * (1*4*8*8) * (3*3*3) = 13824, matmul 2 * (4*16) * 8 = 1024.
// ASSIGNED-NEXT: matmul/conv FLOPs in low precision: 14848 of 14848 (100.0%)

// x, w, the image, the weight; relu back to f32 for the return, matmul to
// f32 for the softmax.
// CASTS: conv1{{ +}}mpc.conv{{ +}}bf16{{ +}}f32
// CASTS: ops per precision: bf16=3 f32=2
// CASTS-NEXT: casts: 6
// CASTS-NEXT: matmul/conv FLOPs in low precision: 14848 of 14848 (100.0%)

// TYPES: conv1{{ +}}mpc.conv{{ +}}f32{{ +}}f32{{ +}}compute_bound{{ +}}-{{$}}
// TYPES: -{{ +}}mpc.softmax{{ +}}f32{{ +}}f32{{ +}}sensitive{{ +}}-{{$}}
// TYPES: ops per precision: f32=5
// TYPES-NEXT: casts: 0
// TYPES-NEXT: matmul/conv FLOPs in low precision: 0 of 14848 (0.0%)

// IR-LABEL: func.func @model
// IR: mpc.conv {{.*}}mpc.precision = f16
// IR-NOT: matmul/conv FLOPs
// FILE: conv1{{ +}}mpc.conv{{ +}}f16{{ +}}f32{{ +}}compute_bound{{ +}}compute-bound: f16 with f32 accumulation
// FILE: batched{{ +}}mpc.matmul{{ +}}f16
// FILE: ops per precision: f16=5 f32=2
// FILE: matmul/conv FLOPs in low precision: 17952 of 17952 (100.0%)

// BADFILE: error: mpc-precision-report: cannot write the report to '{{.*}}report.txt'

mpc.parameter @"fc.weight" : tensor<8x16xf32> = dense<0.5> : tensor<8x16xf32>

func.func @model(%img: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %x: tensor<4x8xf32>) -> (tensor<1x4x8x8xf32>, tensor<4x16xf32>) {
  %c = mpc.conv %img, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64, mpc.node = "conv1"} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  %r = mpc.relu %c {mpc.node = "relu1"} : tensor<1x4x8x8xf32>
  %fw = mpc.get_parameter @"fc.weight" : tensor<8x16xf32> loc("fc.weight.read")
  %mm = mpc.matmul %x, %fw : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32> loc("fc")
  %s = mpc.softmax %mm {axis = 1 : i64} : tensor<4x16xf32>
  return %r, %s : tensor<1x4x8x8xf32>, tensor<4x16xf32>
}

// -----

// A grouped conv and a batched matmul whose operands are already low: without
// assignment the low share is the matmul's alone.
// ASSIGNED: grouped{{ +}}mpc.conv{{ +}}bf16
// ASSIGNED: ops per precision: bf16=2
// ASSIGNED-NEXT: casts: 0
// ASSIGNED-NEXT: matmul/conv FLOPs in low precision: 3104 of 3104 (100.0%)

// Depthwise conv 2 * (1*4*6*6) * (1*3*3) = 2592 (each output reads one
// C/group = 1 channel filter); batched matmul 2 * (2*4*4) * 8 = 512.
// TYPES: grouped{{ +}}mpc.conv{{ +}}f32{{ +}}f32
// TYPES: batched{{ +}}mpc.matmul{{ +}}bf16{{ +}}f32{{ +}}compute_bound{{ +}}-{{$}}
// TYPES: ops per precision: bf16=1 f32=1
// TYPES-NEXT: casts: 0
// TYPES-NEXT: matmul/conv FLOPs in low precision: 512 of 3104 (16.5%)
func.func @typed(%img: tensor<1x4x8x8xf32>, %w: tensor<4x1x3x3xf32>, %a: tensor<2x4x8xbf16>, %b: tensor<8x4xbf16>) -> (tensor<1x4x6x6xf32>, tensor<2x4x4xbf16>) {
  %c = mpc.conv %img, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 4 : i64, mpc.node = "grouped"} : (tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32>
  %mm = mpc.matmul %a, %b {mpc.node = "batched"} : (tensor<2x4x8xbf16>, tensor<8x4xbf16>) -> tensor<2x4x4xbf16>
  return %c, %mm : tensor<1x4x6x6xf32>, tensor<2x4x4xbf16>
}
