//===- EvalMetrics.cpp - loss and accuracy of model outputs ---------------===//
#include "mpc/Trainer/EvalMetrics.h"

#include "mpc/Runtime/FloatConversions.h"

#include <cmath>

namespace mpc::trainer {
using runtime::ElementKind;

double floatElement(const runtime::HostArray &array, int64_t i) {
  switch (array.kind()) {
  case ElementKind::F64: return array.as<double>()[i];
  case ElementKind::F32: return array.as<float>()[i];
  case ElementKind::F16: return runtime::halfBitsToFloat(array.as<uint16_t>()[i]);
  case ElementKind::BF16: return runtime::bfloat16BitsToFloat(array.as<uint16_t>()[i]);
  default: return NAN;
  }
}

void accumulateCrossEntropy(const runtime::HostArray &output, const runtime::HostArray &labels, int64_t rows,
                            EvalTotals &totals) {
  int64_t classes = output.shape().back();
  int64_t labelsPerRow = labels.numElements() / labels.shape()[0];
  const int64_t *label = labels.as<int64_t>();
  for (int64_t i = 0; i < rows * labelsPerRow; ++i) {
    int64_t base = i * classes;
    // log-softmax with the max subtracted, so large logits do not overflow.
    double peak = -INFINITY;
    int64_t argmax = 0;
    for (int64_t c = 0; c < classes; ++c) {
      double logit = floatElement(output, base + c);
      if (logit > peak) {
        peak = logit;
        argmax = c;
      }
    }
    double sum = 0;
    for (int64_t c = 0; c < classes; ++c)
      sum += std::exp(floatElement(output, base + c) - peak);
    totals.lossSum += std::log(sum) + peak - floatElement(output, base + label[i]);
    totals.correct += argmax == label[i];
    ++totals.count;
  }
}

void accumulateMeanSquaredError(const runtime::HostArray &output, const runtime::HostArray &labels,
                                int64_t rows, EvalTotals &totals) {
  int64_t perRow = output.numElements() / output.shape()[0];
  for (int64_t i = 0; i < rows * perRow; ++i) {
    double difference = floatElement(output, i) - floatElement(labels, i);
    totals.lossSum += difference * difference;
    ++totals.count;
  }
}

} // namespace mpc::trainer
