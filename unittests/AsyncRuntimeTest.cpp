//===- AsyncRuntimeTest.cpp - mpc's async runtime without compiled code ---===//
//
// Drives the C functions the way convert-async-to-llvm's code does: tasks
// are (handle, resume) pairs, each emplaces its token when done.
//
//===----------------------------------------------------------------------===//
#include "mpc/Runtime/AsyncRuntime.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <set>
#include <thread>
#include <vector>

extern "C" {
void mlirAsyncRuntimeDropRef(void *, int64_t);
void *mlirAsyncRuntimeCreateToken();
void *mlirAsyncRuntimeCreateGroup(int64_t);
int64_t mlirAsyncRuntimeAddTokenToGroup(void *, void *);
void mlirAsyncRuntimeEmplaceToken(void *);
void mlirAsyncRuntimeSetTokenError(void *);
bool mlirAsyncRuntimeIsGroupError(void *);
void mlirAsyncRuntimeAwaitAllInGroup(void *);
void mlirAsyncRuntimeExecute(void *, void (*)(void *));
int64_t mlirAsyncRuntimGetNumWorkerThreads();
}

namespace {
struct Task {
  void *token;
  std::atomic<int> *done;
  bool fail;
  std::thread::id ranOn;
};

void runTask(void *handle) {
  auto *task = static_cast<Task *>(handle);
  // Slow enough that the caller reaches its await first.
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  task->ranOn = std::this_thread::get_id();
  ++*task->done;
  if (task->fail)
    mlirAsyncRuntimeSetTokenError(task->token);
  else
    mlirAsyncRuntimeEmplaceToken(task->token);
}

/// Runs `count` tasks in one group; returns whether the group had an error.
bool runGroup(std::vector<Task> &tasks, std::atomic<int> &done) {
  void *group = mlirAsyncRuntimeCreateGroup(static_cast<int64_t>(tasks.size()));
  for (size_t i = 0; i < tasks.size(); ++i) {
    tasks[i].token = mlirAsyncRuntimeCreateToken();
    tasks[i].done = &done;
    EXPECT_EQ(mlirAsyncRuntimeAddTokenToGroup(tasks[i].token, group), static_cast<int64_t>(i));
    mlirAsyncRuntimeExecute(&tasks[i], &runTask);
    // The caller's reference; the task's is released by its emplace.
    mlirAsyncRuntimeDropRef(tasks[i].token, 1);
  }
  mlirAsyncRuntimeAwaitAllInGroup(group);
  bool error = mlirAsyncRuntimeIsGroupError(group);
  mlirAsyncRuntimeDropRef(group, 1);
  return error;
}
} // namespace

// One process, one pool: these tests run with two threads.
TEST(AsyncRuntime, GroupIsReadyOnlyWhenEveryTaskIsDone) {
  mpc::runtime::setNumThreads(2);
  ASSERT_EQ(mlirAsyncRuntimGetNumWorkerThreads(), 2);
  std::atomic<int> done{0};
  std::vector<Task> tasks(16, Task{nullptr, nullptr, false, {}});
  EXPECT_FALSE(runGroup(tasks, done));
  EXPECT_EQ(done.load(), 16);
  // Two threads means two busy threads: the pool's one worker and the
  // caller, which runs queued tasks while it waits.
  std::set<std::thread::id> threads;
  for (const Task &task : tasks)
    threads.insert(task.ranOn);
  EXPECT_LE(threads.size(), 2u);
  // The thread count is fixed once the pool runs.
  EXPECT_FALSE(mpc::runtime::setNumThreads(4));
}

TEST(AsyncRuntime, AnErrorTokenMakesTheGroupAnError) {
  mpc::runtime::setNumThreads(2);
  std::atomic<int> done{0};
  std::vector<Task> tasks(4, Task{nullptr, nullptr, false, {}});
  tasks[2].fail = true;
  EXPECT_TRUE(runGroup(tasks, done));
  EXPECT_EQ(done.load(), 4);
}

TEST(AsyncRuntime, EmptyGroupIsReady) {
  void *group = mlirAsyncRuntimeCreateGroup(0);
  mlirAsyncRuntimeAwaitAllInGroup(group);
  EXPECT_FALSE(mlirAsyncRuntimeIsGroupError(group));
  mlirAsyncRuntimeDropRef(group, 1);
}

namespace {
/// Task A waits for task B. With two threads the pool has one worker: if
/// it takes A, only the waiting caller can run B.
struct Pair {
  void *tokenA, *tokenB;
  std::atomic<bool> bDone{false};
  std::atomic<bool> aTimedOut{false};
};

void runA(void *handle) {
  auto *pair = static_cast<Pair *>(handle);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!pair->bDone.load()) {
    if (std::chrono::steady_clock::now() > deadline) {
      pair->aTimedOut = true;
      break;
    }
    std::this_thread::yield();
  }
  mlirAsyncRuntimeEmplaceToken(pair->tokenA);
}

void runB(void *handle) {
  auto *pair = static_cast<Pair *>(handle);
  pair->bDone = true;
  mlirAsyncRuntimeEmplaceToken(pair->tokenB);
}
} // namespace

TEST(AsyncRuntime, TheWaitingCallerRunsQueuedTasks) {
  mpc::runtime::setNumThreads(2);
  for (int round = 0; round < 20; ++round) {
    Pair pair;
    void *group = mlirAsyncRuntimeCreateGroup(2);
    pair.tokenA = mlirAsyncRuntimeCreateToken();
    pair.tokenB = mlirAsyncRuntimeCreateToken();
    mlirAsyncRuntimeAddTokenToGroup(pair.tokenA, group);
    mlirAsyncRuntimeAddTokenToGroup(pair.tokenB, group);
    mlirAsyncRuntimeExecute(&pair, &runA);
    mlirAsyncRuntimeExecute(&pair, &runB);
    mlirAsyncRuntimeDropRef(pair.tokenA, 1);
    mlirAsyncRuntimeDropRef(pair.tokenB, 1);
    mlirAsyncRuntimeAwaitAllInGroup(group);
    mlirAsyncRuntimeDropRef(group, 1);
    ASSERT_FALSE(pair.aTimedOut.load()) << "round " << round << ": task B never ran while A waited";
  }
  // The task that emplaced the last token may still be returning.
  mpc::runtime::waitForIdleWorkers();
}
