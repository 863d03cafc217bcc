//===- PackedCall.cpp - call a compiled function through its packed ABI ---===//
#include "mpc/Runtime/PackedCall.h"

namespace mpc::runtime {

std::vector<int64_t> denseDescriptor(const void *data, const std::vector<int64_t> &shape) {
  auto address = static_cast<int64_t>(reinterpret_cast<intptr_t>(data));
  std::vector<int64_t> descriptor{address, address, 0};
  descriptor.insert(descriptor.end(), shape.begin(), shape.end());
  std::vector<int64_t> strides(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  descriptor.insert(descriptor.end(), strides.begin(), strides.end());
  return descriptor;
}

void PackedCall::add(const void *data, const std::vector<int64_t> &shape) {
  descriptors_.push_back(denseDescriptor(data, shape));
}

void PackedCall::rebind(size_t index, const void *data) {
  auto address = static_cast<int64_t>(reinterpret_cast<intptr_t>(data));
  descriptors_[index][0] = address;
  descriptors_[index][1] = address;
}

void PackedCall::call(PackedFunction function) {
  // Pointer arrays are rebuilt on every call: add() may have moved the
  // descriptors since the last one.
  descriptorPointers_.clear();
  arguments_.clear();
  for (std::vector<int64_t> &descriptor : descriptors_)
    descriptorPointers_.push_back(descriptor.data());
  for (void *&pointer : descriptorPointers_)
    arguments_.push_back(&pointer);
  function(arguments_.data());
}

} // namespace mpc::runtime
