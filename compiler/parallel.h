// A small pool of worker threads for independent work (declarations of a
// rules file, policies, output documents). Results are always gathered in
// index order, so output never depends on the number of threads.
#pragma once

#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

namespace netpolc {

// The number of threads to use: NETPOLC_THREADS when set to a number from 1
// to kMaxThreads, else the number of cores of the machine (at least 1).
size_t ThreadCount();

inline constexpr size_t kMaxThreads = 256;

// Calls fn(i) for every i in [0, n), spread over up to ThreadCount() threads
// (the calling thread is one of them). Each index runs exactly once; the
// order in which indices run is unspecified, so fn must only write to state
// of its own index. Returns when every call has returned. If a call throws,
// the remaining indices are skipped and the first exception is rethrown.
void ParallelFor(size_t n, const std::function<void(size_t)>& fn);

// ParallelFor for many small calls: fn(i) for every i in [0, n), a range of
// `per_job` consecutive indices per job of the pool.
template <typename Fn>
void ParallelForRanges(size_t n, size_t per_job, Fn fn) {
  ParallelFor((n + per_job - 1) / per_job, [&](size_t job) {
    const size_t last = n < (job + 1) * per_job ? n : (job + 1) * per_job;
    for (size_t i = job * per_job; i < last; ++i) fn(i);
  });
}

// Destroys the elements of `items` on the thread pool, ranges of them per
// job, and leaves it empty: for large vectors of objects with parts of their
// own, whose freeing is most of the time their destruction takes.
template <typename T>
void DestroyInParallel(std::vector<T>& items) {
  ParallelForRanges(items.size(), 1024, [&](size_t i) { T gone(std::move(items[i])); });
  std::vector<T>().swap(items);
}

}  // namespace netpolc
