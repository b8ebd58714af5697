#include "compiler/memory.h"

#include <atomic>
#include <cstddef>
#include <mutex>
#include <vector>

// jemalloc's control interface; a weak reference, null when netpolc is linked
// without jemalloc (//third_party:jemalloc).
extern "C" int mallctl(const char* name, void* old_value, size_t* old_length, void* new_value,
                       size_t new_length) __attribute__((weak));

namespace netpolc {

void ReleaseFreedMemory() {
  if (mallctl == nullptr) return;
  // "arena.<MALLCTL_ARENAS_ALL>.purge": every arena's unused dirty pages.
  mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);
}

namespace {

std::atomic<bool> g_exit_after_command{false};

}  // namespace

void SetExitAfterCommand(bool exits) { g_exit_after_command.store(exits); }

bool ExitAfterCommand() { return g_exit_after_command.load(); }

void KeepUntilExit(const void* object) {
  // Never destroyed, as what it holds.
  static auto* kept = new std::vector<const void*>;
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  kept->push_back(object);
}

}  // namespace netpolc
