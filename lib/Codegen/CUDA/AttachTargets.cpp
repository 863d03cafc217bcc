//===- AttachTargets.cpp - one NVVM target per GPU architecture -----------===//
#include "mpc/Codegen/CUDA/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

namespace mpc {
#define GEN_PASS_DEF_ATTACHTARGETSPASS
#include "mpc/Codegen/CUDA/Passes.h.inc"
} // namespace mpc

using namespace mlir;

std::optional<int64_t> mpc::minimumPtxVersion(StringRef chip) {
  // sm_90a's wgmma needs PTX 8.0; otherwise it is sm_90.
  if (chip == "sm_90a")
    return 80;
  int sm = 0;
  if (!chip.consume_front("sm_") || chip.getAsInteger(10, sm))
    return std::nullopt;
  switch (sm) {
  case 80:
    return 70;
  case 86:
    return 71;
  case 87:
    return 74;
  case 89:
    return 78;
  case 90:
    return 78;
  case 100:
    return 86;
  case 120:
    return 87;
  default:
    return std::nullopt;
  }
}

namespace {
struct AttachTargets : mpc::impl::AttachTargetsPassBase<AttachTargets> {
  using AttachTargetsPassBase::AttachTargetsPassBase;

  void runOnOperation() override {
    SmallVector<std::string> list(chips.begin(), chips.end());
    if (list.empty())
      list = {"sm_80", "sm_89", "sm_90"};
    SmallVector<Attribute> targets;
    for (const std::string &chip : list) {
      std::optional<int64_t> least = mpc::minimumPtxVersion(chip);
      if (!least) {
        getOperation().emitError()
            << "unknown CUDA architecture '" << chip << "' (known: " << mpc::kKnownCudaArchs << ")";
        return signalPassFailure();
      }
      if (llvm::any_of(targets, [&](Attribute t) {
            return cast<NVVM::NVVMTargetAttr>(t).getChip() == chip;
          }))
        continue; // named twice: one cubin
      int64_t ptx = std::max<int64_t>(ptxVersion, *least);
      std::string features = "+ptx" + std::to_string(ptx);
      targets.push_back(NVVM::NVVMTargetAttr::get(&getContext(), /*optLevel=*/3,
                                                  "nvptx64-nvidia-cuda", chip, features));
    }
    getOperation().walk([&](gpu::GPUModuleOp module) {
      module.setTargetsAttr(ArrayAttr::get(&getContext(), targets));
    });
  }
};
} // namespace
