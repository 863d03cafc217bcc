//===- Safetensors.h - checkpoints in the safetensors format ----*- C++ -*-===//
//
// Format: 8-byte little-endian header length, a JSON header
// {"__metadata__": {string: string}, NAME: {"dtype", "shape", "data_offsets"}},
// padded with spaces to a multiple of 8, then the tensors' bytes.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TRAINER_SAFETENSORS_H
#define MPC_TRAINER_SAFETENSORS_H

#include "mpc/Runtime/HostArray.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mpc::trainer {

using Metadata = std::vector<std::pair<std::string, std::string>>;

struct NamedArray {
  std::string name;
  runtime::HostArray array;
};

/// "F32", "BF16", "I64", "BOOL", ... or nullopt for kinds safetensors lacks.
std::optional<std::string_view> safetensorsDtype(runtime::ElementKind kind);

/// Tensors in the order given (so equal inputs give equal bytes).
std::string serializeSafetensors(const std::vector<std::pair<std::string, const runtime::HostArray *>> &tensors,
                                 const Metadata &metadata);

/// Reads tensors in file order. On failure sets `error` to a sentence naming
/// `source`.
bool parseSafetensors(std::string_view bytes, std::string_view source, std::vector<NamedArray> &tensors,
                      Metadata &metadata, std::string &error);

} // namespace mpc::trainer

#endif // MPC_TRAINER_SAFETENSORS_H
