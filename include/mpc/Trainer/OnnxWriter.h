//===- OnnxWriter.h - the trained model as an ONNX file ---------*- C++ -*-===//
//
// A protobuf encoder just big enough for --save: the manifest carries the
// model's ModelProto without its graph (`head`) and the GraphProto without
// the trained initializers (`graph`); we append the initializers as
// TensorProtos. Protobuf readers merge repeated and embedded fields in any
// order, so onnxruntime reads the result as one model.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TRAINER_ONNXWRITER_H
#define MPC_TRAINER_ONNXWRITER_H

#include "mpc/Runtime/HostArray.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mpc::trainer {

void appendVarint(std::string &out, uint64_t value);
/// A length-delimited field (wire type 2).
void appendBytesField(std::string &out, uint32_t field, std::string_view bytes);
/// A varint field (wire type 0).
void appendVarintField(std::string &out, uint32_t field, uint64_t value);

/// onnx.TensorProto with dims (1), data_type (2), name (8) and raw_data (9).
std::string encodeTensorProto(std::string_view name, int64_t onnxDtype,
                              const std::vector<int64_t> &dims, std::string_view rawData);

/// The little-endian bytes of `array` as ONNX data type `onnxDtype`: the same
/// element type, or f32 master weights narrowed to float16/bfloat16/double.
/// On failure sets `error` naming `name`.
bool onnxRawData(const runtime::HostArray &array, int64_t onnxDtype, std::string_view name,
                 std::string &raw, std::string &error);

} // namespace mpc::trainer

#endif // MPC_TRAINER_ONNXWRITER_H
