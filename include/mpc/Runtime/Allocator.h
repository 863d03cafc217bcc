//===- Allocator.h - malloc settings for programs that run models -*- C++ -*-===//
//
// Compiled programs allocate their intermediate buffers with malloc on every
// run and free them at the end. glibc returns large blocks to the kernel
// (mmap above a threshold, heap trimming above another), so every run
// page-faulted its buffers in again and zeroed the pages (a 64-channel
// 56x56 convolution: ~700 faults per run, 3.5 -> 2.4 ms with this; page
// faults also serialize threads on the process's memory map). Programs that
// run a model repeatedly keep freed memory instead: peak memory is
// unchanged, it is only not given back between runs.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_RUNTIME_ALLOCATOR_H
#define MPC_RUNTIME_ALLOCATOR_H

namespace mpc::runtime {

/// Raises glibc's mmap and trim thresholds (no-op with other C libraries).
/// Call once, before the runs: after a JIT compilation (whose freed memory
/// would otherwise stay and raise the peak: BERT-base's compile peak went
/// from 3.01 to 3.27 GB with it set from the start).
void keepFreedBuffersForReuse();

} // namespace mpc::runtime

#endif // MPC_RUNTIME_ALLOCATOR_H
