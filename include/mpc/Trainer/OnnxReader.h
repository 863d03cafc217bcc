//===- OnnxReader.h - the initializers of an ONNX model ---------*- C++ -*-===//
//
// A protobuf wire-format decoder just big enough for `--weights MODEL.onnx`:
// ModelProto.graph (7) -> GraphProto.initializer (5) -> TensorProto's dims
// (1), data_type (2), name (8), raw_data (9) and the typed fields float_data
// (4), int32_data (5), int64_data (7), double_data (10). Plain C++: the
// runner has no protobuf library.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TRAINER_ONNXREADER_H
#define MPC_TRAINER_ONNXREADER_H

#include "mpc/Runtime/HostArray.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mpc::trainer {

/// One initializer of the model's main graph.
struct OnnxTensor {
  std::string name;
  int64_t onnxDtype = 0;
  std::vector<int64_t> dims;
  /// The values, or nullopt with `problem` saying why they cannot be read
  /// (a data type mpc has no array for, data stored outside the file, a
  /// value count that does not match the dims). Only a tensor that is
  /// actually needed turns its problem into an error.
  std::optional<runtime::HostArray> array;
  std::string problem;
};

/// The element kind of ONNX data type `onnxDtype` (TensorProto.DataType), or
/// nullopt for types mpc does not hold (strings, complex, uint16, ...).
std::optional<runtime::ElementKind> elementKindOfOnnx(int64_t onnxDtype);

/// Reads the initializers of the ModelProto in `bytes`, in file order.
/// `source` names the file in errors. False with `error` set when the bytes
/// are not an ONNX model.
bool readOnnxInitializers(std::string_view bytes, std::string_view source,
                          std::vector<OnnxTensor> &tensors, std::string &error);

} // namespace mpc::trainer

#endif // MPC_TRAINER_ONNXREADER_H
