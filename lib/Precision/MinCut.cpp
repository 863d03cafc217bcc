//===- MinCut.cpp - s-t minimum cut by max-flow ---------------------------===//
#include "MinCut.h"

#include <algorithm>
#include <deque>

using namespace mpc;

unsigned MinCutGraph::addNode() {
  adjacency.emplace_back();
  return adjacency.size() - 1;
}

void MinCutGraph::addEdge(unsigned from, unsigned to, Capacity capacity) {
  capacity = std::clamp<Capacity>(capacity, 0, kInfinite);
  // Edge 2k is the forward edge, 2k+1 its reverse, so `e ^ 1` pairs them.
  adjacency[from].push_back(edges.size());
  edges.push_back({to, capacity});
  adjacency[to].push_back(edges.size());
  edges.push_back({from, 0});
}

bool MinCutGraph::buildLevels(unsigned source, unsigned sink) {
  level.assign(adjacency.size(), -1);
  level[source] = 0;
  std::deque<unsigned> queue{source};
  while (!queue.empty()) {
    unsigned node = queue.front();
    queue.pop_front();
    for (unsigned e : adjacency[node]) {
      if (edges[e].residual > 0 && level[edges[e].to] < 0) {
        level[edges[e].to] = level[node] + 1;
        queue.push_back(edges[e].to);
      }
    }
  }
  return level[sink] >= 0;
}

MinCutGraph::Capacity MinCutGraph::augment(unsigned node, unsigned sink, Capacity limit) {
  if (node == sink)
    return limit;
  for (unsigned &i = nextEdge[node]; i < adjacency[node].size(); ++i) {
    unsigned e = adjacency[node][i];
    Edge &edge = edges[e];
    if (edge.residual <= 0 || level[edge.to] != level[node] + 1)
      continue;
    Capacity pushed = augment(edge.to, sink, std::min(limit, edge.residual));
    if (pushed > 0) {
      edge.residual -= pushed;
      edges[e ^ 1].residual += pushed;
      return pushed;
    }
  }
  return 0;
}

MinCutGraph::Capacity MinCutGraph::solve(unsigned source, unsigned sink) {
  Capacity flow = 0;
  while (buildLevels(source, sink)) {
    nextEdge.assign(adjacency.size(), 0);
    while (Capacity pushed = augment(source, sink, kInfinite)) {
      // Saturate rather than overflow: a flow of kInfinite means the hard
      // constraints conflict, which the caller rules out before solving.
      flow = std::min(flow + pushed, kInfinite);
      if (flow == kInfinite)
        break;
    }
    if (flow == kInfinite)
      break;
  }
  // The source side of a minimum cut: what the source still reaches.
  buildLevels(source, sink);
  reachable.assign(adjacency.size(), false);
  for (unsigned node = 0; node < adjacency.size(); ++node)
    reachable[node] = level[node] >= 0;
  return flow;
}
