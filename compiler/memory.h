// Giving freed memory back to the system.
#pragma once

namespace netpolc {

// Returns the pages of the memory freed so far to the system now instead of
// some seconds later (the allocator's decay): called after a large release
// in the middle of a command, so that the peak resident size follows what is
// allocated rather than what was. Does nothing without jemalloc (the
// sanitizer builds).
void ReleaseFreedMemory();

}  // namespace netpolc
