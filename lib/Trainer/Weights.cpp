//===- Weights.cpp - the model's state from a weights file ----------------===//
#include "mpc/Trainer/Weights.h"

#include "mpc/Runtime/FloatConversions.h"
#include "mpc/Runtime/ManifestKeys.h"
#include "mpc/Trainer/FileIO.h"
#include "mpc/Trainer/OnnxReader.h"
#include "mpc/Trainer/Safetensors.h"

#include <cstring>

namespace mpc::trainer {
using runtime::ElementKind;
using runtime::HostArray;

namespace {
/// A tensor of the weights file: its values, or why they cannot be read.
struct FileTensor {
  std::string name;
  const HostArray *array = nullptr;
  std::string problem;
  bool isFloat = true; // ONNX: only float initializers become state
};

bool endsWith(const std::string &text, const char *suffix) {
  size_t n = std::strlen(suffix);
  return text.size() >= n && text.compare(text.size() - n, n, suffix) == 0;
}

bool isFloatKind(ElementKind kind) {
  return kind == ElementKind::F64 || kind == ElementKind::F32 || kind == ElementKind::F16 ||
         kind == ElementKind::BF16 || kind == ElementKind::F8E4M3FN || kind == ElementKind::F8E5M2;
}

/// safetensors: 8-byte little-endian header length, then a JSON object.
bool looksLikeSafetensors(const std::string &bytes) {
  if (bytes.size() < 9)
    return false;
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i)
    length = length << 8 | static_cast<unsigned char>(bytes[i]);
  return length <= bytes.size() - 8 && bytes[8] == '{';
}

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string nameList(const std::vector<std::string> &names) {
  std::string text;
  for (size_t i = 0; i < names.size() && i < 5; ++i)
    text += (i ? ", '" : "'") + names[i] + "'";
  if (names.size() > 5)
    text += " and " + std::to_string(names.size() - 5) + " more";
  return text;
}

double elementAsDouble(const HostArray &array, int64_t i) {
  switch (array.kind()) {
  case ElementKind::F64: return array.as<double>()[i];
  case ElementKind::F32: return array.as<float>()[i];
  case ElementKind::F16: return runtime::halfBitsToFloat(array.as<uint16_t>()[i]);
  case ElementKind::BF16: return runtime::bfloat16BitsToFloat(array.as<uint16_t>()[i]);
  default: return 0;
  }
}

/// `from` as `to`: exact widening (f16/bf16 -> f32/f64, f32 -> f64), or,
/// when `narrowingAllowed` (the compiler itself narrowed this tensor from the
/// file's type, with the same round-to-nearest-even), f32/f64 -> f16/bf16 and
/// f64 -> f32. False when the conversion is not one of these.
bool convert(const HostArray &from, ElementKind to, bool narrowingAllowed, HostArray &out) {
  ElementKind kind = from.kind();
  bool fromHalf = kind == ElementKind::F16 || kind == ElementKind::BF16;
  bool widening = (fromHalf && (to == ElementKind::F32 || to == ElementKind::F64)) ||
                  (kind == ElementKind::F32 && to == ElementKind::F64);
  bool toHalf = to == ElementKind::F16 || to == ElementKind::BF16;
  bool narrowing = narrowingAllowed && ((kind == ElementKind::F32 && toHalf) ||
                                        (kind == ElementKind::F64 && (toHalf || to == ElementKind::F32)));
  if (!widening && !narrowing)
    return false;
  out = HostArray(to, from.shape());
  for (int64_t i = 0, n = from.numElements(); i < n; ++i) {
    double value = elementAsDouble(from, i);
    switch (to) {
    case ElementKind::F64: out.as<double>()[i] = value; break;
    case ElementKind::F32: out.as<float>()[i] = static_cast<float>(value); break; // nearest even
    case ElementKind::F16: out.as<uint16_t>()[i] = runtime::doubleToHalfBits(value); break;
    case ElementKind::BF16: out.as<uint16_t>()[i] = runtime::doubleToBFloat16Bits(value); break;
    default: return false;
    }
  }
  return true;
}

/// Whether a weights file holds state tensor `spec`: all state of an
/// inference build; a trainer's parameters and buffers, not the optimizer's
/// or the loss scaler's state, which no model file has.
bool isWeight(const Manifest &manifest, const TensorDesc &spec) {
  return manifest.isInference() || spec.role == manifest::role::kParam || spec.role == manifest::role::kBuffer;
}

/// The ONNX data type the build recorded for initializer `name`, if any.
std::optional<ElementKind> recordedKind(const Manifest &manifest, const std::string &name) {
  for (const OnnxInitializer &init : manifest.initializers)
    if (init.name == name)
      return elementKindOfOnnx(init.onnxDtype);
  return std::nullopt;
}
} // namespace

bool loadWeights(const Manifest &manifest, const std::string &path, TrainState &state, std::string &error) {
  const std::string where = "--weights '" + path + "'";
  auto fail = [&](const std::string &what) {
    error = where + ": " + what;
    return false;
  };
  // The readers' messages name the file already.
  auto failRead = [&]() {
    error = "--weights: " + error;
    return false;
  };
  std::string bytes;
  if (!readFile(path, bytes, error))
    return failRead();

  // Both readers' results stay alive in these until the state is filled.
  std::vector<OnnxTensor> onnxTensors;
  std::vector<NamedArray> safeTensors;
  Metadata metadata;
  std::vector<FileTensor> tensors;
  bool isOnnx = endsWith(path, ".onnx") || (!endsWith(path, ".safetensors") && !looksLikeSafetensors(bytes));
  if (isOnnx) {
    if (!readOnnxInitializers(bytes, path, onnxTensors, error))
      return failRead();
    for (const OnnxTensor &t : onnxTensors) {
      std::optional<ElementKind> kind = elementKindOfOnnx(t.onnxDtype);
      tensors.push_back({t.name, t.array ? &*t.array : nullptr, t.problem, !kind || isFloatKind(*kind)});
    }
  } else {
    if (!parseSafetensors(bytes, path, safeTensors, metadata, error))
      return failRead();
    for (const NamedArray &t : safeTensors)
      tensors.push_back({t.name, &t.array, "", true});
  }
  // A trainer's checkpoint also holds optimizer and loss-scale state, which
  // inference does not read.
  bool isCheckpoint = false;
  for (const auto &[key, value] : metadata)
    isCheckpoint |= key == "format" && value == "mpc-trainer-checkpoint-1";

  std::vector<const FileTensor *> found(state.specs.size(), nullptr);
  std::vector<std::string> missing, extra;
  size_t weights = 0;
  for (size_t i = 0; i < state.specs.size(); ++i) {
    if (!isWeight(manifest, *state.specs[i]))
      continue;
    ++weights;
    for (const FileTensor &t : tensors)
      if (t.name == state.specs[i]->name)
        found[i] = &t;
    if (!found[i])
      missing.push_back(state.specs[i]->name);
  }
  for (const FileTensor &t : tensors) {
    bool known = false;
    for (const TensorDesc *spec : state.specs)
      known |= spec->name == t.name && isWeight(manifest, *spec);
    // Integer initializers of an ONNX model are constants compiled into
    // the code, not state.
    if (!known && t.isFloat && !isCheckpoint)
      extra.push_back(t.name);
  }
  if (!missing.empty())
    return fail("has no tensor " + nameList(missing) + " (of the model's " + std::to_string(weights) +
                " weights, " + std::to_string(missing.size()) + " are missing)");
  if (!extra.empty())
    return fail("holds " + std::string(extra.size() == 1 ? "a tensor" : "tensors") + " the model does not have: " +
                nameList(extra) + " (a weights file holds exactly the model's weights)");

  for (size_t i = 0; i < state.specs.size(); ++i) {
    if (!found[i])
      continue;
    const TensorDesc &spec = *state.specs[i];
    const FileTensor &t = *found[i];
    if (!t.array)
      return fail("tensor '" + t.name + "' " + t.problem);
    const HostArray &array = *t.array;
    std::string expected = std::string(runtime::elementName(spec.kind)) + " " + shapeText(spec.shape);
    std::string got = std::string(runtime::elementName(array.kind())) + " " + shapeText(array.shape());
    if (array.shape() != spec.shape)
      return fail("tensor '" + t.name + "' is " + got + ", the model expects " + expected);
    if (array.kind() == spec.kind) {
      HostArray copy(spec.kind, spec.shape);
      std::memcpy(copy.data(), array.data(), array.sizeInBytes());
      state.arrays[i] = std::move(copy);
      continue;
    }
    bool narrowingAllowed = recordedKind(manifest, spec.name) == array.kind();
    if (!convert(array, spec.kind, narrowingAllowed, state.arrays[i]))
      return fail("tensor '" + t.name + "' is " + got + ", the model expects " + expected +
                  " (only exact widening such as f16/bf16 -> f32 is done; convert the file's tensor)");
  }
  return true;
}

} // namespace mpc::trainer
