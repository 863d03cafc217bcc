//===- OnnxWriter.cpp - the trained model as an ONNX file -----------------===//
#include "mpc/Trainer/OnnxWriter.h"

#include "mpc/Runtime/FloatConversions.h"

#include <cstring>

namespace mpc::trainer {
using runtime::ElementKind;

namespace {
// onnx.TensorProto.DataType values.
enum OnnxType : int64_t {
  kFloat = 1, kUint8 = 2, kInt8 = 3, kUint16 = 4, kInt16 = 5, kInt32 = 6, kInt64 = 7, kBool = 9,
  kFloat16 = 10, kDouble = 11, kUint32 = 12, kUint64 = 13, kBFloat16 = 16, kFloat8E4M3FN = 17,
  kFloat8E5M2 = 19,
};

int64_t onnxTypeOf(ElementKind kind) {
  switch (kind) {
  case ElementKind::F64: return kDouble;
  case ElementKind::F32: return kFloat;
  case ElementKind::F16: return kFloat16;
  case ElementKind::BF16: return kBFloat16;
  case ElementKind::F8E4M3FN: return kFloat8E4M3FN;
  case ElementKind::F8E5M2: return kFloat8E5M2;
  case ElementKind::I64: return kInt64;
  case ElementKind::I32: return kInt32;
  case ElementKind::I8: return kInt8;
  case ElementKind::U8: return kUint8;
  case ElementKind::Bool: return kBool;
  case ElementKind::I16: return kInt16;
  case ElementKind::U16: return kUint16;
  case ElementKind::U32: return kUint32;
  case ElementKind::U64: return kUint64;
  }
  return 0;
}

template <typename T> void appendLittleEndian(std::string &out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T)); // every host we build for is little-endian
  out.append(bytes, sizeof(T));
}
} // namespace

void appendVarint(std::string &out, uint64_t value) {
  while (value >= 0x80) {
    out += static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
}

void appendVarintField(std::string &out, uint32_t field, uint64_t value) {
  appendVarint(out, static_cast<uint64_t>(field) << 3);
  appendVarint(out, value);
}

void appendBytesField(std::string &out, uint32_t field, std::string_view bytes) {
  appendVarint(out, (static_cast<uint64_t>(field) << 3) | 2);
  appendVarint(out, bytes.size());
  out.append(bytes.data(), bytes.size());
}

std::string encodeTensorProto(std::string_view name, int64_t onnxDtype, const std::vector<int64_t> &dims,
                              std::string_view rawData) {
  std::string out;
  // dims is a proto2 `repeated int64` field, written unpacked as onnx does.
  for (int64_t d : dims)
    appendVarintField(out, 1, static_cast<uint64_t>(d));
  appendVarintField(out, 2, static_cast<uint64_t>(onnxDtype));
  appendBytesField(out, 8, name);
  appendBytesField(out, 9, rawData);
  return out;
}

bool onnxRawData(const runtime::HostArray &array, int64_t onnxDtype, std::string_view name,
                 std::string &raw, std::string &error) {
  raw.clear();
  if (onnxTypeOf(array.kind()) == onnxDtype) {
    raw.assign(static_cast<const char *>(array.data()), array.sizeInBytes());
    return true;
  }
  if (array.kind() != ElementKind::F32 || (onnxDtype != kFloat16 && onnxDtype != kBFloat16 &&
                                           onnxDtype != kDouble)) {
    error = "cannot write the trained '" + std::string(name) + "' (" +
            std::string(runtime::elementName(array.kind())) + ") as ONNX data type " +
            std::to_string(onnxDtype) + "; only f32 state narrows to float16, bfloat16 or double";
    return false;
  }
  const float *values = array.as<float>();
  for (int64_t i = 0; i < array.numElements(); ++i) {
    if (onnxDtype == kFloat16)
      appendLittleEndian(raw, runtime::floatToHalfBits(values[i]));
    else if (onnxDtype == kBFloat16)
      appendLittleEndian(raw, runtime::floatToBFloat16Bits(values[i]));
    else
      appendLittleEndian(raw, static_cast<double>(values[i]));
  }
  return true;
}

} // namespace mpc::trainer
