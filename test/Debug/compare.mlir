// mpc-debug compare on a tiny model: (x + 2048) - 2048 loses x's low bits in
// fp16 (its spacing at 2048 is 2), so `sub` is the first op over tolerance;
// the matmul after it inherits the error.
// RUN: %python -c "import numpy as np; np.save('%t.x.npy', (np.arange(8, dtype=np.float32).reshape(2, 4) * 0.37 - 1.1))"
// RUN: mpc-debug compare %s --precision fp16 --input x=%t.x.npy --json %t.json | FileCheck %s
// RUN: %python -c "import json; d = json.load(open('%t.json')); assert d['first_over_tolerance'] == 'sub', d; assert [o['node'] for o in d['ops']] == ['add', 'sub', 'mm'], d; print('json ok')" | FileCheck %s --check-prefix=JSON
// RUN: mpc-debug compare %s --precision bf16 --tolerance 1e6 --input x=%t.x.npy | FileCheck %s --check-prefix=LOOSE

// CHECK: mpc-debug compare: {{.*}}fp32 vs fp16, tolerance 0.01 (max relative error)
// CHECK-NEXT: #  node  op{{ +}}precision  max_abs  max_rel  max_ulp  inf/nan  fp32 inf/nan
// CHECK-NEXT: 0  add   mpc.add{{ +}}f16
// CHECK-NEXT: 1  sub   mpc.sub{{ +}}f16 {{.*}} <- first over tolerance
// CHECK-NEXT: 2  mm    mpc.matmul{{ +}}f16 {{.*}} *
// CHECK-NEXT: outputs: max relative error {{.*}} (over tolerance)
// CHECK-NEXT: first op over tolerance: sub (mpc.sub, f16, max relative error

// JSON: json ok

// LOOSE: outputs: max relative error {{.*}} (within tolerance)
// LOOSE-NEXT: first op over tolerance: none

func.func @main(%x: tensor<2x4xf32> {mpc.name = "x"}) -> (tensor<2x3xf32> {mpc.name = "y"}) {
  %big = arith.constant dense<2048.0> : tensor<2x4xf32>
  %w = arith.constant dense<[[0.5, -1.0, 0.25], [1.0, 0.75, -0.5], [-0.25, 0.5, 1.0], [0.125, -0.75, 0.5]]> : tensor<4x3xf32>
  %a = mpc.add %x, %big {mpc.node = "add"} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %s = mpc.sub %a, %big {mpc.node = "sub"} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %y = mpc.matmul %s, %w {mpc.node = "mm"} : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
