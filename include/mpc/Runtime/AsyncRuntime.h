//===- AsyncRuntime.h - thread pool behind MLIR's async dialect -*- C++ -*-===//
//
// Code lowered with async-parallel-for and convert-async-to-llvm calls the
// `mlirAsyncRuntime*` C functions (tokens, values, groups, coroutine
// resumption). mpc implements them here, in plain C++17 over std::thread, so
// that neither mpc-run's JIT nor an mpc-compile executable needs MLIR's
// libmlir_async_runtime.so at run time.
//
// Thread count N: setNumThreads() if called, else the MPC_NUM_THREADS
// environment variable, else std::thread::hardware_concurrency(). N - 1
// worker threads are started; the thread that waits for a parallel loop runs
// queued tasks itself meanwhile, so N threads compute. With one thread no
// worker exists and every task runs in the thread that schedules it. Idle
// threads poll for work for MPC_SPIN_US microseconds (default 200, yielding
// the core between polls) before sleeping on a condition variable.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_RUNTIME_ASYNCRUNTIME_H
#define MPC_RUNTIME_ASYNCRUNTIME_H

#include <string>
#include <utility>
#include <vector>

namespace mpc::runtime {

/// Fixes the number of threads parallel loops run on (>= 1). Takes effect
/// only before the first parallel loop runs; returns false afterwards.
bool setNumThreads(int threads);

/// The number of threads parallel loops run on (resolves the default).
int numThreads();

/// Blocks until every worker is idle. The task that makes a parallel loop's
/// last block ready still runs a few instructions of compiled code after the
/// caller has been woken: a JIT must wait for this before it frees that code.
void waitForIdleWorkers();

/// (symbol name, address) of every `mlirAsyncRuntime*` function, for the JIT.
std::vector<std::pair<std::string, void *>> asyncRuntimeSymbols();

} // namespace mpc::runtime

#endif // MPC_RUNTIME_ASYNCRUNTIME_H
