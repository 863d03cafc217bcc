//===- BatchOrder.h - which rows each training step takes -------*- C++ -*-===//
//
// Step k's batch is a pure function of (seed, k, rows, batch, shuffle): that
// is what lets --resume continue bit-identically. The shuffle uses our own
// generator (splitmix64 + Fisher-Yates with Lemire's multiply-shift range
// reduction) rather than std:: distributions, whose output differs between
// standard libraries.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TRAINER_BATCHORDER_H
#define MPC_TRAINER_BATCHORDER_H

#include <cstdint>
#include <vector>

namespace mpc::trainer {

/// splitmix64: advances `state` and returns the next output.
uint64_t splitmix64(uint64_t &state);

/// The row order of `epoch` (0-based): 0..rows-1 without shuffling, else a
/// permutation drawn from a generator seeded by (seed, epoch).
std::vector<int64_t> epochOrder(int64_t rows, uint64_t seed, uint64_t epoch, bool shuffle);

/// Rows of 0-based step `step`, `batch` of them; remainder rows of each epoch
/// are dropped. Caches the current epoch's order.
class BatchOrder {
public:
  BatchOrder(int64_t rows, int64_t batch, uint64_t seed, bool shuffle);
  int64_t stepsPerEpoch() const { return rows_ / batch_; }
  std::vector<int64_t> rowsOfStep(int64_t step);

private:
  int64_t rows_, batch_;
  uint64_t seed_;
  bool shuffle_;
  int64_t cachedEpoch_ = -1;
  std::vector<int64_t> order_;
};

} // namespace mpc::trainer

#endif // MPC_TRAINER_BATCHORDER_H
