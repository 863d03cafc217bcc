//===- FuseElementwise.cpp - elementwise fusion that never recomputes -----===//
//
// Upstream's linalg-fuse-elementwise-ops fuses any single-use producer into
// its consumer. When the consumer reads the producer's result through a map
// that leaves out some of its loops (a contraction's operand), the fused
// body evaluates the producer once per value of those loops: in the test
// encoder, GELU's erf ran 32x and softmax's exp and divide 8x as often as
// needed, most of the model's run time. This pass keeps every fusion that
// evaluates each producer element once and refuses the others, except for
// producers that are only float casts (cheap, and mpc-tile-and-vectorize
// expects the precision casts inside the contraction it tiles).
//
// A producer with several uses (an optimizer's new moment, read by the
// state output's select and by the update) is fused into an elementwise
// consumer over the same points as a multi-result generic: the fused op
// computes each producer element once and also stores it for the other
// users. Upstream's pattern cannot do this: it leaves the producer in place
// for its other users and evaluates its body a second time in the consumer.
//
//===----------------------------------------------------------------------===//
#include "mpc/Codegen/Common/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace mpc {
#define GEN_PASS_DEF_FUSEELEMENTWISEPASS
#include "mpc/Codegen/Common/Passes.h.inc"

namespace {
/// The producer's body does no arithmetic: a copy, broadcast or transpose
/// (only the yield), or float precision casts. Recomputing it per consumer
/// iteration costs (almost) nothing.
bool isCheapToRecompute(linalg::GenericOp producer) {
  return llvm::all_of(producer.getRegion().front().without_terminator(),
                      [](Operation &op) { return isa<arith::ExtFOp, arith::TruncFOp>(op); });
}

/// Fuse a single-use producer (upstream's condition) only where each of its
/// elements is still computed once: the consumer reads it through a
/// permutation of all of the consumer's loops.
bool shouldFuse(OpOperand *fused) {
  Operation *producer = fused->get().getDefiningOp();
  if (!producer || !producer->hasOneUse())
    return false;
  auto consumer = dyn_cast<linalg::LinalgOp>(fused->getOwner());
  if (!consumer)
    return true; // reshapes: the upstream pattern decides
  if (consumer.getMatchingIndexingMap(fused).isPermutation())
    return true;
  auto generic = dyn_cast<linalg::GenericOp>(producer);
  return generic && isCheapToRecompute(generic);
}

/// Whether upstream's pattern will fuse `op` into its only user, which then
/// computes it without a buffer in between (e.g. a square into the sum of
/// squares). Fusing a multi-use producer into `op` first would make its
/// result one of several and keep it in memory.
bool fusesIntoItsUser(linalg::GenericOp op) {
  if (!op->hasOneUse())
    return false;
  OpOperand &use = *op->use_begin();
  return linalg::areElementwiseOpsFusable(&use) && shouldFuse(&use);
}

bool isAllParallelOnTensors(linalg::GenericOp op) {
  return op.hasPureTensorSemantics() && op.getNumParallelLoops() == op.getNumLoops();
}

/// Whether every user of `producer`'s results other than `consumer` comes
/// after `consumer` in its block, so that it can read the fused op's results.
bool otherUsersFollow(linalg::GenericOp producer, linalg::GenericOp consumer) {
  Block *block = consumer->getBlock();
  return llvm::all_of(producer->getUsers(), [&](Operation *user) {
    if (user == consumer)
      return true;
    Operation *ancestor = block->findAncestorOpInBlock(*user);
    return ancestor && ancestor != consumer && consumer->isBeforeInBlock(ancestor);
  });
}

/// For a producer with several uses and an elementwise consumer over the
/// same points: the permutation from the consumer's loops to the producer's
/// at which the consumer reads every producer result it reads, if there is
/// one. Then the fused op evaluates the producer once per point, and the
/// element it stores for the other users is the one they read today.
std::optional<AffineMap> sharedProducerPoint(linalg::GenericOp producer,
                                             linalg::GenericOp consumer) {
  if (producer->getBlock() != consumer->getBlock() || !isAllParallelOnTensors(producer) ||
      !isAllParallelOnTensors(consumer) || producer.getNumLoops() != consumer.getNumLoops() ||
      !otherUsersFollow(producer, consumer))
    return std::nullopt;
  std::optional<AffineMap> point;
  for (OpOperand &operand : consumer->getOpOperands()) {
    auto result = dyn_cast<OpResult>(operand.get());
    if (!result || result.getOwner() != producer)
      continue;
    AffineMap written = producer.getIndexingMapMatchingResult(result);
    AffineMap read = consumer.getMatchingIndexingMap(&operand);
    if (!consumer.isDpsInput(&operand) || !written.isPermutation() || !read.isPermutation())
      return std::nullopt;
    AffineMap here = inversePermutation(written).compose(read);
    if (point && *point != here)
      return std::nullopt;
    point = here;
  }
  return point;
}

/// The body of the generic fusing `producer` into `consumer`, whose block
/// arguments are the consumer's inputs that do not read the producer, the
/// producer's inputs, the producer's inits, the consumer's inits.
void buildFusedBody(OpBuilder &b, Location loc, ValueRange args, linalg::GenericOp producer,
                    linalg::GenericOp consumer, AffineMap point) {
  Block &producerBody = producer.getRegion().front();
  Block &consumerBody = consumer.getRegion().front();
  IRMapping map;
  auto next = args.begin();
  SmallVector<std::pair<BlockArgument, unsigned>> producerReads;
  for (OpOperand *input : consumer.getDpsInputOperands()) {
    BlockArgument arg = consumer.getMatchingBlockArgument(input);
    auto result = dyn_cast<OpResult>(input->get());
    if (result && result.getOwner() == producer)
      producerReads.emplace_back(arg, result.getResultNumber());
    else
      map.map(arg, *next++);
  }
  for (BlockArgument arg : producerBody.getArguments())
    map.map(arg, *next++);
  for (OpOperand &init : consumer.getDpsInitsMutable())
    map.map(consumer.getMatchingBlockArgument(&init), *next++);
  for (Operation &op : producerBody.without_terminator()) {
    if (auto index = dyn_cast<linalg::IndexOp>(op))
      map.map(index.getResult(),
              linalg::IndexOp::create(b, index.getLoc(), point.getDimPosition(index.getDim())));
    else
      b.clone(op, map);
  }
  Operation *producerYield = producerBody.getTerminator();
  for (auto [arg, number] : producerReads)
    map.map(arg, map.lookupOrDefault(producerYield->getOperand(number)));
  for (Operation &op : consumerBody.without_terminator())
    b.clone(op, map);
  SmallVector<Value> yielded;
  for (Value v : llvm::concat<Value>(producerYield->getOperands(),
                                     consumerBody.getTerminator()->getOperands()))
    yielded.push_back(map.lookupOrDefault(v));
  linalg::YieldOp::create(b, loc, yielded);
}

/// Fuses a producer with several uses into an elementwise consumer over the
/// same points (sharedProducerPoint). The fused generic yields all of the
/// producer's results, then the consumer's; the canonicalization drops the
/// producer results nothing else reads.
struct FuseMultiUseProducer : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp consumer,
                                PatternRewriter &rewriter) const override {
    if (fusesIntoItsUser(consumer))
      return rewriter.notifyMatchFailure(consumer, "fused into its user first");
    for (OpOperand *input : consumer.getDpsInputOperands()) {
      auto producer = input->get().getDefiningOp<linalg::GenericOp>();
      // (A single use is upstream's pattern's, under shouldFuse.)
      if (!producer || producer->hasOneUse())
        continue;
      if (std::optional<AffineMap> point = sharedProducerPoint(producer, consumer)) {
        fuse(rewriter, producer, consumer, *point);
        return success();
      }
    }
    return rewriter.notifyMatchFailure(consumer, "no multi-use producer over the same points");
  }

  static void fuse(PatternRewriter &rewriter, linalg::GenericOp producer,
                   linalg::GenericOp consumer, AffineMap point) {
    SmallVector<Value> inputs, inits;
    SmallVector<AffineMap> maps;
    for (OpOperand *input : consumer.getDpsInputOperands()) {
      if (input->get().getDefiningOp() == producer)
        continue;
      inputs.push_back(input->get());
      maps.push_back(consumer.getMatchingIndexingMap(input));
    }
    // The producer's operands, indexed by the consumer's (the fused op's) loops.
    for (OpOperand *input : producer.getDpsInputOperands()) {
      inputs.push_back(input->get());
      maps.push_back(producer.getMatchingIndexingMap(input).compose(point));
    }
    for (OpOperand &init : producer.getDpsInitsMutable()) {
      inits.push_back(init.get());
      maps.push_back(producer.getMatchingIndexingMap(&init).compose(point));
    }
    for (OpOperand &init : consumer.getDpsInitsMutable()) {
      inits.push_back(init.get());
      maps.push_back(consumer.getMatchingIndexingMap(&init));
    }
    SmallVector<Type> types(producer->getResultTypes());
    llvm::append_range(types, consumer->getResultTypes());
    auto fused = linalg::GenericOp::create(
        rewriter, consumer.getLoc(), types, inputs, inits, maps,
        consumer.getIteratorTypesArray(), [&](OpBuilder &b, Location loc, ValueRange args) {
          buildFusedBody(b, loc, args, producer, consumer, point);
        });
    unsigned produced = producer->getNumResults();
    rewriter.replaceOp(consumer, fused.getResults().drop_front(produced));
    rewriter.replaceOp(producer, fused.getResults().take_front(produced));
  }
};

struct FuseElementwisePass : impl::FuseElementwisePassBase<FuseElementwisePass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    // The pattern set of linalg-fuse-elementwise-ops, with shouldFuse as the
    // control of both the producer fusion and the reshape propagation.
    linalg::populateElementwiseOpsFusionPatterns(patterns, shouldFuse);
    patterns.add<FuseMultiUseProducer>(ctx);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, shouldFuse);
    tensor::populateBubbleUpExpandShapePatterns(patterns);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, ctx);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, ctx);
    ctx->getLoadedDialect<linalg::LinalgDialect>()->getCanonicalizationPatterns(patterns);
    GreedyRewriteConfig config;
    config.setUseTopDownTraversal(true);
    // Not converging within the iteration limit leaves valid, less fused IR
    // (upstream's pass ignores it too).
    (void)applyPatternsGreedily(getOperation(), std::move(patterns), config);
  }
};
} // namespace
} // namespace mpc
