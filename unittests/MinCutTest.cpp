//===- MinCutTest.cpp - max-flow / min-cut used by precision assignment ---===//
#include "../lib/Precision/MinCut.h"

#include <gtest/gtest.h>

#include <random>
#include <tuple>

using mpc::MinCutGraph;

namespace {

TEST(MinCut, SingleEdge) {
  MinCutGraph graph(2);
  graph.addEdge(0, 1, 7);
  EXPECT_EQ(graph.solve(0, 1), 7);
  EXPECT_TRUE(graph.onSourceSide(0));
  EXPECT_FALSE(graph.onSourceSide(1));
}

TEST(MinCut, Disconnected) {
  MinCutGraph graph(3);
  graph.addEdge(0, 1, 5);
  EXPECT_EQ(graph.solve(0, 2), 0);
  EXPECT_TRUE(graph.onSourceSide(1));
  EXPECT_FALSE(graph.onSourceSide(2));
}

// The textbook example (CLRS figure 26.6): max flow 23.
TEST(MinCut, Textbook) {
  MinCutGraph graph(6);
  graph.addEdge(0, 1, 16);
  graph.addEdge(0, 2, 13);
  graph.addEdge(2, 1, 4);
  graph.addEdge(1, 3, 12);
  graph.addEdge(3, 2, 9);
  graph.addEdge(2, 4, 14);
  graph.addEdge(4, 3, 7);
  graph.addEdge(3, 5, 20);
  graph.addEdge(4, 5, 4);
  EXPECT_EQ(graph.solve(0, 5), 23);
  // The minimum cut is {s, v1, v2, v4} | {v3, t}.
  for (unsigned node : {0u, 1u, 2u, 4u})
    EXPECT_TRUE(graph.onSourceSide(node)) << node;
  for (unsigned node : {3u, 5u})
    EXPECT_FALSE(graph.onSourceSide(node)) << node;
}

// An infinite edge is never cut: the cut moves to the finite edge after it.
TEST(MinCut, InfiniteEdgesAreNotCut) {
  MinCutGraph graph(4);
  graph.addEdge(0, 1, MinCutGraph::kInfinite);
  graph.addEdge(1, 2, 3);
  graph.addEdge(2, 3, MinCutGraph::kInfinite);
  graph.addEdge(0, 3, 2);
  EXPECT_EQ(graph.solve(0, 3), 5);
  EXPECT_TRUE(graph.onSourceSide(1));
  EXPECT_FALSE(graph.onSourceSide(2));
}

// Nodes added after construction take part like the others.
TEST(MinCut, AddNode) {
  MinCutGraph graph(2);
  unsigned middle = graph.addNode();
  graph.addEdge(0, middle, 4);
  graph.addEdge(middle, 1, 9);
  EXPECT_EQ(graph.solve(0, 1), 4);
  EXPECT_FALSE(graph.onSourceSide(middle));
}

/// The capacity of the cut that puts exactly the nodes in `sourceSide` (a
/// bit mask) on the source side.
int64_t cutCapacity(const std::vector<std::tuple<unsigned, unsigned, int64_t>> &edges,
                    unsigned sourceSide) {
  int64_t total = 0;
  for (auto [from, to, capacity] : edges)
    if ((sourceSide >> from & 1) && !(sourceSide >> to & 1))
      total += capacity;
  return total;
}

// Max-flow equals the minimum over all 2^(n-2) cuts, and the reported source
// side is itself a minimum cut.
TEST(MinCut, MatchesBruteForceOnRandomGraphs) {
  std::mt19937 random(20261129);
  for (int trial = 0; trial < 300; ++trial) {
    unsigned numNodes = 2 + random() % 9;
    unsigned source = 0, sink = numNodes - 1;
    std::vector<std::tuple<unsigned, unsigned, int64_t>> edges;
    unsigned numEdges = random() % (numNodes * numNodes);
    MinCutGraph graph(numNodes);
    for (unsigned i = 0; i < numEdges; ++i) {
      unsigned from = random() % numNodes, to = random() % numNodes;
      if (from == to)
        continue;
      int64_t capacity = random() % 20;
      edges.emplace_back(from, to, capacity);
      graph.addEdge(from, to, capacity);
    }

    int64_t best = -1;
    for (unsigned mask = 0; mask < (1u << numNodes); ++mask) {
      if (!(mask >> source & 1) || (mask >> sink & 1))
        continue;
      int64_t capacity = cutCapacity(edges, mask);
      if (best < 0 || capacity < best)
        best = capacity;
    }
    ASSERT_EQ(graph.solve(source, sink), best) << "trial " << trial;

    unsigned found = 0;
    for (unsigned node = 0; node < numNodes; ++node)
      found |= unsigned(graph.onSourceSide(node)) << node;
    ASSERT_TRUE(found & 1) << "trial " << trial;
    ASSERT_FALSE(found >> sink & 1) << "trial " << trial;
    EXPECT_EQ(cutCapacity(edges, found), best) << "trial " << trial;
  }
}

} // namespace
