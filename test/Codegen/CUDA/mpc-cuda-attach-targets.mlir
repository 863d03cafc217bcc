// RUN: mpc-opt --split-input-file --verify-diagnostics --mpc-cuda-attach-targets %s | FileCheck %s
// RUN: mpc-opt --split-input-file --verify-diagnostics --mpc-cuda-attach-targets="chips=sm_90a ptx-version=70" %s | FileCheck %s --check-prefix=WGMMA

// Default: cubins for sm_80, sm_89 and sm_90, all with PTX 8.1.
// CHECK: gpu.module @mpc_kernels [#nvvm.target<O = 3, chip = "sm_80", features = "+ptx81">, #nvvm.target<O = 3, chip = "sm_89", features = "+ptx81">, #nvvm.target<O = 3, chip = "sm_90", features = "+ptx81">]
// A PTX version below a chip's minimum is raised to it.
// WGMMA: gpu.module @mpc_kernels [#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">]
module attributes {gpu.container_module} {
  gpu.module @mpc_kernels {
  }
}
