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
  // Tasks ran on the pool, not in the caller.
  for (const Task &task : tasks)
    EXPECT_NE(task.ranOn, std::this_thread::get_id());
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
