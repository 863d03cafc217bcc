//===- Manifest.cpp - what the compiled model says about itself -----------===//
#include "mpc/Trainer/Manifest.h"

#include "mpc/Runtime/ManifestKeys.h"
#include "mpc/Trainer/Json.h"

#include <algorithm>
#include <cstdio>

namespace mpc::trainer {
using runtime::ElementKind;
namespace key = manifest::key;
namespace role = manifest::role;

bool TensorDesc::isState() const { return role::isState(role); }

int64_t TensorDesc::numElements() const {
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  return count;
}

int Signature::argIndex(std::string_view name) const {
  for (size_t i = 0; i < args.size(); ++i)
    if (args[i].name == name)
      return static_cast<int>(i);
  return -1;
}

int Signature::resultIndex(std::string_view name) const {
  for (size_t i = 0; i < results.size(); ++i)
    if (results[i].name == name)
      return static_cast<int>(i);
  return -1;
}

int Signature::resultIndexOfRole(std::string_view role) const {
  for (size_t i = 0; i < results.size(); ++i)
    if (results[i].role == role)
      return static_cast<int>(i);
  return -1;
}

const TensorDesc *Manifest::lossOutput() const {
  for (const TensorDesc &result : train.results)
    if (result.role == role::kOutput && (output.empty() || result.name == output))
      return &result;
  return nullptr;
}

bool Manifest::isInference() const { return mode == manifest::mode::kInfer; }

const Signature &Manifest::stateSignature() const { return isInference() ? *eval : train; }

std::optional<ElementKind> elementKindNamed(std::string_view name) {
  for (ElementKind kind : {ElementKind::F64, ElementKind::F32, ElementKind::F16, ElementKind::BF16,
                           ElementKind::F8E4M3FN, ElementKind::F8E5M2, ElementKind::I64,
                           ElementKind::I32, ElementKind::I8, ElementKind::U8, ElementKind::Bool,
                           ElementKind::I16, ElementKind::U16, ElementKind::U32, ElementKind::U64})
    if (runtime::elementName(kind) == name)
      return kind;
  return std::nullopt;
}

std::string fingerprintOf(std::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

namespace {
/// `value` with the members of every object sorted by key.
Json sortedMembers(const Json &value) {
  if (value.isArray()) {
    Json sorted = Json::array();
    for (const Json &item : value.items())
      sorted.push(sortedMembers(item));
    return sorted;
  }
  if (!value.isObject())
    return value;
  std::vector<const std::pair<std::string, Json> *> members;
  for (const auto &member : value.members())
    members.push_back(&member);
  // Ties (never within one parsed object) keep their order.
  std::sort(members.begin(), members.end(), [](const auto *a, const auto *b) {
    return a->first < b->first || (a->first == b->first && a < b);
  });
  Json sorted = Json::object();
  for (const auto *member : members)
    sorted.set(member->first, sortedMembers(member->second));
  return sorted;
}

// Each reader returns false with `error` naming the manifest path at fault.
struct Reader {
  std::string &error;
  uint64_t blobSize;

  bool fail(const std::string &where, const std::string &what) {
    error = "the compiled model's manifest is malformed: " + where + " " + what +
            " (rebuild the trainer with mpc-compile)";
    return false;
  }

  bool string(const Json &object, const char *name, const std::string &where, std::string &out,
              bool required = true) {
    const Json *value = object.find(name);
    if (!value)
      return required ? fail(where, std::string("has no \"") + name + "\"") : true;
    if (!value->isString())
      return fail(where + "." + name, "is not a string");
    out = value->asString();
    return true;
  }

  bool integer(const Json &object, const char *name, const std::string &where, int64_t &out) {
    const Json *value = object.find(name);
    if (!value || !value->isInteger() || value->asInteger() < 0)
      return fail(where + "." + name, "is missing or not a non-negative integer");
    out = value->asInteger();
    return true;
  }

  bool range(const Json &object, const char *name, const std::string &where,
             std::optional<BlobRange> &out) {
    const Json *value = object.find(name);
    if (!value)
      return true;
    int64_t offset, bytes;
    if (!value->isObject() || !integer(*value, key::kOffset, where + "." + name, offset) ||
        !integer(*value, key::kBytes, where + "." + name, bytes))
      return fail(where + "." + name, std::string("is not {\"") + key::kOffset + "\": N, \"" +
                                          key::kBytes + "\": N}");
    if (static_cast<uint64_t>(offset) > blobSize ||
        static_cast<uint64_t>(bytes) > blobSize - static_cast<uint64_t>(offset))
      return fail(where + "." + name, "lies outside the blob of " + std::to_string(blobSize) + " bytes");
    out = BlobRange{static_cast<uint64_t>(offset), static_cast<uint64_t>(bytes)};
    return true;
  }

  bool shape(const Json &object, const std::string &where, std::vector<int64_t> &out) {
    const Json *value = object.find(key::kShape);
    if (!value || !value->isArray())
      return fail(where, std::string("has no \"") + key::kShape + "\" array");
    for (const Json &d : value->items()) {
      if (!d.isInteger() || d.asInteger() < 0)
        return fail(where + "." + key::kShape, "holds a dimension that is not a non-negative integer");
      out.push_back(d.asInteger());
    }
    return true;
  }

  bool tensor(const Json &json, const std::string &where, TensorDesc &desc) {
    if (!json.isObject())
      return fail(where, "is not an object");
    std::string dtype;
    if (!string(json, key::kName, where, desc.name) || !string(json, key::kRole, where, desc.role) ||
        !string(json, key::kDtype, where, dtype) || !shape(json, where, desc.shape))
      return false;
    std::optional<ElementKind> kind = elementKindNamed(dtype);
    if (!kind)
      return fail(where + "." + key::kDtype, "names no known element type: '" + dtype + "'");
    desc.kind = *kind;
    if (!range(json, key::kInit, where, desc.init))
      return false;
    if (desc.init && desc.init->bytes != desc.numElements() * runtime::elementSize(desc.kind))
      return fail(where + "." + key::kInit, "does not hold " + std::to_string(desc.numElements()) +
                                                " elements of " + dtype);
    if (const Json *fill = json.find(key::kFill)) {
      if (!fill->isNumber())
        return fail(where + "." + key::kFill, "is not a number");
      desc.fill = fill->asNumber();
    }
    if (const Json *external = json.find(key::kExternal)) {
      if (!external->isBool())
        return fail(where + "." + key::kExternal, "is not a boolean");
      desc.external = external->asBool();
      if (desc.external && (desc.init || json.find(key::kFill)))
        return fail(where, std::string("is \"") + key::kExternal + "\" and has an initial value");
    }
    return true;
  }

  bool tensors(const Json &json, const char *name, const std::string &where,
               std::vector<TensorDesc> &out) {
    const Json *list = json.find(name);
    if (!list || !list->isArray())
      return fail(where, std::string("has no \"") + name + "\" array");
    for (size_t i = 0; i < list->items().size(); ++i) {
      out.emplace_back();
      if (!tensor(list->items()[i], where + "." + name + "[" + std::to_string(i) + "]", out.back()))
        return false;
    }
    return true;
  }

  bool signature(const Json &json, const std::string &where, Signature &out) {
    if (!json.isObject())
      return fail(where, "is not an object");
    return string(json, key::kSymbol, where, out.symbol) &&
           tensors(json, key::kArgs, where, out.args) &&
           tensors(json, key::kResults, where, out.results);
  }

  bool onnx(const Json &json, Manifest &manifest) {
    const std::string onnx = key::kOnnx;
    if (!json.isObject() || !range(json, key::kHead, onnx, manifest.onnxHead) ||
        !range(json, key::kGraph, onnx, manifest.onnxGraph))
      return fail(onnx, std::string("is not an object with \"") + key::kHead + "\" and \"" +
                            key::kGraph + "\" ranges");
    if (bool(manifest.onnxHead) != bool(manifest.onnxGraph))
      return fail(onnx, std::string("needs both \"") + key::kHead + "\" and \"" + key::kGraph +
                            "\" or neither");
    const Json *list = json.find(key::kInitializers);
    if (!list || !list->isArray())
      return fail(onnx, std::string("has no \"") + key::kInitializers + "\" array");
    for (size_t i = 0; i < list->items().size(); ++i) {
      const Json &item = list->items()[i];
      std::string where = onnx + "." + key::kInitializers + "[" + std::to_string(i) + "]";
      OnnxInitializer init;
      if (!item.isObject() || !string(item, key::kName, where, init.name) ||
          !integer(item, key::kOnnxDtype, where, init.onnxDtype) || !shape(item, where, init.shape))
        return fail(where, std::string("is not {") + key::kName + ", " + key::kOnnxDtype + ", " +
                               key::kShape + "}");
      manifest.initializers.push_back(std::move(init));
    }
    return true;
  }
};

// The label shapes of docs/training.md, "Semantics": the eval metrics and
// the label range check index the data by them.
bool checkLossShapes(const Manifest &manifest, const TensorDesc &label, const TensorDesc &output,
                     Reader &reader) {
  if (manifest.loss == manifest::loss::kCrossEntropy) {
    std::vector<int64_t> expected(output.shape.begin(), output.shape.end() - (output.shape.empty() ? 0 : 1));
    if (output.shape.size() < 2 || label.kind != ElementKind::I64 || label.shape != expected)
      return reader.fail(key::kLabel, "'" + label.name + "' must be i64 shaped like the logits '" +
                                          output.name +
                                          "' without their last (class) axis, which a batched output needs");
  } else if (label.shape != output.shape || output.kind == ElementKind::I64 || label.kind == ElementKind::I64) {
    return reader.fail(key::kLabel, "'" + label.name + "' must be a float tensor of the shape of output '" +
                                        output.name + "' for " + manifest::loss::kMse);
  }
  return true;
}

/// "has no rank-0 f32 result with role 'loss'".
std::string noScalarResult(const char *dtype, const char *role) {
  return std::string("has no rank-0 ") + dtype + " result with role '" + role + "'";
}

// The contract of docs/training.md that the trainer relies on.
bool checkTrainSignature(const Manifest &manifest, Reader &reader) {
  const Signature &train = manifest.train;
  for (const TensorDesc &arg : train.args) {
    if (arg.isState()) {
      int result = train.resultIndex(arg.name);
      if (result < 0 || train.results[result].role != arg.role ||
          train.results[result].kind != arg.kind || train.results[result].shape != arg.shape)
        return reader.fail(key::kTrain, "state argument '" + arg.name +
                                            "' has no result of the same name, role, dtype and shape");
    } else if (arg.role == role::kInput || arg.role == role::kLabel) {
      if (arg.shape.empty() || arg.shape[0] != manifest.batch)
        return reader.fail(key::kTrain, "argument '" + arg.name + "' does not have the batch size " +
                                            std::to_string(manifest.batch) + " as its first dimension");
    } else {
      return reader.fail(key::kTrain, "argument '" + arg.name + "' has unknown role '" + arg.role + "'");
    }
  }
  int loss = train.resultIndexOfRole(role::kLoss), finite = train.resultIndexOfRole(role::kFinite);
  if (loss < 0 || train.results[loss].kind != ElementKind::F32 || !train.results[loss].shape.empty())
    return reader.fail(key::kTrain, noScalarResult("f32", role::kLoss));
  if (finite < 0 || train.results[finite].kind != ElementKind::Bool ||
      !train.results[finite].shape.empty())
    return reader.fail(key::kTrain, noScalarResult("i1", role::kFinite));
  int label = train.argIndex(manifest.label);
  if (label < 0 || train.args[label].role != role::kLabel)
    return reader.fail(key::kLabel, std::string("names no train argument with role '") + role::kLabel +
                                        "': '" + manifest.label + "'");
  const TensorDesc *output = manifest.lossOutput();
  if (!output)
    return reader.fail(key::kTrain,
                       std::string("has no result with role '") + role::kOutput + "' for the loss");
  return checkLossShapes(manifest, train.args[label], *output, reader);
}

bool checkEvalSignature(const Manifest &manifest, Reader &reader) {
  const Signature &eval = *manifest.eval;
  for (const TensorDesc &arg : eval.args) {
    int trainArg = manifest.train.argIndex(arg.name);
    bool matches = trainArg >= 0 && manifest.train.args[trainArg].kind == arg.kind &&
                   manifest.train.args[trainArg].shape == arg.shape &&
                   (arg.isState() || arg.role == role::kInput);
    if (!matches)
      return reader.fail(key::kEval, "argument '" + arg.name +
                                         "' is not a state or input argument of train with the same "
                                         "dtype and shape");
  }
  if (eval.resultIndex(manifest.lossOutput()->name) < 0)
    return reader.fail(key::kEval, "has no result named '" + manifest.lossOutput()->name + "'");
  return true;
}

/// The root's scalars.
bool readScalars(const Json &json, Reader &reader, Manifest &manifest) {
  const std::string where = "manifest";
  if (!reader.integer(json, key::kFormat, where, manifest.format) ||
      !reader.integer(json, key::kBatch, where, manifest.batch) ||
      !reader.string(json, key::kMode, where, manifest.mode, false) ||
      !reader.string(json, key::kTarget, where, manifest.target, false) ||
      !reader.string(json, key::kModel, where, manifest.model, false) ||
      !reader.string(json, key::kPrecision, where, manifest.precision, false))
    return false;
  if (manifest.format != manifest::kFormatVersion)
    return reader.fail(key::kFormat, "is " + std::to_string(manifest.format) + "; this trainer reads " +
                                         std::to_string(manifest::kFormatVersion));
  if (manifest.mode != manifest::mode::kTrain && manifest.mode != manifest::mode::kInfer)
    return reader.fail(key::kMode, "is '" + manifest.mode + "', not " + manifest::mode::kTrain + " or " +
                                       manifest::mode::kInfer);
  if (!reader.string(json, key::kWeights, where, manifest.weights, false))
    return false;
  if (manifest.weights != manifest::weights::kEmbedded && manifest.weights != manifest::weights::kExternal)
    return reader.fail(key::kWeights, "is '" + manifest.weights + "', not " + manifest::weights::kEmbedded +
                                          " or " + manifest::weights::kExternal);
  // Inputs need not be batched (a batch of 0: no input has a leading dim).
  if (manifest.isInference())
    return true;
  if (!reader.string(json, key::kLoss, where, manifest.loss) ||
      !reader.string(json, key::kLabel, where, manifest.label) ||
      !reader.string(json, key::kOutput, where, manifest.output, false))
    return false;
  if (manifest.batch < 1)
    return reader.fail(key::kBatch, "is not positive");
  if (manifest.loss != manifest::loss::kCrossEntropy && manifest.loss != manifest::loss::kMse)
    return reader.fail(key::kLoss, "is '" + manifest.loss + "', not " + manifest::loss::kCrossEntropy +
                                       " or " + manifest::loss::kMse);
  if (const Json *scale = json.find(key::kLossScale); scale && scale->isObject()) {
    if (!reader.string(*scale, key::kMode, key::kLossScale, manifest.lossScaleMode))
      return false;
    if (const Json *value = scale->find(key::kScale); value && value->isNumber())
      manifest.staticLossScale = value->asNumber();
  }
  if (const Json *optimizer = json.find(key::kOptimizer))
    manifest.optimizer = writeJson(sortedMembers(*optimizer));
  return true;
}

// The inference contract: eval takes state and inputs, returns outputs; a
// state argument has one initial value (blob, fill or external).
bool checkInferenceSignature(const Manifest &manifest, Reader &reader) {
  const Signature &eval = *manifest.eval;
  for (const TensorDesc &arg : eval.args) {
    if (!arg.isState() && arg.role != role::kInput)
      return reader.fail(key::kEval, "argument '" + arg.name + "' has role '" + arg.role +
                                         "', not a state role or '" + role::kInput + "'");
    if (!arg.isState() && arg.external)
      return reader.fail(key::kEval, "input '" + arg.name + "' is marked external");
  }
  for (const TensorDesc &result : eval.results)
    if (result.role != role::kOutput)
      return reader.fail(key::kEval, "result '" + result.name + "' has role '" + result.role + "', not '" +
                                         role::kOutput + "'");
  return true;
}
} // namespace

bool parseManifest(std::string_view text, uint64_t blobSize, Manifest &manifest, std::string &error) {
  Json json;
  if (!parseJson(text, json, error)) {
    error = "the compiled model's manifest is not JSON: " + error;
    return false;
  }
  Reader reader{error, blobSize};
  if (!json.isObject())
    return reader.fail("the manifest", "is not an object");
  manifest.fingerprint = fingerprintOf(text);
  if (!readScalars(json, reader, manifest))
    return false;
  if (manifest.isInference()) {
    const Json *eval = json.find(key::kEval);
    if (!eval)
      return reader.fail("the manifest", std::string("has no \"") + key::kEval + "\"");
    manifest.eval.emplace();
    if (!reader.signature(*eval, key::kEval, *manifest.eval) || !checkInferenceSignature(manifest, reader))
      return false;
  } else {
    const Json *train = json.find(key::kTrain);
    if (!train || !reader.signature(*train, key::kTrain, manifest.train) ||
        !checkTrainSignature(manifest, reader))
      return train ? false
                   : reader.fail("the manifest", std::string("has no \"") + key::kTrain + "\"");
    // A weights file holds the model's parameters and buffers only.
    for (const TensorDesc &arg : manifest.train.args)
      if (arg.external && arg.role != role::kParam && arg.role != role::kBuffer)
        return reader.fail(key::kTrain, "'" + arg.name + "' (" + arg.role + ") is external, which only " +
                                            role::kParam + " and " + role::kBuffer + " state may be");
    if (const Json *eval = json.find(key::kEval)) {
      manifest.eval.emplace();
      if (!reader.signature(*eval, key::kEval, *manifest.eval) || !checkEvalSignature(manifest, reader))
        return false;
    }
  }
  if (const Json *onnx = json.find(key::kOnnx); onnx && !reader.onnx(*onnx, manifest))
    return false;
  const Signature &stateSignature = manifest.stateSignature();
  for (const OnnxInitializer &init : manifest.initializers) {
    int arg = stateSignature.argIndex(init.name);
    if (arg < 0 || !stateSignature.args[arg].isState() || stateSignature.args[arg].shape != init.shape)
      return reader.fail(std::string(key::kOnnx) + "." + key::kInitializers,
                         "names '" + init.name + "', which is no state tensor of that shape");
  }
  return true;
}

} // namespace mpc::trainer
