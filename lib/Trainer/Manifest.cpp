//===- Manifest.cpp - what the compiled model says about itself -----------===//
#include "mpc/Trainer/Manifest.h"

#include "mpc/Trainer/Json.h"

#include <cstdio>

namespace mpc::trainer {
using runtime::ElementKind;

bool TensorDesc::isState() const {
  return role == "param" || role == "buffer" || role == "opt" || role == "scaler";
}

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
    if (result.role == "output" && (output.empty() || result.name == output))
      return &result;
  return nullptr;
}

std::optional<ElementKind> elementKindNamed(std::string_view name) {
  for (ElementKind kind : {ElementKind::F64, ElementKind::F32, ElementKind::F16, ElementKind::BF16,
                           ElementKind::F8E4M3FN, ElementKind::F8E5M2, ElementKind::I64,
                           ElementKind::I32, ElementKind::I8, ElementKind::U8, ElementKind::Bool})
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
// Each reader returns false with `error` naming the manifest path at fault.
struct Reader {
  std::string &error;
  uint64_t blobSize;

  bool fail(const std::string &where, const std::string &what) {
    error = "the compiled model's manifest is malformed: " + where + " " + what +
            " (rebuild the trainer with mpc-compile)";
    return false;
  }

  bool string(const Json &object, const char *key, const std::string &where, std::string &out,
              bool required = true) {
    const Json *value = object.find(key);
    if (!value)
      return required ? fail(where, std::string("has no \"") + key + "\"") : true;
    if (!value->isString())
      return fail(where + "." + key, "is not a string");
    out = value->asString();
    return true;
  }

  bool integer(const Json &object, const char *key, const std::string &where, int64_t &out) {
    const Json *value = object.find(key);
    if (!value || !value->isInteger() || value->asInteger() < 0)
      return fail(where + "." + key, "is missing or not a non-negative integer");
    out = value->asInteger();
    return true;
  }

  bool range(const Json &object, const char *key, const std::string &where,
             std::optional<BlobRange> &out) {
    const Json *value = object.find(key);
    if (!value)
      return true;
    int64_t offset, bytes;
    if (!value->isObject() || !integer(*value, "offset", where + "." + key, offset) ||
        !integer(*value, "bytes", where + "." + key, bytes))
      return fail(where + "." + key, "is not {\"offset\": N, \"bytes\": N}");
    if (static_cast<uint64_t>(offset) > blobSize ||
        static_cast<uint64_t>(bytes) > blobSize - static_cast<uint64_t>(offset))
      return fail(where + "." + key, "lies outside the blob of " + std::to_string(blobSize) + " bytes");
    out = BlobRange{static_cast<uint64_t>(offset), static_cast<uint64_t>(bytes)};
    return true;
  }

  bool shape(const Json &object, const std::string &where, std::vector<int64_t> &out) {
    const Json *value = object.find("shape");
    if (!value || !value->isArray())
      return fail(where, "has no \"shape\" array");
    for (const Json &d : value->items()) {
      if (!d.isInteger() || d.asInteger() < 0)
        return fail(where + ".shape", "holds a dimension that is not a non-negative integer");
      out.push_back(d.asInteger());
    }
    return true;
  }

  bool tensor(const Json &json, const std::string &where, TensorDesc &desc) {
    if (!json.isObject())
      return fail(where, "is not an object");
    std::string dtype;
    if (!string(json, "name", where, desc.name) || !string(json, "role", where, desc.role) ||
        !string(json, "dtype", where, dtype) || !shape(json, where, desc.shape))
      return false;
    std::optional<ElementKind> kind = elementKindNamed(dtype);
    if (!kind)
      return fail(where + ".dtype", "names no known element type: '" + dtype + "'");
    desc.kind = *kind;
    if (!range(json, "init", where, desc.init))
      return false;
    if (desc.init && desc.init->bytes != desc.numElements() * runtime::elementSize(desc.kind))
      return fail(where + ".init", "does not hold " + std::to_string(desc.numElements()) +
                                       " elements of " + dtype);
    if (const Json *fill = json.find("fill")) {
      if (!fill->isNumber())
        return fail(where + ".fill", "is not a number");
      desc.fill = fill->asNumber();
    }
    return true;
  }

  bool tensors(const Json &json, const char *key, const std::string &where,
               std::vector<TensorDesc> &out) {
    const Json *list = json.find(key);
    if (!list || !list->isArray())
      return fail(where, std::string("has no \"") + key + "\" array");
    for (size_t i = 0; i < list->items().size(); ++i) {
      out.emplace_back();
      if (!tensor(list->items()[i], where + "." + key + "[" + std::to_string(i) + "]", out.back()))
        return false;
    }
    return true;
  }

  bool signature(const Json &json, const std::string &where, Signature &out) {
    if (!json.isObject())
      return fail(where, "is not an object");
    return string(json, "symbol", where, out.symbol) && tensors(json, "args", where, out.args) &&
           tensors(json, "results", where, out.results);
  }

  bool onnx(const Json &json, Manifest &manifest) {
    if (!json.isObject() || !range(json, "head", "onnx", manifest.onnxHead) ||
        !range(json, "graph", "onnx", manifest.onnxGraph))
      return fail("onnx", "is not an object with \"head\" and \"graph\" ranges");
    if (!manifest.onnxHead || !manifest.onnxGraph)
      return fail("onnx", "needs both \"head\" and \"graph\"");
    const Json *list = json.find("initializers");
    if (!list || !list->isArray())
      return fail("onnx", "has no \"initializers\" array");
    for (size_t i = 0; i < list->items().size(); ++i) {
      const Json &item = list->items()[i];
      std::string where = "onnx.initializers[" + std::to_string(i) + "]";
      OnnxInitializer init;
      if (!item.isObject() || !string(item, "name", where, init.name) ||
          !integer(item, "onnx_dtype", where, init.onnxDtype) || !shape(item, where, init.shape))
        return fail(where, "is not {name, onnx_dtype, shape}");
      manifest.initializers.push_back(std::move(init));
    }
    return true;
  }
};

// The label shapes of docs/training.md, "Semantics": the eval metrics and
// the label range check index the data by them.
bool checkLossShapes(const Manifest &manifest, const TensorDesc &label, const TensorDesc &output,
                     Reader &reader) {
  if (manifest.loss == "cross_entropy") {
    std::vector<int64_t> expected(output.shape.begin(), output.shape.end() - (output.shape.empty() ? 0 : 1));
    if (output.shape.size() < 2 || label.kind != ElementKind::I64 || label.shape != expected)
      return reader.fail("label", "'" + label.name + "' must be i64 shaped like the logits '" + output.name +
                                      "' without their last (class) axis, which a batched output needs");
  } else if (label.shape != output.shape || output.kind == ElementKind::I64 || label.kind == ElementKind::I64) {
    return reader.fail("label", "'" + label.name + "' must be a float tensor of the shape of output '" +
                                    output.name + "' for mse");
  }
  return true;
}

// The contract of docs/training.md that the trainer relies on.
bool checkTrainSignature(const Manifest &manifest, Reader &reader) {
  const Signature &train = manifest.train;
  for (const TensorDesc &arg : train.args) {
    if (arg.isState()) {
      int result = train.resultIndex(arg.name);
      if (result < 0 || train.results[result].role != arg.role ||
          train.results[result].kind != arg.kind || train.results[result].shape != arg.shape)
        return reader.fail("train", "state argument '" + arg.name +
                                        "' has no result of the same name, role, dtype and shape");
    } else if (arg.role == "input" || arg.role == "label") {
      if (arg.shape.empty() || arg.shape[0] != manifest.batch)
        return reader.fail("train", "argument '" + arg.name + "' does not have the batch size " +
                                        std::to_string(manifest.batch) + " as its first dimension");
    } else {
      return reader.fail("train", "argument '" + arg.name + "' has unknown role '" + arg.role + "'");
    }
  }
  int loss = train.resultIndexOfRole("loss"), finite = train.resultIndexOfRole("finite");
  if (loss < 0 || train.results[loss].kind != ElementKind::F32 || !train.results[loss].shape.empty())
    return reader.fail("train", "has no rank-0 f32 result with role 'loss'");
  if (finite < 0 || train.results[finite].kind != ElementKind::Bool ||
      !train.results[finite].shape.empty())
    return reader.fail("train", "has no rank-0 i1 result with role 'finite'");
  int label = train.argIndex(manifest.label);
  if (label < 0 || train.args[label].role != "label")
    return reader.fail("label", "names no train argument with role 'label': '" + manifest.label + "'");
  const TensorDesc *output = manifest.lossOutput();
  if (!output)
    return reader.fail("train", "has no result with role 'output' for the loss");
  return checkLossShapes(manifest, train.args[label], *output, reader);
}

bool checkEvalSignature(const Manifest &manifest, Reader &reader) {
  const Signature &eval = *manifest.eval;
  for (const TensorDesc &arg : eval.args) {
    int trainArg = manifest.train.argIndex(arg.name);
    bool matches = trainArg >= 0 && manifest.train.args[trainArg].kind == arg.kind &&
                   manifest.train.args[trainArg].shape == arg.shape &&
                   (arg.isState() || arg.role == "input");
    if (!matches)
      return reader.fail("eval", "argument '" + arg.name +
                                     "' is not a state or input argument of train with the same "
                                     "dtype and shape");
  }
  if (eval.resultIndex(manifest.lossOutput()->name) < 0)
    return reader.fail("eval", "has no result named '" + manifest.lossOutput()->name + "'");
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
  if (!reader.integer(json, "format", "manifest", manifest.format) ||
      !reader.integer(json, "batch", "manifest", manifest.batch) ||
      !reader.string(json, "loss", "manifest", manifest.loss) ||
      !reader.string(json, "label", "manifest", manifest.label) ||
      !reader.string(json, "model", "manifest", manifest.model, false) ||
      !reader.string(json, "precision", "manifest", manifest.precision, false) ||
      !reader.string(json, "output", "manifest", manifest.output, false))
    return false;
  if (manifest.format != 1)
    return reader.fail("format", "is " + std::to_string(manifest.format) + "; this trainer reads 1");
  if (manifest.batch < 1)
    return reader.fail("batch", "is not positive");
  if (manifest.loss != "cross_entropy" && manifest.loss != "mse")
    return reader.fail("loss", "is '" + manifest.loss + "', not cross_entropy or mse");
  if (const Json *scale = json.find("loss_scale"); scale && scale->isObject()) {
    if (!reader.string(*scale, "mode", "loss_scale", manifest.lossScaleMode))
      return false;
    if (const Json *value = scale->find("scale"); value && value->isNumber())
      manifest.staticLossScale = value->asNumber();
  }
  const Json *train = json.find("train");
  if (!train || !reader.signature(*train, "train", manifest.train) ||
      !checkTrainSignature(manifest, reader))
    return train ? false : reader.fail("the manifest", "has no \"train\"");
  if (const Json *eval = json.find("eval")) {
    manifest.eval.emplace();
    if (!reader.signature(*eval, "eval", *manifest.eval) || !checkEvalSignature(manifest, reader))
      return false;
  }
  if (const Json *onnx = json.find("onnx"); onnx && !reader.onnx(*onnx, manifest))
    return false;
  for (const OnnxInitializer &init : manifest.initializers) {
    int arg = manifest.train.argIndex(init.name);
    if (arg < 0 || !manifest.train.args[arg].isState() || manifest.train.args[arg].shape != init.shape)
      return reader.fail("onnx.initializers", "names '" + init.name +
                                                  "', which is no state tensor of that shape");
  }
  return true;
}

} // namespace mpc::trainer
