//===- FakeModel.cpp - a hand-written stand-in for a compiled model -------===//
//
// Defines mpc_train_step and mpc_eval_step with the packed ABI of
// docs/training.md for the manifest make_fake_model.py writes: softmax
// regression y = x @ W + b, cross-entropy loss, SGD with momentum, dynamic
// loss scaling. It checks every descriptor it is handed (rank, sizes,
// strides), so a runtime that lays them out wrongly fails loudly.
//
//===----------------------------------------------------------------------===//
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>

namespace {
constexpr int kBatch = 8, kFeatures = 4, kClasses = 3;
constexpr float kLearningRate = 0.1f, kMomentum = 0.9f;
constexpr int64_t kGrowthInterval = 2000;

/// The aligned pointer of packed argument `index`, after checking that its
/// descriptor is dense row-major with `sizes`.
template <typename T> T *buffer(void **args, int index, std::initializer_list<int64_t> sizes) {
  const int64_t *descriptor = *static_cast<int64_t **>(args[index]);
  const int64_t *dims = descriptor + 3, *strides = dims + sizes.size();
  int64_t stride = 1;
  bool ok = descriptor[0] == descriptor[1] && descriptor[2] == 0;
  // By index: walking a pointer below begin() (or from a rank-0 list's null
  // end()) is undefined behaviour, which UBSan reports.
  for (int64_t i = static_cast<int64_t>(sizes.size()) - 1; i >= 0; --i) {
    int64_t size = sizes.begin()[i];
    ok &= dims[i] == size && strides[i] == stride;
    stride *= size;
  }
  if (!ok) {
    std::fprintf(stderr, "fake model: packed argument %d has a wrong descriptor\n", index);
    std::abort();
  }
  return reinterpret_cast<T *>(descriptor[1]);
}

void forward(const float *w, const float *b, const float *x, float *y) {
  for (int n = 0; n < kBatch; ++n)
    for (int c = 0; c < kClasses; ++c) {
      float sum = b[c];
      for (int f = 0; f < kFeatures; ++f)
        sum += x[n * kFeatures + f] * w[f * kClasses + c];
      y[n * kClasses + c] = sum;
    }
}
} // namespace

extern "C" void mpc_eval_step(void **args) {
  forward(buffer<float>(args, 0, {kFeatures, kClasses}), buffer<float>(args, 1, {kClasses}),
          buffer<float>(args, 2, {kBatch, kFeatures}), buffer<float>(args, 3, {kBatch, kClasses}));
}

// Arguments: W, b, W.momentum_buffer, b.momentum_buffer, loss_scale,
// loss_scale.good_steps, x, label; results: the six new states, loss,
// finite, y.
extern "C" void mpc_train_step(void **args) {
  const float *w = buffer<float>(args, 0, {kFeatures, kClasses}), *b = buffer<float>(args, 1, {kClasses});
  const float *mw = buffer<float>(args, 2, {kFeatures, kClasses}), *mb = buffer<float>(args, 3, {kClasses});
  float scale = *buffer<float>(args, 4, {});
  int64_t good = *buffer<int64_t>(args, 5, {});
  const float *x = buffer<float>(args, 6, {kBatch, kFeatures});
  const int64_t *label = buffer<int64_t>(args, 7, {kBatch});
  float *newW = buffer<float>(args, 8, {kFeatures, kClasses}), *newB = buffer<float>(args, 9, {kClasses});
  float *newMw = buffer<float>(args, 10, {kFeatures, kClasses}), *newMb = buffer<float>(args, 11, {kClasses});
  float *newScale = buffer<float>(args, 12, {});
  int64_t *newGood = buffer<int64_t>(args, 13, {});
  float *loss = buffer<float>(args, 14, {});
  bool *finite = buffer<bool>(args, 15, {});
  float *y = buffer<float>(args, 16, {kBatch, kClasses});

  forward(w, b, x, y);
  // Gradients of the mean cross-entropy, scaled then unscaled as a
  // loss-scaled backward pass would be.
  float gw[kFeatures * kClasses] = {}, gb[kClasses] = {}, total = 0;
  for (int n = 0; n < kBatch; ++n) {
    float peak = y[n * kClasses];
    for (int c = 1; c < kClasses; ++c)
      peak = std::fmax(peak, y[n * kClasses + c]);
    float sum = 0;
    for (int c = 0; c < kClasses; ++c)
      sum += std::exp(y[n * kClasses + c] - peak);
    total += std::log(sum) + peak - y[n * kClasses + label[n]];
    for (int c = 0; c < kClasses; ++c) {
      float d = (std::exp(y[n * kClasses + c] - peak) / sum - (c == label[n])) * scale / kBatch;
      gb[c] += d;
      for (int f = 0; f < kFeatures; ++f)
        gw[f * kClasses + c] += x[n * kFeatures + f] * d;
    }
  }
  *loss = total / kBatch;
  bool allFinite = std::isfinite(*loss);
  for (float &g : gw)
    allFinite &= std::isfinite(g /= scale);
  for (float &g : gb)
    allFinite &= std::isfinite(g /= scale);
  *finite = allFinite;

  auto update = [&](const float *p, const float *m, const float *g, float *newP, float *newM, int count) {
    for (int i = 0; i < count; ++i) {
      newM[i] = allFinite ? kMomentum * m[i] + g[i] : m[i];
      newP[i] = allFinite ? p[i] - kLearningRate * newM[i] : p[i];
    }
  };
  update(w, mw, gw, newW, newMw, kFeatures * kClasses);
  update(b, mb, gb, newB, newMb, kClasses);
  if (!allFinite) {
    *newScale = scale * 0.5f;
    *newGood = 0;
  } else if (good + 1 == kGrowthInterval) {
    *newScale = scale * 2;
    *newGood = 0;
  } else {
    *newScale = scale;
    *newGood = good + 1;
  }
}
