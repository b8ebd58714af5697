// Reading and writing the files named on the command line.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netpolc {

// Read limits (docs/design.md, "Bounds"). Reads stop at the limit: a larger
// input (or an endless one, like /dev/zero) is refused without being read
// to its end.
inline constexpr size_t kMaxRulesFileBytes = size_t{64} << 20;  // = kMaxSourceBytes
inline constexpr size_t kMaxValuesFileBytes = size_t{1} << 20;  // --values files
inline constexpr size_t kMaxTemplateBytes = size_t{4} << 20;    // --template files

// Paths given on the command line are relative to the directory the user ran
// the command in; under `bazel run` that is $BUILD_WORKING_DIRECTORY.
std::string ResolvePath(const std::string& path);

// The name under which an input is shown: "<stdin>" for "-", else `path`.
std::string DisplayName(const std::string& path);

// Reads a whole file ("-" reads stdin) of at most `max_bytes` bytes; on
// failure (including a larger input) returns nullopt and sets `error`.
std::optional<std::string> ReadFile(const std::string& path, std::string& error,
                                    size_t max_bytes = kMaxRulesFileBytes);

// The identity of a file (device and inode, after following symlinks; for
// "-", of stdin), or nullopt when it does not exist.
struct FileIdentity {
  dev_t device;
  ino_t inode;
  friend bool operator==(const FileIdentity&, const FileIdentity&) = default;
};
std::optional<FileIdentity> IdentifyFile(const std::string& path);

// The first of `inputs` that is the same file as `output` (by device and
// inode, so another name, a hard link or a symlink counts), if any.
std::optional<std::string> FindOutputAmongInputs(const std::string& output,
                                                 const std::vector<std::string>& inputs);

// Writes `text` to the output `path` (docs/design.md, "Output files"):
// - symlinks are followed to the file they name (a dangling link creates it);
// - a device, FIFO or socket (/dev/null, /dev/stdout) is written directly;
// - a new file is created with mode 0666 minus the umask;
// - an existing regular file keeps its mode, owner, group and hard links: it
//   is replaced atomically (a temporary file in its directory, then a
//   rename) when it has one link and its owner can be given to a new file,
//   otherwise rewritten in place after its new size was reserved;
// - a read-only file, a directory or a name ending in '/' is refused.
// A failed or interrupted run (SIGINT, SIGTERM, SIGHUP) leaves the old file
// as it was and no temporary file behind.
bool WriteFileAtomically(const std::string& path, const std::string& text, std::string& error);

// Writes text to a descriptor from a thread of its own, in order, so that
// the kernel's copying of it overlaps with making the next: Write queues the
// text (waiting while 16 MiB are queued) and the thread, started by the
// first Write, writes it. After a failed write the rest is dropped. Used
// from one thread.
class AsyncWriter {
 public:
  explicit AsyncWriter(int fd);
  AsyncWriter(const AsyncWriter&) = delete;
  AsyncWriter& operator=(const AsyncWriter&) = delete;
  ~AsyncWriter();  // finishes writing what is queued

  // False (nothing queued) once a write has failed.
  bool Write(std::string text);
  // Waits for the queued text to be written; false with `error` (strerror)
  // when a write failed.
  bool Finish(std::string& error);

 private:
  struct Queue;
  Queue* queue_;
};

// An output file written while its text is produced, with what
// WriteFileAtomically guarantees. Where WriteFileAtomically would replace the
// file by a rename (a new file, or a regular file with one link whose owner
// can be given to a new one, in a directory that can be written), the text
// goes to the temporary file as it comes and Commit renames it; anywhere
// else it is kept, and Commit hands it to WriteFileAtomically. Unless Commit
// succeeds, nothing changes at `path` and no temporary file stays behind.
// An OutputFile is used from one thread.
class OutputFile {
 public:
  explicit OutputFile(const std::string& path);
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  ~OutputFile();

  // Appends `text` (taken over: the file may be written later, by a thread
  // of its own). On a write error returns false and sets `error`; later
  // calls, Commit included, fail with the same error.
  bool Append(std::string text, std::string& error);
  // Writes what is left and puts the file in place; false with `error` when
  // that fails (or an Append did).
  bool Commit(std::string& error);

 private:
  struct Impl;
  Impl* impl_;
};

// The size of the regular file at `path` (ResolvePath), or nullopt when it
// is not one ("-" included) or cannot be examined.
std::optional<uint64_t> RegularFileSize(const std::string& path);

// Writes all of `data` to the descriptor `fd`, retrying short writes; on
// failure sets `error` (strerror) and returns false.
bool WriteAll(int fd, std::string_view data, std::string& error);

}  // namespace netpolc
