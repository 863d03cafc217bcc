// RUN: mpc-opt --verify-diagnostics --mpc-cuda-attach-targets="chips=sm_80,sm_70" %s

// expected-error @+1 {{unknown CUDA architecture 'sm_70'}}
module attributes {gpu.container_module} {
  gpu.module @mpc_kernels {
  }
}
