//===- FoldParameterCasts.cpp - mpc-fold-parameter-casts ------------------===//
//
// Inference keeps the model's weights as the f32 parameters ONNX gave, and a
// bf16/f16 policy casts them on every run: a pass over every weight before
// the first matmul reads it. The weights are constants here, so each such
// cast (and the transposes and reshapes around it) is done once, at compile
// time, with the cast folder's rounding (castElements), which is the compiled
// cast's for every non-NaN value: the program computes the same bits.
//
// Training must not run this: parameters change every step.
//
//===----------------------------------------------------------------------===//
#include "SymbolUses.h"
#include "mpc/Dialect/CastElements.h"
#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Dialect/TransposeElements.h"
#include "mpc/Inference/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cstring>
#include <map>
#include <optional>
#include <string>

namespace mpc {
#define GEN_PASS_DEF_FOLDPARAMETERCASTSPASS
#include "mpc/Inference/Passes.h.inc"
} // namespace mpc

using namespace mlir;

namespace {

/// True when some element of the f32 data is a NaN: the folder's NaN bits
/// (APFloat's, sign and payload kept) are not always the compiled cast's
/// (a bf16 NaN is always 0x7FC0), so such data is left to the cast at run
/// time. Tested on the bits (no APFloat per element); a splat stores one.
bool holdsNaN(DenseElementsAttr values) {
  ArrayRef<char> raw = values.getRawData();
  for (size_t i = 0; i + 4 <= raw.size(); i += 4) {
    uint32_t bits;
    std::memcpy(&bits, raw.data() + i, 4);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u)
      return true;
  }
  return false;
}

/// What `op` computes from `values` (the data of its operand), or nothing
/// when it is not a fold this pass makes.
std::optional<DenseElementsAttr> foldData(Operation *op, DenseElementsAttr values,
                                          RankedTensorType resultType) {
  return llvm::TypeSwitch<Operation *, std::optional<DenseElementsAttr>>(op)
      .Case([&](mpc::CastOp cast) -> std::optional<DenseElementsAttr> {
        auto from = dyn_cast<FloatType>(values.getElementType());
        auto to = dyn_cast<FloatType>(resultType.getElementType());
        // f32 narrowed only: a widened copy would grow the program's memory
        // (and the cast of a widening is exact and cheap); f64 sources are
        // left to the compiled cast, whose route to fp8 differs.
        if (!from || !to || !from.isF32() || to.getWidth() >= from.getWidth())
          return std::nullopt;
        if (holdsNaN(values))
          return std::nullopt;
        auto folded = dyn_cast_if_present<DenseElementsAttr>(
            mpc::castElements(values, resultType, cast.getSaturate()));
        if (!folded)
          return std::nullopt;
        return folded;
      })
      .Case([&](mpc::TransposeOp transpose) {
        return mpc::transposeElements(values, resultType, transpose.getPerm());
      })
      .Case([&](mpc::ReshapeOp) -> std::optional<DenseElementsAttr> {
        return values.reshape(resultType);
      })
      .Default([](Operation *) { return std::nullopt; });
}

/// The name suffix of a parameter holding `op`'s result: `.bf16` (the
/// element type), `.T<perm>`, `.r<shape>`. Together with the parameter and
/// the result type it tells which copies hold the same data.
std::string copySuffix(Operation *op) {
  std::string suffix;
  llvm::raw_string_ostream os(suffix);
  if (auto castOp = dyn_cast<mpc::CastOp>(op)) {
    Type to = getElementTypeOrSelf(castOp.getType());
    os << "." << to;
    if (castOp.getSaturate() && to.getIntOrFloatBitWidth() == 8)
      os << ".sat"; // saturating fp8
  } else if (auto transpose = dyn_cast<mpc::TransposeOp>(op)) {
    os << ".T";
    for (int64_t d : transpose.getPerm())
      os << d;
  } else {
    os << ".r";
    llvm::interleave(cast<ShapedType>(op->getResult(0).getType()).getShape(), os, "x");
  }
  return suffix;
}

struct FoldParameterCastsPass : mpc::impl::FoldParameterCastsPassBase<FoldParameterCastsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    llvm::DenseMap<Attribute, unsigned> useCount = mpc::inference::countSymbolUses(module);

    // In program order, so that in a chain cast(transpose(read)) the
    // transpose becomes a read first and the cast then folds that.
    SmallVector<Operation *> ops;
    module.walk([&](Operation *op) {
      if (isa<mpc::CastOp, mpc::TransposeOp, mpc::ReshapeOp>(op))
        ops.push_back(op);
    });
    // (parameter, fold) -> the parameter holding its result.
    std::map<std::pair<const void *, std::string>, StringAttr> copies;
    for (Operation *op : ops) {
      auto read = op->getOperand(0).getDefiningOp<mpc::GetParameterOp>();
      auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
      if (!read || !resultType || !resultType.hasStaticShape())
        continue;
      auto parameter = symbols.lookup<mpc::ParameterOp>(read.getNameAttr().getAttr());
      if (!parameter)
        continue;
      auto values = dyn_cast<DenseElementsAttr>(parameter.getValue());
      if (!values || values.getType() != read.getType())
        continue;
      Attribute nameAttr = read.getNameAttr().getAttr();
      std::string suffix = copySuffix(op);
      auto key = std::make_pair(nameAttr.getAsOpaquePointer(), suffix);
      std::optional<DenseElementsAttr> folded;
      if (!copies.count(key)) {
        folded = foldData(op, values, resultType);
        if (!folded)
          continue;
      }
      auto forget = [&](Attribute rewritten) {
        for (auto it = copies.begin(); it != copies.end();) {
          auto next = std::next(it);
          if (it->first.first == rewritten.getAsOpaquePointer() || it->second == rewritten)
            copies.erase(it);
          it = next;
        }
      };
      bool onlyReader = read->hasOneUse() && useCount.lookup(nameAttr) == 1;
      // Transposes and reshapes are folded in place only (as the links of
      // a chain ending in a cast): a copy of their result would add memory
      // (mpc-fold-parameter-transposes already made the shared ones).
      if (!isa<mpc::CastOp>(op) && !onlyReader)
        continue;
      if (folded && onlyReader) {
        forget(nameAttr);
        // The only reader: the parameter becomes the folded data, under its
        // own name (reports still name the weight).
        parameter.setTypeAttr(TypeAttr::get(resultType));
        parameter.setValueAttr(*folded);
        read.getResult().setType(resultType);
        op->getResult(0).replaceAllUsesWith(read.getResult());
        op->erase();
        continue;
      }
      // The same fold of the same data elsewhere reads the same copy.
      StringAttr &copyName = copies[key];
      if (copyName) {
        ++useCount[copyName];
      } else {
        OpBuilder atModule(parameter);
        atModule.setInsertionPointAfter(parameter);
        auto copy = mpc::ParameterOp::create(atModule, parameter.getLoc(),
                                             parameter.getSymName().str() + suffix, resultType,
                                             *folded, parameter.getFrozen());
        symbols.insert(copy); // renames on a clash
        copyName = copy.getSymNameAttr();
        useCount[copyName] = 1;
      }
      OpBuilder builder(op);
      auto newRead = mpc::GetParameterOp::create(builder, op->getLoc(), resultType,
                                                 FlatSymbolRefAttr::get(copyName));
      newRead->setDiscardableAttrs(op->getDiscardableAttrDictionary());
      op->getResult(0).replaceAllUsesWith(newRead.getResult());
      op->erase();
      if (read->use_empty()) {
        read->erase();
        --useCount[nameAttr];
      }
    }
    // Parameters nothing reads any more (their casts moved to copies) leave
    // the program's memory.
    SmallVector<mpc::ParameterOp> parameters(module.getOps<mpc::ParameterOp>());
    for (mpc::ParameterOp parameter : parameters)
      if (SymbolTable::symbolKnownUseEmpty(parameter, module))
        parameter->erase();
  }
};

} // namespace
