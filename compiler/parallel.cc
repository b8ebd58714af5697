#include "compiler/parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace netpolc {

size_t ThreadCount() {
  if (const char* env = std::getenv("NETPOLC_THREADS"); env != nullptr && *env != '\0') {
    size_t n = 0;
    std::string_view text(env);
    bool ok = text.size() <= 4;
    for (char c : text) {
      if (c < '0' || c > '9') ok = false;
      n = n * 10 + static_cast<size_t>(c - '0');
    }
    if (ok && n >= 1 && n <= kMaxThreads) return n;
  }
  unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : std::min<size_t>(cores, kMaxThreads);
}

namespace {

// Set on a thread while it runs calls of a ParallelFor: a ParallelFor
// inside one runs its calls itself, one after the other.
thread_local bool t_in_parallel_for = false;

// One ParallelFor's calls, taken index by index by the threads that work on
// it.
struct Job {
  const std::function<void(size_t)>* fn = nullptr;
  size_t n = 0;
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::exception_ptr error;

  void Work() {
    const bool outer = t_in_parallel_for;
    t_in_parallel_for = true;
    while (!failed.load(std::memory_order_relaxed)) {
      size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= n) break;
      try {
        (*fn)(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        failed.store(true);
      }
    }
    t_in_parallel_for = outer;
  }
};

// Worker threads kept for the life of the process, so that each ParallelFor
// does not start and end threads of its own (and the allocator's caches of
// each thread are kept). One job at a time: a ParallelFor that finds the
// pool busy (called from another thread) runs its calls itself.
class Pool {
 public:
  static Pool& Get() {
    // Never destroyed: the workers wait for work until the process ends.
    static Pool* pool = new Pool;
    return *pool;
  }

  // Runs `job` on the calling thread and `helpers` workers; false when the
  // pool is busy (nothing was run).
  bool Run(Job& job, size_t helpers) {
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    if (!busy.owns_lock()) return false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      while (workers_.size() < helpers) {
        workers_.emplace_back([this] { Serve(); });
        workers_.back().detach();
      }
      job_ = &job;
      wanted_ = helpers;
      active_ = 0;
      ++generation_;
    }
    work_.notify_all();
    job.Work();
    // The job is done once every index is taken and every worker that
    // joined has left it.
    std::unique_lock<std::mutex> lock(mutex_);
    wanted_ = 0;  // no worker joins from now on
    done_.wait(lock, [this] { return active_ == 0; });
    job_ = nullptr;
    return true;
  }

 private:
  Pool() = default;

  void Serve() {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      work_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      if (job_ == nullptr || wanted_ == 0) continue;
      --wanted_;
      ++active_;
      Job* job = job_;
      lock.unlock();
      job->Work();
      lock.lock();
      if (--active_ == 0) done_.notify_all();
    }
  }

  std::mutex busy_;  // held by the thread whose job runs
  std::mutex mutex_;
  std::condition_variable work_;
  std::condition_variable done_;
  std::vector<std::thread> workers_;
  Job* job_ = nullptr;
  size_t wanted_ = 0;  // workers still to join the job
  size_t active_ = 0;  // workers working on it
  uint64_t generation_ = 0;
};

}  // namespace

void ParallelFor(size_t n, const std::function<void(size_t)>& fn) {
  size_t threads = std::min(ThreadCount(), n);
  Job job;
  job.fn = &fn;
  job.n = n;
  if (threads <= 1 || t_in_parallel_for || !Pool::Get().Run(job, threads - 1)) job.Work();
  if (job.error) std::rethrow_exception(job.error);
}

}  // namespace netpolc
