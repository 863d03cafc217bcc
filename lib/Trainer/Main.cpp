//===- Main.cpp - main() of a compiled trainer or runner ------------------===//
//
// Kept apart from the library's other sources: only an executable linked
// with a compiled model object (which defines these symbols) takes it. An
// inference object (mpc-compile --infer) defines no mpc_train_step: the weak
// reference is then null, and the manifest's mode says not to use it.
//
//===----------------------------------------------------------------------===//
#include "mpc/Runtime/Allocator.h"
#include "mpc/Trainer/Runner.h"

extern "C" {
__attribute__((weak)) void mpc_train_step(void **args);
void mpc_eval_step(void **args);
extern const char mpc_trainer_manifest[];
extern const unsigned char mpc_trainer_blob[];
extern const unsigned long long mpc_trainer_blob_size;
}

int main(int argc, char **argv) {
  mpc::runtime::keepFreedBuffersForReuse();
  mpc::trainer::CompiledModel model{mpc_train_step, mpc_eval_step, mpc_trainer_manifest,
                                    mpc_trainer_blob, mpc_trainer_blob_size};
  return mpc::trainer::runCompiledModel(argc, argv, model);
}
