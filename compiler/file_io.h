// Reading and writing the files named on the command line.
#pragma once

#include <optional>
#include <string>

namespace netpolc {

// Paths given on the command line are relative to the directory the user ran
// the command in; under `bazel run` that is $BUILD_WORKING_DIRECTORY.
std::string ResolvePath(const std::string& path);

// Reads a whole file; on failure returns nullopt and sets `error`.
std::optional<std::string> ReadFile(const std::string& path, std::string& error);

// Writes `text` to `path` atomically (a temporary file in the same directory,
// then a rename), so a failed or interrupted run leaves no partial output.
bool WriteFileAtomically(const std::string& path, const std::string& text, std::string& error);

}  // namespace netpolc
