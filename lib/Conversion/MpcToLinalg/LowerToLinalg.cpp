//===- LowerToLinalg.cpp - the mpc-lower-to-linalg pass -------------------===//
#include "LoweringUtils.h"

#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Conversion/MpcToLinalg/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace mpc {
#define GEN_PASS_DEF_LOWERTOLINALGPASS
#include "mpc/Conversion/MpcToLinalg/Passes.h.inc"

void populateMpcToLinalgPatterns(RewritePatternSet &patterns) {
  lowering::populateElementwisePatterns(patterns);
  lowering::populateContractionPatterns(patterns);
  lowering::populateConvolutionPatterns(patterns);
  lowering::populatePoolingPatterns(patterns);
  lowering::populateNormalizationPatterns(patterns);
  lowering::populateReductionPatterns(patterns);
  lowering::populateDataMovementPatterns(patterns);
  lowering::populateCastPatterns(patterns);
  lowering::populateLossPatterns(patterns);
}

namespace {
struct LowerToLinalgPass : impl::LowerToLinalgPassBase<LowerToLinalgPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    lowering::dropUnsignedTypes(module);
    RewritePatternSet patterns(&getContext());
    populateMpcToLinalgPatterns(patterns);
    // Patterns that cannot handle an op leave it in place; the walk below
    // reports each one, which names more than a conversion failure would.
    (void)applyPatternsGreedily(module, std::move(patterns));

    MpcDialect *mpcDialect = getContext().getLoadedDialect<MpcDialect>();
    bool failedAny = false;
    module.walk([&](Operation *op) {
      if (op->getDialect() != mpcDialect || isa<ParameterOp>(op))
        return;
      InFlightDiagnostic diag = op->emitError() << "mpc-lower-to-linalg: no lowering for '"
                                                << op->getName() << "'";
      if (auto node = op->getAttrOfType<StringAttr>(kNodeNameAttr))
        diag << " (ONNX node '" << node.getValue() << "')";
      diag << " with these attributes and types; the op must be decomposed before lowering "
              "or the lowering extended";
      failedAny = true;
    });
    if (failedAny)
      return signalPassFailure();
    // Inference: every parameter read is now a constant.
    for (auto parameter : llvm::make_early_inc_range(module.getOps<ParameterOp>()))
      parameter.erase();
  }
};
} // namespace
} // namespace mpc
