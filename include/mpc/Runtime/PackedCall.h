//===- PackedCall.h - call a compiled function through its packed ABI -*- C++ -*-===//
//
// Plain C++ (no LLVM or MLIR). MLIR's packed calling convention takes
// `void **args` with args[i] pointing at argument i; for a memref argument of
// the C interface that argument is a pointer to a strided memref descriptor.
// The JIT (mpc-run) and the compiled trainer both call code this way, so they
// build descriptors in one place.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_RUNTIME_PACKEDCALL_H
#define MPC_RUNTIME_PACKEDCALL_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mpc::runtime {

using PackedFunction = void (*)(void **args);

/// A strided memref descriptor of a dense row-major buffer, as int64s:
/// {allocated, aligned, offset, sizes[rank], strides[rank]}.
std::vector<int64_t> denseDescriptor(const void *data, const std::vector<int64_t> &shape);

/// Descriptors and the argument array for one call; build once, call often
/// (the buffers must stay where they are).
class PackedCall {
public:
  /// Appends a buffer: arguments first, then results, in signature order.
  void add(const void *data, const std::vector<int64_t> &shape);
  /// Points buffer `index` at other storage of the same shape.
  void rebind(size_t index, const void *data);
  void call(PackedFunction function);
  size_t size() const { return descriptors_.size(); }

private:
  std::vector<std::vector<int64_t>> descriptors_;
  std::vector<void *> descriptorPointers_;
  std::vector<void *> arguments_;
};

} // namespace mpc::runtime

#endif // MPC_RUNTIME_PACKEDCALL_H
