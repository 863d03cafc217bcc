//===- MpcTrainOps.td - losses and gradient ops -----------*- tablegen -*-===//
//
// Ops that exist for training: the losses mpc-append-loss adds and the ops
// gradient rules build (convolution and pooling backward, scatter-add for
// gather). Included from MpcOps.td; they use its base classes.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TRAIN_OPS_TD
#define MPC_TRAIN_OPS_TD

#endif // MPC_TRAIN_OPS_TD
