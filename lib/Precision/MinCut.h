//===- MinCut.h - s-t minimum cut by max-flow -------------------*- C++ -*-===//
//
// Choosing between two precisions so that op costs plus cast costs are
// minimal is an s-t minimum cut. This is a plain max-flow solver with no MLIR
// dependency, so that it can be unit-tested against brute force on its own.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_LIB_PRECISION_MINCUT_H
#define MPC_LIB_PRECISION_MINCUT_H

#include <cstdint>
#include <limits>
#include <vector>

namespace mpc {

/// A directed graph with integer capacities; Dinic's algorithm (BFS levels,
/// DFS blocking flows), which is fast on the small, shallow graphs that
/// precision assignment builds.
class MinCutGraph {
public:
  using Capacity = int64_t;
  /// An edge that must never be cut. Large but far from overflow when a few
  /// thousand of them are summed along paths.
  static constexpr Capacity kInfinite = std::numeric_limits<int64_t>::max() / 4;

  explicit MinCutGraph(unsigned numNodes) : adjacency(numNodes) {}

  unsigned addNode();
  unsigned numNodes() const { return adjacency.size(); }
  /// Adds `from -> to` with `capacity` (saturating at kInfinite).
  void addEdge(unsigned from, unsigned to, Capacity capacity);

  /// Computes a maximum flow from `source` to `sink`; its value equals the
  /// capacity of a minimum cut. Call once per graph.
  Capacity solve(unsigned source, unsigned sink);
  /// After solve(): true when `node` is on the source side of the minimum
  /// cut (reachable from the source in the residual graph).
  bool onSourceSide(unsigned node) const { return reachable[node]; }

private:
  struct Edge {
    unsigned to;
    Capacity residual;
  };
  bool buildLevels(unsigned source, unsigned sink);
  Capacity augment(unsigned node, unsigned sink, Capacity limit);

  std::vector<Edge> edges;
  std::vector<std::vector<unsigned>> adjacency;
  std::vector<int> level;
  std::vector<unsigned> nextEdge;
  std::vector<bool> reachable;
};

} // namespace mpc

#endif // MPC_LIB_PRECISION_MINCUT_H
