//===- LibrarySearch.h - Finding CUDA libraries at run time ------*- C++ -*-===//
//
// Compiled programs link no CUDA library: cuBLASLt (and later cuDNN, NCCL)
// are opened with dlopen, from the first of these places that has them:
//  1. each folder of MPC_CUDA_LIB_PATH (colon-separated), in order;
//  2. the dynamic loader's own search (LD_LIBRARY_PATH, ldconfig's cache);
//  3. $CUDA_HOME/lib64, then /usr/local/cuda/lib64;
//  4. NVIDIA's pip wheels: <site>/<subdir> for each given subdir (e.g.
//     nvidia/cublas/lib) and each Python site folder: $VIRTUAL_ENV's,
//     $CONDA_PREFIX's, PYTHONPATH's, ~/.local/lib/python3*/site-packages,
//     /usr/local/lib/python3*/{site,dist}-packages,
//     /usr/lib/python3*/{site,dist}-packages.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_RUNTIME_CUDA_LIBRARYSEARCH_H
#define MPC_RUNTIME_CUDA_LIBRARYSEARCH_H

#include <functional>
#include <string>
#include <vector>

namespace mpc::runtime::cuda {

/// Reads an environment variable; empty when unset.
using EnvLookup = std::function<std::string(const char *)>;
EnvLookup processEnv();

/// The folders of steps 1, 3 and 4, in order, existing ones only, each once.
/// kLoaderSearch stands for step 2 where it falls in the order.
extern const char *const kLoaderSearch;
std::vector<std::string>
cudaLibrarySearchPlaces(const std::vector<std::string> &wheelSubdirs,
                        const EnvLookup &env = processEnv());

struct LoadedLibrary {
  void *handle = nullptr; // dlopen handle; null when not found
  std::string path;       // what was opened
  std::string error;      // when not found: one line, places searched
};

/// Opens `soname` (e.g. "libcublasLt.so.13") from the first place that has
/// it. A file that is there but fails to load is named in the error, and the
/// search goes on. `what` names the library in the error ("cuBLASLt").
LoadedLibrary loadCudaLibrary(const std::string &soname, const std::string &what,
                              const std::vector<std::string> &wheelSubdirs,
                              const EnvLookup &env = processEnv());

} // namespace mpc::runtime::cuda

#endif // MPC_RUNTIME_CUDA_LIBRARYSEARCH_H
