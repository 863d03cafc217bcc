//===- LowerFloat8Casts.cpp - fp8 casts as sm_89+ conversions -------------===//
#include "mpc/Codegen/CUDA/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/TypeUtilities.h"

namespace mpc {
#define GEN_PASS_DEF_LOWERFLOAT8CASTSPASS
#include "mpc/Codegen/CUDA/Passes.h.inc"
} // namespace mpc

using namespace mlir;

namespace {
bool isFloat8(Type t) { return isa<Float8E4M3FNType, Float8E5M2Type>(getElementTypeOrSelf(t)); }

/// The smallest magnitude that no longer rounds to the largest finite value
/// (non-saturating casts give NaN / infinity from there on), and whether
/// that magnitude itself overflows (a tie that rounds to even away from the
/// largest value).
std::pair<double, bool> overflowThreshold(Type f8) {
  if (isa<Float8E4M3FNType>(f8))
    return {464.0, false}; // 448 = 1.110b x 2^8 is even: the tie stays finite
  return {61440.0, true};  // 57344 = 1.11b x 2^15 is odd: the tie rounds up
}

Value lowerTrunc(OpBuilder &b, Location loc, Value x, Type f8) {
  Type f32 = b.getF32Type();
  // f16/bf16 -> f32 is exact; f64 reaches fp8 through f32 (rounding twice,
  // as the CPU target and ml_dtypes do).
  if (x.getType().getIntOrFloatBitWidth() < 32)
    x = arith::ExtFOp::create(b, loc, f32, x);
  else if (x.getType() != f32)
    x = arith::TruncFOp::create(b, loc, f32, x);
  auto pair = NVVM::ConvertF32x2ToF8x2Op::create(
      b, loc, b.getI16Type(), x, x,
      NVVM::FPRoundingModeAttr::get(b.getContext(), NVVM::FPRoundingMode::RN),
      NVVM::SaturationModeAttr::get(b.getContext(), NVVM::SaturationMode::SATFINITE),
      b.getBoolAttr(false), TypeAttr::get(f8));
  Value code = arith::TruncIOp::create(b, loc, b.getI8Type(), pair);
  auto [threshold, tieOverflows] = overflowThreshold(f8);
  Value magnitude = math::AbsFOp::create(b, loc, x);
  Value limit = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(threshold));
  Value overflows = arith::CmpFOp::create(
      b, loc, tieOverflows ? arith::CmpFPredicate::OGE : arith::CmpFPredicate::OGT, magnitude,
      limit);
  // NaN (E4M3FN, 0x7F) or infinity (E5M2, 0x7C), with the input's sign.
  Value special =
      arith::ConstantIntOp::create(b, loc, b.getI8Type(), isa<Float8E4M3FNType>(f8) ? 0x7F : 0x7C);
  Value sign = arith::AndIOp::create(b, loc, code,
                                     arith::ConstantIntOp::create(b, loc, b.getI8Type(), 0x80));
  Value signedSpecial = arith::OrIOp::create(b, loc, special, sign);
  code = arith::SelectOp::create(b, loc, overflows, signedSpecial, code);
  return arith::BitcastOp::create(b, loc, f8, code);
}

Value lowerExt(OpBuilder &b, Location loc, Value x, Type to) {
  Type i8 = b.getI8Type();
  Value code = arith::BitcastOp::create(b, loc, i8, x);
  auto pairType = VectorType::get({2}, i8);
  Value zero = arith::ConstantIntOp::create(b, loc, i8, 0);
  Value pair = vector::FromElementsOp::create(b, loc, pairType, ValueRange{code, zero});
  Value halves =
      NVVM::ConvertF8x2ToF16x2Op::create(b, loc, VectorType::get({2}, b.getF16Type()), pair,
                                         b.getBoolAttr(false), TypeAttr::get(x.getType()));
  Value half = vector::ExtractOp::create(b, loc, halves, ArrayRef<int64_t>{0});
  if (to.isF16())
    return half;
  Value f32 = arith::ExtFOp::create(b, loc, b.getF32Type(), half);                // exact
  return to.isF32() ? f32 : arith::TruncFOp::create(b, loc, to, f32).getResult(); // exact too
}

/// The oldest architecture the module is compiled for (90 for sm_90a).
int oldestChip(gpu::GPUModuleOp module) {
  int oldest = 1000;
  if (ArrayAttr targets = module.getTargetsAttr())
    for (Attribute t : targets)
      if (auto nvvm = dyn_cast<NVVM::NVVMTargetAttr>(t)) {
        int sm = 0;
        StringRef(nvvm.getChip()).drop_front(3).take_while(llvm::isDigit).getAsInteger(10, sm);
        oldest = std::min(oldest, sm);
      }
  return oldest;
}

struct LowerFloat8Casts : mpc::impl::LowerFloat8CastsPassBase<LowerFloat8Casts> {
  void runOnOperation() override {
    gpu::GPUModuleOp module = getOperation();
    SmallVector<Operation *> casts;
    module.walk([&](Operation *op) {
      if ((isa<arith::TruncFOp>(op) && isFloat8(op->getResult(0).getType())) ||
          (isa<arith::ExtFOp>(op) && isFloat8(op->getOperand(0).getType())))
        casts.push_back(op);
    });
    if (casts.empty())
      return;
    if (int oldest = oldestChip(module); oldest < 89) {
      casts.front()->emitOpError()
          << "is an fp8 conversion, which CUDA GPUs have from sm_89 on, but the kernels are "
             "also compiled for sm_"
          << oldest << ": pass --cuda-arch with sm_89 or newer only (e.g. sm_89,sm_90)";
      return signalPassFailure();
    }
    for (Operation *op : casts) {
      if (isa<VectorType>(op->getResult(0).getType())) {
        op->emitOpError("vector fp8 casts are not lowered for the GPU (mpc-cuda-map-to-kernels "
                        "keeps fp8 kernels scalar)");
        return signalPassFailure();
      }
      OpBuilder b(op);
      Value result =
          isa<arith::TruncFOp>(op)
              ? lowerTrunc(b, op->getLoc(), op->getOperand(0), op->getResult(0).getType())
              : lowerExt(b, op->getLoc(), op->getOperand(0), op->getResult(0).getType());
      op->getResult(0).replaceAllUsesWith(result);
      op->erase();
    }
  }
};
} // namespace
