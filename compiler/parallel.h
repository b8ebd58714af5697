// A small pool of worker threads for independent work (declarations of a
// rules file, policies, output documents). Results are always gathered in
// index order, so output never depends on the number of threads.
#pragma once

#include <cstddef>
#include <functional>

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

}  // namespace netpolc
