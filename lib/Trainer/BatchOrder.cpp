//===- BatchOrder.cpp - which rows each training step takes ---------------===//
#include "mpc/Trainer/BatchOrder.h"

#include <cstddef>
#include <numeric>
#include <utility>

namespace mpc::trainer {

uint64_t splitmix64(uint64_t &state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::vector<int64_t> epochOrder(int64_t rows, uint64_t seed, uint64_t epoch, bool shuffle) {
  std::vector<int64_t> order(static_cast<size_t>(rows));
  std::iota(order.begin(), order.end(), 0);
  if (!shuffle)
    return order;
  // Mixing the seed before adding the epoch keeps (seed, epoch) and
  // (seed + 1, epoch - 1) on unrelated streams.
  uint64_t mixed = seed;
  uint64_t state = splitmix64(mixed) ^ (epoch * 0xd1b54a32d192ed03ull);
  for (int64_t i = rows - 1; i > 0; --i) {
    auto bound = static_cast<unsigned __int128>(i + 1);
    auto j = static_cast<int64_t>((static_cast<unsigned __int128>(splitmix64(state)) * bound) >> 64);
    std::swap(order[i], order[j]);
  }
  return order;
}

BatchOrder::BatchOrder(int64_t rows, int64_t batch, uint64_t seed, bool shuffle)
    : rows_(rows), batch_(batch), seed_(seed), shuffle_(shuffle) {}

std::vector<int64_t> BatchOrder::rowsOfStep(int64_t step) {
  int64_t epoch = step / stepsPerEpoch(), position = step % stepsPerEpoch();
  if (epoch != cachedEpoch_) {
    order_ = epochOrder(rows_, seed_, static_cast<uint64_t>(epoch), shuffle_);
    cachedEpoch_ = epoch;
  }
  return std::vector<int64_t>(order_.begin() + position * batch_,
                              order_.begin() + (position + 1) * batch_);
}

} // namespace mpc::trainer
