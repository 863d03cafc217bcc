//===- EvalMetrics.h - loss and accuracy of model outputs -------*- C++ -*-===//
//
// The eval loss is recomputed on the host in double from the eval function's
// outputs (which hold no loss), so it matches the training loss's definition
// (docs/training.md, "Semantics") without the training graph's rounding.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TRAINER_EVALMETRICS_H
#define MPC_TRAINER_EVALMETRICS_H

#include "mpc/Runtime/HostArray.h"

#include <cstdint>
#include <string>

namespace mpc::trainer {

struct EvalTotals {
  double lossSum = 0;  // summed over label elements
  int64_t count = 0;   // label elements (mse: output elements)
  int64_t correct = 0; // cross_entropy: argmax == label

  double loss() const { return count ? lossSum / static_cast<double>(count) : 0; }
  double accuracy() const { return count ? static_cast<double>(correct) / static_cast<double>(count) : 0; }
};

/// Adds the first `rows` rows of one batch: `output` [batch, ..., C] logits
/// and `labels` [batch, ...] int64 (cross_entropy), or `output` and `labels`
/// of the same shape (mse). Float outputs of any width are read as double.
void accumulateCrossEntropy(const runtime::HostArray &output, const runtime::HostArray &labels, int64_t rows,
                            EvalTotals &totals);
void accumulateMeanSquaredError(const runtime::HostArray &output, const runtime::HostArray &labels,
                                int64_t rows, EvalTotals &totals);

/// Element `i` of a float array as double.
double floatElement(const runtime::HostArray &array, int64_t i);

} // namespace mpc::trainer

#endif // MPC_TRAINER_EVALMETRICS_H
