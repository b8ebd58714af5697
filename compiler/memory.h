// Giving freed memory back to the system, and not freeing what the exit
// reclaims anyway.
#pragma once

#include <type_traits>
#include <utility>

namespace netpolc {

// Returns the pages of the memory freed so far to the system now instead of
// some seconds later (the allocator's decay): called after a large release
// in the middle of a command, so that the peak resident size follows what is
// allocated rather than what was. Does nothing without jemalloc (the
// sanitizer builds).
void ReleaseFreedMemory();

// Set by the netpolc binary's main: the process ends when the command
// returns. Off by default (tests run many commands in one process).
void SetExitAfterCommand(bool exits);
bool ExitAfterCommand();

// Keeps `object` (allocated with new) untouched until the process exits,
// reachable from a global list (so not a leak to leak checkers).
void KeepUntilExit(const void* object);

// Ends the use of `value` at the end of a command: destroyed now, or, when
// the process exits after the command, moved to the heap and left there.
// The command's large structures (a module of 10,000 components) otherwise
// take the last tens of milliseconds of its run, freeing piece by piece
// memory the exit reclaims at once.
template <typename T>
void Discard(T&& value) {
  using Value = std::remove_cvref_t<T>;
  if (ExitAfterCommand()) {
    KeepUntilExit(new Value(std::move(value)));
  } else {
    Value gone(std::move(value));
  }
}

}  // namespace netpolc
