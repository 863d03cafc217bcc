//===- Manifest.cpp - the trainer's manifest JSON and data blob -----------===//
#include "Manifest.h"

#include "TrainerPipeline.h"

#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Runtime/ManifestKeys.h"
#include "mpc/Train/TrainIR.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

using namespace mlir;
namespace json = llvm::json;
namespace key = mpc::manifest::key;

namespace mpc::compile {
namespace {
/// Offsets are multiples of 64 so that the runtime may use blob data in place
/// with any element type and vector width.
constexpr size_t kBlobAlignment = 64;

struct Blob {
  std::string bytes;
  json::Object add(StringRef data) {
    bytes.resize(llvm::alignTo(bytes.size(), kBlobAlignment), '\0');
    json::Object entry{{key::kOffset, int64_t(bytes.size())}, {key::kBytes, int64_t(data.size())}};
    bytes.append(data.begin(), data.end());
    return entry;
  }
};

std::string typeName(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  type.print(os);
  return text;
}

void appendLittleEndian(std::string &out, const APInt &bits) {
  unsigned bytes = (bits.getBitWidth() + 7) / 8;
  for (unsigned i = 0; i < bytes; ++i)
    out.push_back(char(bits.extractBitsAsZExtValue(std::min(8u, bits.getBitWidth() - 8 * i), 8 * i)));
}

/// The row-major little-endian bytes of `value` with `type`'s element type
/// (float values are converted, round to nearest even, when the parameter's
/// storage type differs from the argument's).
FailureOr<std::string> valueBytes(DenseElementsAttr value, RankedTensorType type) {
  Type from = value.getElementType(), to = type.getElementType();
  std::string out;
  if (from == to && to.isInteger(1)) {
    // Stored bit-packed; one byte per element in memory.
    for (bool element : value.getValues<bool>())
      out.push_back(char(element));
    return out;
  }
  if (from == to && to.isIntOrFloat()) {
    // DenseElementsAttr keeps elements little-endian at their byte width, a
    // splat as one element.
    ArrayRef<char> raw = value.getRawData();
    int64_t copies = value.isSplat() ? value.getNumElements() : 1;
    for (int64_t i = 0; i < copies; ++i)
      out.append(raw.begin(), raw.end());
    return out;
  }
  auto toFloat = dyn_cast<FloatType>(to);
  if (!toFloat || !isa<FloatType>(from))
    return failure();
  for (APFloat element : value.getValues<APFloat>()) {
    bool lost = false;
    element.convert(toFloat.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
    appendLittleEndian(out, element.bitcastToAPInt());
  }
  return out;
}

/// `init` (blob bytes) or `fill` (a constant) for state argument `index`;
/// with `external`, a parameter's value is `"external": true` (the runner
/// reads it from a weights file).
FailureOr<json::Object> initialValue(ModuleOp module, func::FuncOp func, unsigned index,
                                     Blob &blob, bool external) {
  auto type = dyn_cast<RankedTensorType>(func.getArgumentTypes()[index]);
  StringRef name = train::argName(func, index);
  auto fail = [&](const Twine &why) {
    func.emitError("state argument '") << name << "' of @" << func.getSymName() << " " << why;
    return failure();
  };
  if (!type || !type.hasStaticShape())
    return fail("is not a statically shaped tensor");
  if (auto ref = func.getArgAttrOfType<FlatSymbolRefAttr>(index, train::kParamRefAttr)) {
    auto parameter = module.lookupSymbol<ParameterOp>(ref);
    if (!parameter)
      return fail("refers to " + Twine(ref.getValue()) + ", which is not an mpc.parameter");
    auto value = dyn_cast<DenseElementsAttr>(parameter.getValue());
    if (!value || value.getType().getShape() != type.getShape())
      return fail("has type " + Twine(typeName(type)) + " but its parameter @" +
                  Twine(parameter.getSymName()) + " holds " + typeName(parameter.getValue().getType()));
    if (external)
      return json::Object{{key::kExternal, true}};
    FailureOr<std::string> bytes = valueBytes(value, type);
    if (failed(bytes))
      return fail("cannot be initialised from parameter @" + Twine(parameter.getSymName()) +
                  " of element type " + typeName(value.getElementType()));
    return json::Object{{key::kInit, blob.add(*bytes)}};
  }
  auto init = func.getArgAttrOfType<DenseElementsAttr>(index, train::kInitAttr);
  if (!init)
    return fail("has neither an mpc.param nor an mpc.init attribute, so it has no initial value");
  if (init.getType().getShape() != type.getShape() || init.getElementType() != type.getElementType())
    return fail("has type " + Twine(typeName(type)) + " but its mpc.init is " +
                typeName(init.getType()));
  if (!init.isSplat()) {
    FailureOr<std::string> bytes = valueBytes(init, type);
    if (failed(bytes))
      return fail("has an mpc.init that cannot be stored");
    return json::Object{{key::kInit, blob.add(*bytes)}};
  }
  if (isa<FloatType>(type.getElementType()))
    return json::Object{{key::kFill, init.getSplatValue<APFloat>().convertToDouble()}};
  APInt splat = init.getSplatValue<APInt>();
  return json::Object{
      {key::kFill, type.getElementType().isInteger(1) ? int64_t(splat.getZExtValue()) : splat.getSExtValue()}};
}

json::Object describe(StringRef name, StringRef role, Type type) {
  auto tensor = cast<RankedTensorType>(type);
  json::Array shape;
  for (int64_t dim : tensor.getShape())
    shape.push_back(dim);
  return json::Object{{key::kName, name},
                      {key::kRole, role},
                      {key::kDtype, typeName(tensor.getElementType())},
                      {key::kShape, std::move(shape)}};
}

bool isStateArgument(func::FuncOp func, unsigned index) {
  return train::isStateRole(train::argRole(func, index));
}

FailureOr<json::Object> describeFunction(ModuleOp module, func::FuncOp func, StringRef symbol,
                                         Blob &blob, llvm::StringMap<json::Object> &initialValues,
                                         bool external) {
  json::Array args, results;
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
    Type type = func.getArgumentTypes()[i];
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || !tensor.hasStaticShape())
      return func.emitError("argument '") << train::argName(func, i) << "' of @" << func.getSymName()
                                          << " must be a statically shaped tensor, not " << type;
    json::Object arg = describe(train::argName(func, i), train::argRole(func, i), type);
    if (isStateArgument(func, i)) {
      StringRef name = train::argName(func, i);
      auto known = initialValues.find(name);
      if (known == initialValues.end()) {
        FailureOr<json::Object> init = initialValue(module, func, i, blob, external);
        if (failed(init))
          return failure();
        known = initialValues.try_emplace(name, std::move(*init)).first;
      }
      for (auto &[key, value] : known->second)
        arg[key] = value;
    }
    args.push_back(std::move(arg));
  }
  for (unsigned i = 0, e = func.getNumResults(); i < e; ++i) {
    Type type = func.getResultTypes()[i];
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || !tensor.hasStaticShape())
      return func.emitError("result '") << train::resultName(func, i) << "' of @"
                                        << func.getSymName()
                                        << " must be a statically shaped tensor, not " << type;
    results.push_back(describe(train::resultName(func, i), train::resultRole(func, i), type));
  }
  return json::Object{
      {key::kSymbol, symbol}, {key::kArgs, std::move(args)}, {key::kResults, std::move(results)}};
}

json::Object describeOptimizer(const RunConfig &config) {
  json::Object optimizer{{key::kOptimizerName, config.optimizer},
                         {key::kLr, config.lr},
                         {key::kWeightDecay, config.weightDecay}};
  if (config.optimizer == "sgd") {
    optimizer[key::kMomentum] = config.momentum;
    optimizer[key::kNesterov] = config.nesterov;
  } else {
    optimizer[key::kBetas] = json::Array{config.beta1, config.beta2};
    optimizer[key::kEps] = config.eps;
  }
  return optimizer;
}
} // namespace

std::vector<std::string> parameterStateNames(ModuleOp module) {
  std::vector<std::string> names;
  auto train = module.lookupSymbol<func::FuncOp>(kTrainStep);
  if (!train)
    train = module.lookupSymbol<func::FuncOp>(kEvalStep);
  if (!train)
    return names;
  for (unsigned i = 0, e = train.getNumArguments(); i < e; ++i)
    if (isStateArgument(train, i))
      if (auto ref = train.getArgAttrOfType<FlatSymbolRefAttr>(i, train::kParamRefAttr))
        names.push_back(ref.getValue().str());
  return names;
}

std::optional<TrainerData> buildTrainerData(ModuleOp module, const RunConfig &config,
                                            const std::optional<OnnxPieces> &onnx) {
  Blob blob;
  llvm::StringMap<json::Object> initialValues;
  bool infer = config.mode == manifest::mode::kInfer;
  json::Object root{{key::kFormat, manifest::kFormatVersion},
                    {key::kMode, config.mode},
                    {key::kTarget, config.target},
                    {key::kModel, config.model},
                    {key::kBatch, config.batch},
                    {key::kPrecision, config.precision}};
  if (!infer) {
    auto train = module.lookupSymbol<func::FuncOp>(kTrainStep);
    FailureOr<json::Object> trainInfo =
        describeFunction(module, train, manifest::kTrainSymbol, blob, initialValues, config.externalWeights);
    if (failed(trainInfo))
      return std::nullopt;
    json::Object lossScale{{key::kMode, config.lossScaleMode}};
    if (config.lossScaleMode != manifest::scale_mode::kNone)
      lossScale[key::kScale] = config.lossScale;
    root[key::kLoss] = config.loss;
    root[key::kLabel] = config.label;
    root[key::kOptimizer] = describeOptimizer(config);
    root[key::kLossScale] = std::move(lossScale);
    root[key::kTrain] = std::move(*trainInfo);
  }
  root[key::kWeights] = config.externalWeights ? manifest::weights::kExternal : manifest::weights::kEmbedded;
  auto eval = module.lookupSymbol<func::FuncOp>(kEvalStep);
  FailureOr<json::Object> evalInfo = describeFunction(module, eval, manifest::kEvalSymbol, blob,
                                                      initialValues, config.externalWeights);
  if (failed(evalInfo))
    return std::nullopt;
  root[key::kEval] = std::move(*evalInfo);
  if (onnx) {
    json::Array initializers;
    for (const OnnxInitializer &init : onnx->initializers) {
      json::Array shape;
      for (int64_t dim : init.dims)
        shape.push_back(dim);
      initializers.push_back(json::Object{
          {key::kName, init.name}, {key::kOnnxDtype, init.dataType}, {key::kShape, std::move(shape)}});
    }
    json::Object pieces{{key::kInitializers, std::move(initializers)}};
    // An inference runner never writes the model back (--save), so it does
    // not carry the graph.
    if (!infer) {
      pieces[key::kHead] = blob.add(onnx->head);
      pieces[key::kGraph] = blob.add(onnx->graph);
    }
    root[key::kOnnx] = std::move(pieces);
  }
  TrainerData data;
  data.manifest = llvm::formatv("{0:2}", json::Value(std::move(root))).str();
  data.blob = std::move(blob.bytes);
  return data;
}

} // namespace mpc::compile
