//===- AsyncRuntime.cpp - tokens, groups and a thread pool for async code --===//
//
// The C functions that convert-async-to-llvm emits calls to, written from
// their documented contract (mlir/ExecutionEngine/AsyncRuntime.h):
//  - tokens, values and groups are reference counted; the compiled code
//    adds and drops references as it uses them. A group starts with one
//    reference, a token or value with two: one for the code that gets it,
//    one for the task that will emplace it (released by the emplace, as the
//    caller may drop its own before the task finishes);
//  - a token or value is "unavailable" until emplaced (or set to error), then
//    wakes blocking waiters and runs the callbacks queued on it;
//  - a group is ready once every token added to it so far is ready;
//  - Execute / Await*AndExecute resume a coroutine (handle + resume
//    function), now or when the awaited object becomes ready.
// Callbacks run outside the object's lock: a callback may resume a
// coroutine that drops the last reference to the object.
//
//===----------------------------------------------------------------------===//
#include "mpc/Runtime/AsyncRuntime.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace mpc::runtime {
namespace {

using CoroHandle = void *;
using CoroResume = void (*)(void *);

/// One type behind async.token, async.value and async.group: the compiled
/// code only ever passes back the pointers it was given.
struct AsyncObject {
  std::atomic<int64_t> refs{1};
  std::mutex mutex;
  std::condition_variable readyCondition;
  // Written under `mutex`; read without it by threads polling for readiness.
  std::atomic<bool> ready{false};
  bool error = false;
  // Groups: tokens added and not yet ready, and tokens added in all.
  int64_t pending = 0;
  int64_t added = 0;
  // Values: the payload, max-aligned because the compiled code stores
  // arbitrary LLVM types (memref descriptors) in it.
  std::unique_ptr<std::max_align_t[]> storage;
  std::vector<std::function<void()>> awaiters;
};

AsyncObject *object(void *ptr) { return static_cast<AsyncObject *>(ptr); }

/// Marks `obj` ready (with `error`) under its lock; returns the callbacks
/// to run once the lock is released.
std::vector<std::function<void()>> markReadyLocked(AsyncObject *obj, bool error) {
  obj->ready = true;
  obj->error = obj->error || error;
  std::vector<std::function<void()>> awaiters;
  awaiters.swap(obj->awaiters);
  obj->readyCondition.notify_all();
  return awaiters;
}

void runAll(std::vector<std::function<void()>> &awaiters) {
  for (auto &awaiter : awaiters)
    awaiter();
}

void mlirDropRef(AsyncObject *obj, int64_t count) {
  if (obj->refs.fetch_sub(count) == count)
    delete obj;
}

/// A token or value becomes ready: wake waiters, run callbacks, release the
/// emplacing task's reference.
void emplace(AsyncObject *obj, bool error) {
  std::vector<std::function<void()>> awaiters;
  {
    std::lock_guard<std::mutex> lock(obj->mutex);
    awaiters = markReadyLocked(obj, error);
  }
  runAll(awaiters);
  mlirDropRef(obj, 1);
}

/// Runs `callback` now if `obj` is ready, else when it becomes ready.
void whenReady(AsyncObject *obj, std::function<void()> callback) {
  {
    std::lock_guard<std::mutex> lock(obj->mutex);
    if (!obj->ready) {
      obj->awaiters.push_back(std::move(callback));
      return;
    }
  }
  callback();
}

std::atomic<int> requestedThreads{0};

int defaultThreads() {
  if (const char *env = std::getenv("MPC_NUM_THREADS")) {
    char *end = nullptr;
    long value = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && value >= 1 && value <= 1024)
      return static_cast<int>(value);
  }
  unsigned hardware = std::thread::hardware_concurrency();
  return hardware == 0 ? 1 : static_cast<int>(hardware);
}

/// How long an idle thread polls for new work before it sleeps on a
/// condition variable. Parallel loops of a model follow each other within
/// microseconds; a futex wake-up costs tens of microseconds on a busy machine,
/// more than many loops take. MPC_SPIN_US overrides it (0: always sleep).
int64_t spinMicroseconds() {
  static const int64_t value = [] {
    if (const char *env = std::getenv("MPC_SPIN_US")) {
      char *end = nullptr;
      long long parsed = std::strtoll(env, &end, 10);
      if (end != env && *end == '\0' && parsed >= 0 && parsed <= 1000000)
        return static_cast<int64_t>(parsed);
    }
    return static_cast<int64_t>(200);
  }();
  return value;
}

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

/// Polls `done` for up to spinMicroseconds(); true once it holds.
template <typename Predicate> bool spinUntil(Predicate done) {
  const int64_t budget = spinMicroseconds();
  if (budget == 0)
    return done();
  auto start = std::chrono::steady_clock::now();
  for (unsigned i = 1;; ++i) {
    if (done())
      return true;
    cpuRelax();
    // Every 64 polls (about a microsecond): check the clock, and give the
    // core away if another thread is waiting for it. On a machine with more
    // runnable threads than cores, polling would take time from the thread
    // doing the work it waits for.
    if (i % 64 == 0) {
      if (std::chrono::steady_clock::now() - start > std::chrono::microseconds(budget))
        return done();
      std::this_thread::yield();
    }
  }
}

/// numThreads() - 1 worker threads: the thread that runs a parallel loop
/// computes its share and, while it waits for the rest, runs queued tasks
/// itself (runOneTask), so N threads means N busy threads, never N + 1.
/// With one thread no worker exists and every task runs in the thread that
/// schedules it.
class ThreadPool {
public:
  explicit ThreadPool(int threads) {
    for (int i = 1; i < threads; ++i)
      workers_.emplace_back([this] { work(); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread &worker : workers_)
      worker.join();
  }

  void submit(CoroHandle handle, CoroResume resume) {
    if (workers_.empty()) {
      resume(handle);
      return;
    }
    bool wakeOne;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      tasks_.emplace_back(handle, resume);
      queued_.fetch_add(1, std::memory_order_release);
      wakeOne = sleeping_ > 0;
    }
    if (wakeOne)
      wake_.notify_one();
  }

  /// Runs one queued task in the calling thread; false when none is queued.
  bool runOneTask() {
    if (queued_.load(std::memory_order_acquire) == 0)
      return false;
    std::pair<CoroHandle, CoroResume> task;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (tasks_.empty())
        return false;
      task = tasks_.front();
      tasks_.pop_front();
      queued_.fetch_sub(1, std::memory_order_relaxed);
      ++running_;
    }
    task.second(task.first);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --running_;
    }
    idle_.notify_all();
    return true;
  }

  bool hasQueuedTasks() const { return queued_.load(std::memory_order_acquire) != 0; }

  /// Blocks until no task is queued or running.
  void waitIdle() {
    std::unique_lock<std::mutex> lock(mutex_);
    idle_.wait(lock, [&] { return tasks_.empty() && running_ == 0; });
  }

private:
  void work() {
    for (;;) {
      if (runOneTask())
        continue;
      if (spinUntil([&] { return queued_.load(std::memory_order_acquire) != 0 || stopping_.load(); }) &&
          !stopping_.load())
        continue;
      std::unique_lock<std::mutex> lock(mutex_);
      ++sleeping_;
      wake_.wait(lock, [&] { return stopping_.load() || !tasks_.empty(); });
      --sleeping_;
      if (tasks_.empty())
        return; // stopping
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<std::pair<CoroHandle, CoroResume>> tasks_;
  std::atomic<int64_t> queued_{0};
  int running_ = 0;
  int sleeping_ = 0;
  std::vector<std::thread> workers_;
  std::atomic<bool> stopping_{false};
};

std::atomic<bool> poolStarted{false};

ThreadPool &pool() {
  static ThreadPool instance([] {
    poolStarted = true;
    return numThreads();
  }());
  return instance;
}

/// Blocking wait of compiled code (the end of a parallel loop): run the
/// loop's queued blocks while they last, poll for a while, then sleep.
void awaitReady(AsyncObject *obj) {
  auto isReady = [obj] { return obj->ready.load(std::memory_order_acquire); };
  ThreadPool &threads = pool();
  for (;;) {
    if (isReady())
      return;
    if (threads.runOneTask())
      continue;
    if (!spinUntil([&] { return isReady() || threads.hasQueuedTasks(); }))
      break;
  }
  std::unique_lock<std::mutex> lock(obj->mutex);
  obj->readyCondition.wait(lock, isReady);
}

} // namespace

bool setNumThreads(int threads) {
  if (threads < 1 || poolStarted)
    return false;
  requestedThreads = threads;
  return true;
}

void waitForIdleWorkers() {
  if (poolStarted)
    pool().waitIdle();
}

int numThreads() {
  int requested = requestedThreads;
  return requested > 0 ? requested : defaultThreads();
}

} // namespace mpc::runtime

using namespace mpc::runtime;

extern "C" {

void mlirAsyncRuntimeAddRef(void *ptr, int64_t count) { object(ptr)->refs += count; }

void mlirAsyncRuntimeDropRef(void *ptr, int64_t count) { mlirDropRef(object(ptr), count); }

void *mlirAsyncRuntimeCreateToken() {
  auto *token = new AsyncObject();
  token->refs = 2;
  return token;
}

void *mlirAsyncRuntimeCreateValue(int64_t size) {
  auto *value = new AsyncObject();
  value->refs = 2;
  size_t slots = (static_cast<size_t>(size) + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t);
  value->storage.reset(new std::max_align_t[slots == 0 ? 1 : slots]);
  return value;
}

// A group with nothing added is ready; `size` is only a capacity hint.
void *mlirAsyncRuntimeCreateGroup(int64_t) {
  auto *group = new AsyncObject();
  group->ready = true;
  return group;
}

int64_t mlirAsyncRuntimeAddTokenToGroup(void *tokenPtr, void *groupPtr) {
  AsyncObject *token = object(tokenPtr), *group = object(groupPtr);
  int64_t rank;
  {
    std::lock_guard<std::mutex> lock(group->mutex);
    rank = group->added++;
    ++group->pending;
    group->ready = false;
  }
  // The group must outlive the token's callback even if the compiled code
  // drops its own references first.
  group->refs += 1;
  whenReady(token, [token, group] {
    bool tokenError;
    {
      std::lock_guard<std::mutex> lock(token->mutex);
      tokenError = token->error;
    }
    // Ready only when the count reaches zero under the same lock, so a
    // token added meanwhile cannot be overtaken.
    std::vector<std::function<void()>> awaiters;
    {
      std::lock_guard<std::mutex> lock(group->mutex);
      group->error = group->error || tokenError;
      if (--group->pending == 0)
        awaiters = markReadyLocked(group, false);
    }
    runAll(awaiters);
    mlirDropRef(group, 1);
  });
  return rank;
}

void mlirAsyncRuntimeEmplaceToken(void *token) { emplace(object(token), false); }
void mlirAsyncRuntimeEmplaceValue(void *value) { emplace(object(value), false); }
void mlirAsyncRuntimeSetTokenError(void *token) { emplace(object(token), true); }
void mlirAsyncRuntimeSetValueError(void *value) { emplace(object(value), true); }

static bool hasError(void *ptr) {
  std::lock_guard<std::mutex> lock(object(ptr)->mutex);
  return object(ptr)->error;
}
bool mlirAsyncRuntimeIsTokenError(void *token) { return hasError(token); }
bool mlirAsyncRuntimeIsValueError(void *value) { return hasError(value); }
bool mlirAsyncRuntimeIsGroupError(void *group) { return hasError(group); }

void mlirAsyncRuntimeAwaitToken(void *token) { awaitReady(object(token)); }
void mlirAsyncRuntimeAwaitValue(void *value) { awaitReady(object(value)); }
void mlirAsyncRuntimeAwaitAllInGroup(void *group) { awaitReady(object(group)); }

void *mlirAsyncRuntimeGetValueStorage(void *value) { return object(value)->storage.get(); }

void mlirAsyncRuntimeExecute(void *handle, void (*resume)(void *)) { pool().submit(handle, resume); }

static void resumeWhenReady(void *ptr, void *handle, void (*resume)(void *)) {
  whenReady(object(ptr), [handle, resume] { resume(handle); });
}
void mlirAsyncRuntimeAwaitTokenAndExecute(void *token, void *handle, void (*resume)(void *)) {
  resumeWhenReady(token, handle, resume);
}
void mlirAsyncRuntimeAwaitValueAndExecute(void *value, void *handle, void (*resume)(void *)) {
  resumeWhenReady(value, handle, resume);
}
void mlirAsyncRuntimeAwaitAllInGroupAndExecute(void *group, void *handle, void (*resume)(void *)) {
  resumeWhenReady(group, handle, resume);
}

// The misspelling is the symbol convert-async-to-llvm emits (MLIR 22).
int64_t mlirAsyncRuntimGetNumWorkerThreads() { return numThreads(); }

} // extern "C"

namespace mpc::runtime {
std::vector<std::pair<std::string, void *>> asyncRuntimeSymbols() {
  auto entry = [](const char *name, auto *function) {
    return std::pair<std::string, void *>(name, reinterpret_cast<void *>(function));
  };
  return {
      entry("mlirAsyncRuntimeAddRef", &mlirAsyncRuntimeAddRef),
      entry("mlirAsyncRuntimeDropRef", &mlirAsyncRuntimeDropRef),
      entry("mlirAsyncRuntimeCreateToken", &mlirAsyncRuntimeCreateToken),
      entry("mlirAsyncRuntimeCreateValue", &mlirAsyncRuntimeCreateValue),
      entry("mlirAsyncRuntimeCreateGroup", &mlirAsyncRuntimeCreateGroup),
      entry("mlirAsyncRuntimeAddTokenToGroup", &mlirAsyncRuntimeAddTokenToGroup),
      entry("mlirAsyncRuntimeEmplaceToken", &mlirAsyncRuntimeEmplaceToken),
      entry("mlirAsyncRuntimeEmplaceValue", &mlirAsyncRuntimeEmplaceValue),
      entry("mlirAsyncRuntimeSetTokenError", &mlirAsyncRuntimeSetTokenError),
      entry("mlirAsyncRuntimeSetValueError", &mlirAsyncRuntimeSetValueError),
      entry("mlirAsyncRuntimeIsTokenError", &mlirAsyncRuntimeIsTokenError),
      entry("mlirAsyncRuntimeIsValueError", &mlirAsyncRuntimeIsValueError),
      entry("mlirAsyncRuntimeIsGroupError", &mlirAsyncRuntimeIsGroupError),
      entry("mlirAsyncRuntimeAwaitToken", &mlirAsyncRuntimeAwaitToken),
      entry("mlirAsyncRuntimeAwaitValue", &mlirAsyncRuntimeAwaitValue),
      entry("mlirAsyncRuntimeAwaitAllInGroup", &mlirAsyncRuntimeAwaitAllInGroup),
      entry("mlirAsyncRuntimeGetValueStorage", &mlirAsyncRuntimeGetValueStorage),
      entry("mlirAsyncRuntimeExecute", &mlirAsyncRuntimeExecute),
      entry("mlirAsyncRuntimeAwaitTokenAndExecute", &mlirAsyncRuntimeAwaitTokenAndExecute),
      entry("mlirAsyncRuntimeAwaitValueAndExecute", &mlirAsyncRuntimeAwaitValueAndExecute),
      entry("mlirAsyncRuntimeAwaitAllInGroupAndExecute", &mlirAsyncRuntimeAwaitAllInGroupAndExecute),
      entry("mlirAsyncRuntimGetNumWorkerThreads", &mlirAsyncRuntimGetNumWorkerThreads),
  };
}
} // namespace mpc::runtime
