//===- TrainState.cpp - the trained tensors and their checkpoints ---------===//
#include "mpc/Trainer/TrainState.h"

#include "mpc/Runtime/FloatConversions.h"
#include "mpc/Trainer/FileIO.h"
#include "mpc/Trainer/OnnxWriter.h"
#include "mpc/Trainer/StateSchema.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace mpc::trainer {
using runtime::ElementKind;
using runtime::HostArray;

int TrainState::indexOf(const std::string &name) const {
  for (size_t i = 0; i < specs.size(); ++i)
    if (specs[i]->name == name)
      return static_cast<int>(i);
  return -1;
}

const HostArray *TrainState::find(const std::string &name) const {
  int index = indexOf(name);
  return index < 0 ? nullptr : &arrays[index];
}

HostArray *TrainState::find(const std::string &name) {
  int index = indexOf(name);
  return index < 0 ? nullptr : &arrays[index];
}

namespace {
template <typename T> void fillWith(HostArray &array, T value) {
  T *data = array.as<T>();
  for (int64_t i = 0; i < array.numElements(); ++i)
    data[i] = value;
}

bool fill(HostArray &array, double value) {
  switch (array.kind()) {
  case ElementKind::F64: fillWith(array, value); return true;
  case ElementKind::F32: fillWith(array, static_cast<float>(value)); return true;
  case ElementKind::F16: fillWith(array, runtime::doubleToHalfBits(value)); return true;
  case ElementKind::BF16: fillWith(array, runtime::doubleToBFloat16Bits(value)); return true;
  case ElementKind::I64: fillWith(array, static_cast<int64_t>(value)); return true;
  case ElementKind::I32: fillWith(array, static_cast<int32_t>(value)); return true;
  case ElementKind::I8: fillWith(array, static_cast<int8_t>(value)); return true;
  case ElementKind::U8: fillWith(array, static_cast<uint8_t>(value)); return true;
  case ElementKind::Bool: fillWith(array, static_cast<uint8_t>(value != 0)); return true;
  case ElementKind::I16: fillWith(array, static_cast<int16_t>(value)); return true;
  case ElementKind::U16: fillWith(array, static_cast<uint16_t>(value)); return true;
  case ElementKind::U32: fillWith(array, static_cast<uint32_t>(value)); return true;
  case ElementKind::U64: fillWith(array, static_cast<uint64_t>(value)); return true;
  case ElementKind::F8E4M3FN:
  case ElementKind::F8E5M2:
    return value == 0; // HostArray starts zeroed; other fp8 constants are not needed yet
  }
  return false;
}

int64_t metadataInteger(const Metadata &metadata, const std::string &key, bool &ok) {
  for (const auto &[name, value] : metadata)
    if (name == key) {
      errno = 0;
      char *end = nullptr;
      long long parsed = std::strtoll(value.c_str(), &end, 10);
      ok &= !errno && end != value.c_str() && !*end;
      return parsed;
    }
  ok = false;
  return 0;
}

const std::string *metadataValue(const Metadata &metadata, const std::string &key) {
  for (const auto &[name, value] : metadata)
    if (name == key)
      return &value;
  return nullptr;
}

std::string metadataString(const Metadata &metadata, const std::string &key) {
  const std::string *value = metadataValue(metadata, key);
  return value ? *value : "";
}
} // namespace

bool initialState(const Manifest &manifest, const unsigned char *blob, TrainState &state, std::string &error) {
  for (const TensorDesc &arg : manifest.stateSignature().args) {
    if (!arg.isState())
      continue;
    state.specs.push_back(&arg);
    HostArray &array = state.arrays.emplace_back(arg.kind, arg.shape);
    if (arg.external)
      continue; // zeros until a weights file is loaded
    if (arg.init) {
      std::memcpy(array.data(), blob + arg.init->offset, arg.init->bytes);
    } else if (!fill(array, arg.fill)) {
      error = "the compiled model's manifest asks to fill '" + arg.name + "' (" +
              std::string(runtime::elementName(arg.kind)) + ") with " + std::to_string(arg.fill) +
              ", which this trainer cannot write; rebuild it with mpc-compile";
      return false;
    }
  }
  return true;
}

std::string serializeCheckpoint(const Manifest &manifest, const TrainState &state, const Progress &progress) {
  std::vector<std::pair<std::string, const HostArray *>> tensors;
  for (size_t i = 0; i < state.specs.size(); ++i)
    tensors.emplace_back(state.specs[i]->name, &state.arrays[i]);
  Metadata metadata{{"format", "mpc-trainer-checkpoint-1"},
                    {"manifest_fingerprint", manifest.fingerprint},
                    {"state_schema", stateSchema(manifest)},
                    {"step", std::to_string(progress.step)},
                    {"skipped", std::to_string(progress.skipped)},
                    {"seed", std::to_string(progress.seed)},
                    {"shuffle", progress.shuffle ? "true" : "false"},
                    {"rows", std::to_string(progress.rows)},
                    {"plan", progress.plan}};
  return serializeSafetensors(tensors, metadata);
}

bool loadCheckpoint(const Manifest &manifest, const std::string &path, TrainState &state, Progress &progress,
                    std::string &error) {
  std::string bytes;
  std::vector<NamedArray> tensors;
  Metadata metadata;
  if (!readFile(path, bytes, error) || !parseSafetensors(bytes, path, tensors, metadata, error)) {
    error = "--resume: " + error;
    return false;
  }
  auto fail = [&](const std::string &what) {
    error = "--resume '" + path + "': " + what;
    return false;
  };
  // The state schema decides; a checkpoint written before it was recorded
  // resumes only with the manifest it names.
  if (const std::string *schema = metadataValue(metadata, "state_schema")) {
    std::string difference = stateSchemaDifference(*schema, stateSchema(manifest));
    if (!difference.empty())
      return fail("it does not fit this trainer: " + difference +
                  "; resume with a trainer of the same model and training flags");
  } else if (metadataString(metadata, "manifest_fingerprint") != manifest.fingerprint) {
    return fail("the checkpoint was written by a different compiled model (manifest fingerprint '" +
                metadataString(metadata, "manifest_fingerprint") + "', this trainer's is '" +
                manifest.fingerprint + "'); resume with the trainer that wrote it");
  }
  bool ok = true;
  progress.step = metadataInteger(metadata, "step", ok);
  progress.skipped = metadataInteger(metadata, "skipped", ok);
  progress.seed = static_cast<uint64_t>(metadataInteger(metadata, "seed", ok));
  progress.rows = metadataInteger(metadata, "rows", ok);
  progress.shuffle = metadataString(metadata, "shuffle") != "false";
  progress.plan = metadataString(metadata, "plan");
  if (!ok)
    return fail("its metadata lacks step, skipped, seed or rows");
  for (size_t i = 0; i < state.specs.size(); ++i) {
    const TensorDesc &spec = *state.specs[i];
    NamedArray *found = nullptr;
    for (NamedArray &tensor : tensors)
      if (tensor.name == spec.name)
        found = &tensor;
    if (!found)
      return fail("it has no tensor '" + spec.name + "'");
    if (found->array.kind() != spec.kind || found->array.shape() != spec.shape)
      return fail("tensor '" + spec.name + "' is not " + std::string(runtime::elementName(spec.kind)) +
                  " of the model's shape");
    state.arrays[i] = std::move(found->array);
  }
  if (tensors.size() != state.specs.size())
    return fail("it holds " + std::to_string(tensors.size()) + " tensors, the model's state " +
                std::to_string(state.specs.size()));
  return true;
}

bool buildTrainedModel(const Manifest &manifest, const unsigned char *blob, const TrainState &state,
                       std::string &model, std::string &error) {
  auto bytesOf = [&](const BlobRange &range) {
    return std::string_view(reinterpret_cast<const char *>(blob) + range.offset, range.bytes);
  };
  std::string graph(bytesOf(*manifest.onnxGraph));
  for (const OnnxInitializer &init : manifest.initializers) {
    std::string raw;
    if (!onnxRawData(*state.find(init.name), init.onnxDtype, init.name, raw, error))
      return false;
    appendBytesField(graph, 5, encodeTensorProto(init.name, init.onnxDtype, init.shape, raw));
  }
  model.assign(bytesOf(*manifest.onnxHead));
  appendBytesField(model, 7, graph);
  return true;
}

} // namespace mpc::trainer
