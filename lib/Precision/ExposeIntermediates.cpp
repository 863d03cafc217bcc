//===- ExposeIntermediates.cpp - mpc-expose-intermediates -----------------===//
//
// Returns every named intermediate of @main, cast to f32, with a record of
// where it comes from on the result; and reads the records back.
//
//===----------------------------------------------------------------------===//
#include "mpc/Precision/ExposedIntermediates.h"

#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Precision/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"

namespace mpc {
#define GEN_PASS_DEF_EXPOSEINTERMEDIATESPASS
#include "mpc/Precision/Passes.h.inc"
} // namespace mpc

using namespace mlir;
using namespace mpc;

namespace {

/// The exposed values `op` reads, looking through casts.
SmallVector<int64_t> producersOf(Operation *op, const DenseMap<Value, int64_t> &indexOf) {
  SmallVector<int64_t> producers;
  for (Value operand : op->getOperands()) {
    while (auto cast = operand.getDefiningOp<CastOp>())
      operand = cast.getInput();
    if (auto it = indexOf.find(operand); it != indexOf.end())
      producers.push_back(it->second);
  }
  return producers;
}

/// The result of `returned` that is `value` as `exposedType` (the value
/// itself or its cast), if any.
std::optional<unsigned> findReturned(ArrayRef<Value> returned, Value value, Type exposedType) {
  for (auto [i, candidate] : llvm::enumerate(returned)) {
    if (auto cast = candidate.getDefiningOp<CastOp>())
      if (cast.getType() == exposedType && cast.getInput() == value)
        return i;
    if (candidate == value && candidate.getType() == exposedType)
      return i;
  }
  return std::nullopt;
}

DictionaryAttr withAttr(DictionaryAttr attrs, StringRef name, Attribute value) {
  NamedAttrList list(attrs ? attrs.getValue() : ArrayRef<NamedAttribute>());
  list.set(name, value);
  return list.getDictionary(value.getContext());
}

void exposeIntermediates(func::FuncOp func) {
  Operation *ret = func.getBody().back().getTerminator();
  OpBuilder builder(ret);
  SmallVector<Value> values(ret->getOperands());
  SmallVector<DictionaryAttr> resultAttrs;
  for (unsigned i = 0, e = func.getNumResults(); i < e; ++i)
    resultAttrs.push_back(func.getResultAttrDict(i));
  DenseMap<Value, int64_t> indexOf;
  func.walk([&](Operation *op) {
    if (isa<CastOp>(op) || op->getNumOperands() == 0)
      return;
    auto node = op->getAttrOfType<StringAttr>(kNodeNameAttr);
    if (!node)
      return;
    SmallVector<int64_t> producers = producersOf(op, indexOf);
    for (OpResult result : op->getResults()) {
      auto tensor = dyn_cast<RankedTensorType>(result.getType());
      if (!tensor || !isa<FloatType>(tensor.getElementType()))
        continue;
      Type exposedType = tensor.clone(builder.getF32Type());
      std::optional<unsigned> index = findReturned(values, result, exposedType);
      if (!index) {
        Value exposed = result;
        if (tensor != exposedType)
          exposed = CastOp::create(builder, op->getLoc(), exposedType, result);
        index = values.size();
        values.push_back(exposed);
        resultAttrs.push_back(DictionaryAttr());
      }
      auto record = builder.getDictionaryAttr({
          builder.getNamedAttr("index", builder.getI64IntegerAttr(indexOf.size())),
          builder.getNamedAttr("node", node),
          builder.getNamedAttr("op", builder.getStringAttr(op->getName().getStringRef())),
          builder.getNamedAttr("result", builder.getI64IntegerAttr(result.getResultNumber())),
          builder.getNamedAttr("type", TypeAttr::get(tensor.getElementType())),
          builder.getNamedAttr("producers", builder.getDenseI64ArrayAttr(producers)),
      });
      resultAttrs[*index] = withAttr(resultAttrs[*index], kIntermediateAttr, record);
      indexOf.try_emplace(result, indexOf.size());
    }
  });
  ret->setOperands(values);
  func.setFunctionType(
      builder.getFunctionType(func.getArgumentTypes(), ValueRange(values).getTypes()));
  func.setAllResultAttrs(resultAttrs);
}

struct ExposeIntermediatesPass : mpc::impl::ExposeIntermediatesPassBase<ExposeIntermediatesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>("main");
    if (!func || func.isExternal()) {
      module.emitError("mpc-expose-intermediates: the module has no @main function");
      return signalPassFailure();
    }
    if (!func.getBody().hasOneBlock()) {
      func.emitError("mpc-expose-intermediates: @main must have a single block");
      return signalPassFailure();
    }
    for (unsigned i = 0, e = func.getNumResults(); i < e; ++i)
      if (func.getResultAttr(i, kIntermediateAttr)) {
        func.emitError() << "mpc-expose-intermediates: result #" << i << " of @main already has "
                         << kIntermediateAttr << "; run the pass once";
        return signalPassFailure();
      }
    exposeIntermediates(func);
  }
};

/// `record` as an ExposedIntermediate returned by result `functionResult`;
/// none when a field is missing or of the wrong kind.
std::optional<ExposedIntermediate> readRecord(DictionaryAttr record, unsigned functionResult,
                                              int64_t &index) {
  auto indexAttr = record.getAs<IntegerAttr>("index");
  auto node = record.getAs<StringAttr>("node");
  auto op = record.getAs<StringAttr>("op");
  auto result = record.getAs<IntegerAttr>("result");
  auto type = record.getAs<TypeAttr>("type");
  auto producers = record.getAs<DenseI64ArrayAttr>("producers");
  if (!indexAttr || !node || !op || !result || !type || !producers || result.getInt() < 0)
    return std::nullopt;
  index = indexAttr.getInt();
  ExposedIntermediate value{node.str(), op.str(), "", static_cast<unsigned>(result.getInt()),
                            functionResult, {}};
  llvm::raw_string_ostream(value.precision) << type.getValue();
  for (int64_t producer : producers.asArrayRef())
    value.producers.push_back(producer);
  return value;
}

} // namespace

FailureOr<std::vector<ExposedIntermediate>> mpc::readExposedIntermediates(func::FuncOp func) {
  std::vector<std::optional<ExposedIntermediate>> byIndex(func.getNumResults());
  size_t count = 0;
  for (unsigned i = 0, e = func.getNumResults(); i < e; ++i) {
    auto record = func.getResultAttrOfType<DictionaryAttr>(i, kIntermediateAttr);
    if (!record)
      continue;
    int64_t index = -1;
    std::optional<ExposedIntermediate> value = readRecord(record, i, index);
    if (!value || index < 0 || index >= static_cast<int64_t>(e) || byIndex[index])
      return func.emitError() << "result #" << i << " has a malformed " << kIntermediateAttr
                              << " record (mpc-expose-intermediates writes them)";
    byIndex[index] = std::move(value);
    ++count;
  }
  std::vector<ExposedIntermediate> values;
  for (size_t index = 0; index < count; ++index) {
    if (!byIndex[index])
      return func.emitError() << kIntermediateAttr << " records skip index " << index
                              << " (mpc-expose-intermediates numbers them from 0)";
    values.push_back(std::move(*byIndex[index]));
  }
  for (const ExposedIntermediate &value : values)
    if (llvm::any_of(value.producers, [&](size_t producer) { return producer >= count; }))
      return func.emitError() << kIntermediateAttr << " of node '" << value.node
                              << "' names a producer that is not exposed";
  return values;
}
