#include "compiler/parallel.h"

#include <algorithm>
#include <atomic>
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

void ParallelFor(size_t n, const std::function<void(size_t)>& fn) {
  size_t threads = std::min(ThreadCount(), n);
  if (threads <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&] {
    while (!failed.load(std::memory_order_relaxed)) {
      size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= n) return;
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        failed.store(true);
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& thread : pool) thread.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace netpolc
