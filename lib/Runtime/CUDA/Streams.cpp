//===- Streams.cpp - The one stream, and events on it ---------------------===//
//
// MLIR's async lowering creates a stream per async chain and joins chains
// with events. Everything here runs on one stream instead (the programs
// have one chain of kernels; a second stream would only add the cost of
// the events), so events still work but order nothing new.
//
//===----------------------------------------------------------------------===//

#include "Driver.h"

#include "mpc/Runtime/CUDA/Mgpu.h"
#include "mpc/Runtime/CUDA/Runtime.h"

using namespace mpc::runtime::cuda;

extern "C" void *mgpuStreamCreate() { return theStream(); }

extern "C" void mgpuStreamDestroy(void *) {}

extern "C" void mgpuStreamSynchronize(void *) { mpcCudaSynchronize(); }

extern "C" void mgpuStreamWaitEvent(void *, void *event) {
  check(driver().cuStreamWaitEvent(theStream(), static_cast<CUevent>(event), 0),
        "cuStreamWaitEvent");
}

extern "C" void *mgpuEventCreate() {
  CUevent event = nullptr;
  check(driver().cuEventCreate(&event, CU_EVENT_DISABLE_TIMING),
        "cuEventCreate");
  return event;
}

extern "C" void mgpuEventDestroy(void *event) {
  if (shuttingDown())
    return;
  check(driver().cuEventDestroy(static_cast<CUevent>(event)), "cuEventDestroy");
}

extern "C" void mgpuEventSynchronize(void *event) {
  check(driver().cuEventSynchronize(static_cast<CUevent>(event)),
        "cuEventSynchronize");
}

extern "C" void mgpuEventRecord(void *event, void *) {
  check(driver().cuEventRecord(static_cast<CUevent>(event), theStream()),
        "cuEventRecord");
}

extern "C" void mpcCudaSynchronize() {
  check(driver().cuStreamSynchronize(theStream()), "cuStreamSynchronize");
}
