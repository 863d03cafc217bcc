//===- OnnxReader.cpp - the initializers of an ONNX model -----------------===//
#include "mpc/Trainer/OnnxReader.h"

#include <cstring>

namespace mpc::trainer {
using runtime::ElementKind;
using runtime::HostArray;

namespace {
// onnx.TensorProto.DataType values.
enum OnnxType : int64_t {
  kFloat = 1, kUint8 = 2, kInt8 = 3, kUint16 = 4, kInt16 = 5, kInt32 = 6, kInt64 = 7, kBool = 9,
  kFloat16 = 10, kDouble = 11, kBFloat16 = 16, kFloat8E4M3FN = 17, kFloat8E5M2 = 19,
};

// Protobuf wire types.
enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

/// Reads protobuf fields from a byte range; every read checks the bounds.
class Wire {
public:
  explicit Wire(std::string_view bytes)
      : p_(reinterpret_cast<const unsigned char *>(bytes.data())), end_(p_ + bytes.size()) {}

  bool atEnd() const { return p_ == end_; }

  bool varint(uint64_t &value) {
    value = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (p_ == end_)
        return false;
      unsigned char byte = *p_++;
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80))
        return true;
    }
    return false;
  }

  bool key(uint32_t &field, uint32_t &wireType) {
    uint64_t key;
    if (!varint(key) || (key >> 3) == 0 || (key >> 3) > 0x1fffffff)
      return false;
    field = static_cast<uint32_t>(key >> 3);
    wireType = static_cast<uint32_t>(key & 7);
    return true;
  }

  bool fixed(size_t size, void *out) {
    if (static_cast<size_t>(end_ - p_) < size)
      return false;
    std::memcpy(out, p_, size);
    p_ += size;
    return true;
  }

  bool lengthDelimited(std::string_view &out) {
    uint64_t length;
    if (!varint(length) || length > static_cast<uint64_t>(end_ - p_))
      return false;
    out = std::string_view(reinterpret_cast<const char *>(p_), length);
    p_ += length;
    return true;
  }

  bool skip(uint32_t wireType) {
    uint64_t ignored;
    std::string_view bytes;
    unsigned char buffer[8];
    switch (wireType) {
    case kVarint: return varint(ignored);
    case kFixed64: return fixed(8, buffer);
    case kLengthDelimited: return lengthDelimited(bytes);
    case kFixed32: return fixed(4, buffer);
    default: return false; // groups (3, 4) are not used by ONNX
    }
  }

private:
  const unsigned char *p_, *end_;
};

/// A repeated varint field, packed (wire type 2) or not (0).
bool repeatedVarint(Wire &wire, uint32_t wireType, std::vector<int64_t> &out) {
  uint64_t value;
  if (wireType == kVarint) {
    if (!wire.varint(value))
      return false;
    out.push_back(static_cast<int64_t>(value));
    return true;
  }
  std::string_view packed;
  if (wireType != kLengthDelimited || !wire.lengthDelimited(packed))
    return false;
  Wire inner(packed);
  while (!inner.atEnd()) {
    if (!inner.varint(value))
      return false;
    out.push_back(static_cast<int64_t>(value));
  }
  return true;
}

/// A repeated fixed-width field (float: 4 bytes, double: 8), packed or not.
template <typename T> bool repeatedFixed(Wire &wire, uint32_t wireType, std::vector<T> &out) {
  constexpr uint32_t single = sizeof(T) == 4 ? kFixed32 : kFixed64;
  T value;
  if (wireType == single) {
    if (!wire.fixed(sizeof(T), &value))
      return false;
    out.push_back(value);
    return true;
  }
  std::string_view packed;
  if (wireType != kLengthDelimited || !wire.lengthDelimited(packed) || packed.size() % sizeof(T))
    return false;
  for (size_t i = 0; i < packed.size(); i += sizeof(T)) {
    std::memcpy(&value, packed.data() + i, sizeof(T));
    out.push_back(value);
  }
  return true;
}

/// The TensorProto fields the reader understands.
struct RawTensor {
  OnnxTensor tensor;
  std::optional<std::string_view> rawData;
  std::vector<float> floats;
  std::vector<double> doubles;
  std::vector<int64_t> int32s, int64s;
  bool external = false, segmented = false;
};

bool parseTensor(std::string_view bytes, RawTensor &raw) {
  Wire wire(bytes);
  while (!wire.atEnd()) {
    uint32_t field, wireType;
    if (!wire.key(field, wireType))
      return false;
    uint64_t value = 0;
    std::string_view text;
    bool ok = true;
    switch (field) {
    case 1: ok = repeatedVarint(wire, wireType, raw.tensor.dims); break;
    case 2:
      ok = wireType == kVarint && wire.varint(value);
      raw.tensor.onnxDtype = static_cast<int64_t>(value);
      break;
    case 3: raw.segmented = true; ok = wire.skip(wireType); break;
    case 4: ok = repeatedFixed(wire, wireType, raw.floats); break;
    case 5: ok = repeatedVarint(wire, wireType, raw.int32s); break;
    case 7: ok = repeatedVarint(wire, wireType, raw.int64s); break;
    case 8:
      ok = wireType == kLengthDelimited && wire.lengthDelimited(text);
      raw.tensor.name.assign(text);
      break;
    case 9:
      ok = wireType == kLengthDelimited && wire.lengthDelimited(text);
      raw.rawData = text;
      break;
    case 10: ok = repeatedFixed(wire, wireType, raw.doubles); break;
    case 13: raw.external = true; ok = wire.skip(wireType); break;
    case 14:
      ok = wireType == kVarint && wire.varint(value);
      raw.external |= value == 1; // DataLocation EXTERNAL
      break;
    default: ok = wire.skip(wireType); break;
    }
    if (!ok)
      return false;
  }
  return true;
}

/// Fills `raw.tensor.array`, or sets its `problem`.
void decodeValues(RawTensor &raw) {
  OnnxTensor &tensor = raw.tensor;
  auto problem = [&](std::string why) { tensor.problem = std::move(why); };
  std::optional<ElementKind> kind = elementKindOfOnnx(tensor.onnxDtype);
  if (!kind)
    return problem("has ONNX data type " + std::to_string(tensor.onnxDtype) +
                   ", which mpc holds no arrays of");
  if (raw.external)
    return problem("stores its data outside the model file (ONNX external data), which --weights "
                   "does not read; save the model with its data inline "
                   "(onnx.save_model(model, path, save_as_external_data=False))");
  if (raw.segmented)
    return problem("is a segmented tensor, which --weights does not read");
  int64_t count = 1;
  for (int64_t d : tensor.dims) {
    if (d < 0 || (d > 0 && count > (int64_t(1) << 40) / d))
      return problem("has invalid or too large dims");
    count *= d;
  }
  HostArray array(*kind, tensor.dims);
  size_t size = runtime::elementSize(*kind);
  auto wrongCount = [&](size_t got) {
    problem("holds " + std::to_string(got) + " values for its " + std::to_string(count) + " elements");
  };
  if (raw.rawData) {
    if (raw.rawData->size() != static_cast<size_t>(count) * size)
      return problem("has " + std::to_string(raw.rawData->size()) + " bytes of raw_data for " +
                     std::to_string(count) + " elements of " + std::string(runtime::elementName(*kind)));
    std::memcpy(array.data(), raw.rawData->data(), raw.rawData->size());
  } else if (*kind == ElementKind::F32) {
    if (raw.floats.size() != static_cast<size_t>(count))
      return wrongCount(raw.floats.size());
    std::memcpy(array.data(), raw.floats.data(), raw.floats.size() * 4);
  } else if (*kind == ElementKind::F64) {
    if (raw.doubles.size() != static_cast<size_t>(count))
      return wrongCount(raw.doubles.size());
    std::memcpy(array.data(), raw.doubles.data(), raw.doubles.size() * 8);
  } else if (*kind == ElementKind::I64) {
    if (raw.int64s.size() != static_cast<size_t>(count))
      return wrongCount(raw.int64s.size());
    std::memcpy(array.data(), raw.int64s.data(), raw.int64s.size() * 8);
  } else {
    // int32_data holds every narrower type, f16/bf16/f8 as their bit patterns.
    if (raw.int32s.size() != static_cast<size_t>(count))
      return wrongCount(raw.int32s.size());
    auto *out = static_cast<unsigned char *>(array.data());
    for (size_t i = 0; i < raw.int32s.size(); ++i) {
      uint64_t bits = static_cast<uint64_t>(raw.int32s[i]);
      if (*kind == ElementKind::Bool)
        bits = bits != 0;
      for (size_t b = 0; b < size; ++b) // little-endian truncation
        out[i * size + b] = static_cast<unsigned char>(bits >> (8 * b));
    }
  }
  tensor.array = std::move(array);
}

bool parseGraph(std::string_view bytes, std::vector<OnnxTensor> &tensors) {
  Wire wire(bytes);
  while (!wire.atEnd()) {
    uint32_t field, wireType;
    if (!wire.key(field, wireType))
      return false;
    if (field != 5 || wireType != kLengthDelimited) {
      if (!wire.skip(wireType))
        return false;
      continue;
    }
    std::string_view tensorBytes;
    RawTensor raw;
    if (!wire.lengthDelimited(tensorBytes) || !parseTensor(tensorBytes, raw))
      return false;
    decodeValues(raw);
    tensors.push_back(std::move(raw.tensor));
  }
  return true;
}
} // namespace

std::optional<ElementKind> elementKindOfOnnx(int64_t onnxDtype) {
  switch (onnxDtype) {
  case kFloat: return ElementKind::F32;
  case kUint8: return ElementKind::U8;
  case kInt8: return ElementKind::I8;
  case kUint16: return ElementKind::U16;
  case kInt16: return ElementKind::I16;
  case kInt32: return ElementKind::I32;
  case kInt64: return ElementKind::I64;
  case kBool: return ElementKind::Bool;
  case kFloat16: return ElementKind::F16;
  case kDouble: return ElementKind::F64;
  case kBFloat16: return ElementKind::BF16;
  case kFloat8E4M3FN: return ElementKind::F8E4M3FN;
  case kFloat8E5M2: return ElementKind::F8E5M2;
  default: return std::nullopt;
  }
}

bool readOnnxInitializers(std::string_view bytes, std::string_view source,
                          std::vector<OnnxTensor> &tensors, std::string &error) {
  Wire wire(bytes);
  bool sawGraph = false;
  auto malformed = [&]() {
    error = "'" + std::string(source) + "' is not a valid ONNX model (its bytes do not parse as a ModelProto)";
    return false;
  };
  while (!wire.atEnd()) {
    uint32_t field, wireType;
    if (!wire.key(field, wireType))
      return malformed();
    if (field != 7 || wireType != kLengthDelimited) {
      if (!wire.skip(wireType))
        return malformed();
      continue;
    }
    std::string_view graph;
    if (!wire.lengthDelimited(graph) || !parseGraph(graph, tensors))
      return malformed();
    sawGraph = true;
  }
  if (!sawGraph) {
    error = "'" + std::string(source) + "' is not an ONNX model (it has no graph)";
    return false;
  }
  return true;
}

} // namespace mpc::trainer
