#include "compiler/memory.h"

#include <cstddef>

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

}  // namespace netpolc
