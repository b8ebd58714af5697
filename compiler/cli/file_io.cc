#include "compiler/cli/file_io.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace netpolc {
namespace {

std::string SizeText(size_t bytes) {
  if (bytes % (size_t{1} << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " bytes";
}

std::string TooLarge(size_t max_bytes) {
  return "it is larger than the limit of " + SizeText(max_bytes);
}

std::string Dirname(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// When `path` is a symlink, the path it points to (a relative link target is
// relative to the link's directory); nullopt when it is not one, or on error
// (then `error` is set).
std::optional<std::string> LinkTarget(const std::string& path, std::string& error) {
  struct stat info;
  if (lstat(path.c_str(), &info) != 0 || !S_ISLNK(info.st_mode)) return std::nullopt;
  std::vector<char> buffer(PATH_MAX + 1);
  ssize_t n = readlink(path.c_str(), buffer.data(), buffer.size() - 1);
  if (n <= 0) {
    error = std::strerror(n < 0 ? errno : ENOENT);
    return std::nullopt;
  }
  std::string target(buffer.data(), static_cast<size_t>(n));
  if (target[0] != '/') {
    size_t slash = path.rfind('/');
    if (slash != std::string::npos) target = path.substr(0, slash + 1) + target;
  }
  return target;
}

// Follows `path` while it is a symlink. Sets `error` on a loop.
std::optional<std::string> FollowLinks(std::string path, std::string& error) {
  for (int hops = 0; hops < 40; ++hops) {
    error.clear();
    std::optional<std::string> target = LinkTarget(path, error);
    if (!target) {
      if (!error.empty()) return std::nullopt;
      return path;
    }
    path = std::move(*target);
  }
  error = std::strerror(ELOOP);
  return std::nullopt;
}

// The number of one of this process's descriptors when `path` names it
// (/dev/fd/N, /proc/self/fd/N, /proc/PID/fd/N; /dev/stdout links to one).
std::optional<int> OwnDescriptor(const std::string& path) {
  const std::string prefixes[] = {"/dev/fd/", "/proc/self/fd/",
                                  "/proc/" + std::to_string(getpid()) + "/fd/"};
  for (const std::string& prefix : prefixes) {
    if (path.size() <= prefix.size() || path.compare(0, prefix.size(), prefix) != 0) continue;
    std::string digits = path.substr(prefix.size());
    if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    return std::stoi(digits);
  }
  return std::nullopt;
}

// Whether `path`, or a symlink on the way from it, names one of our own
// descriptors; sets `fd` to it.
bool NamesOwnDescriptor(std::string path, int& fd) {
  std::string error;
  for (int hops = 0; hops < 40; ++hops) {
    if (std::optional<int> own = OwnDescriptor(path)) {
      fd = *own;
      return true;
    }
    std::optional<std::string> target = LinkTarget(path, error);
    if (!target) return false;
    path = std::move(*target);
  }
  return false;
}

// The temporary file of the write in progress, removed by the signal
// handler when the run is interrupted.
char g_temp_path[PATH_MAX + 1];
volatile sig_atomic_t g_temp_active = 0;
constexpr int kCleanupSignals[] = {SIGINT, SIGTERM, SIGHUP};

extern "C" void RemoveTempAndReraise(int signal_number) {
  if (g_temp_active) unlink(g_temp_path);
  g_temp_active = 0;
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  sigaction(signal_number, &action, nullptr);
  raise(signal_number);
}

// A temporary file next to the target, short-named (".npXXXXXX") so that
// targets with names near NAME_MAX work; removed on destruction unless
// committed, and on SIGINT, SIGTERM and SIGHUP while it exists.
class TempFile {
 public:
  explicit TempFile(const std::string& directory) {
    std::string name = directory + "/.npXXXXXX";
    if (name.size() > PATH_MAX) {
      errno = ENAMETOOLONG;
      return;
    }
    std::memcpy(g_temp_path, name.c_str(), name.size() + 1);
    InstallHandlers();
    // The cleanup signals wait while the file is created and marked active:
    // one arriving in between would otherwise leave the file behind.
    sigset_t cleanup, previous;
    sigemptyset(&cleanup);
    for (int signal_number : kCleanupSignals) sigaddset(&cleanup, signal_number);
    sigprocmask(SIG_BLOCK, &cleanup, &previous);
    fd_ = mkstemp(g_temp_path);  // mode 0600 until the end
    int saved = errno;
    if (fd_ >= 0) g_temp_active = 1;
    sigprocmask(SIG_SETMASK, &previous, nullptr);
    if (fd_ < 0) {
      RestoreHandlers();
      errno = saved;
      return;
    }
    path_ = g_temp_path;
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  ~TempFile() {
    if (fd_ >= 0) close(fd_);
    if (!path_.empty()) {
      // Unlinked first: a signal in between finds the file already gone.
      unlink(path_.c_str());
      g_temp_active = 0;
      RestoreHandlers();
    }
  }

  int fd() const { return fd_; }

  // Closes the file and renames it to `target`.
  bool Commit(const std::string& target, std::string& error) {
    int fd = fd_;
    fd_ = -1;
    if (close(fd) != 0) {
      error = std::strerror(errno);
      return false;
    }
    if (std::rename(path_.c_str(), target.c_str()) != 0) {
      error = std::strerror(errno);
      return false;
    }
    g_temp_active = 0;
    path_.clear();
    RestoreHandlers();
    return true;
  }

 private:
  void InstallHandlers() {
    for (size_t i = 0; i < std::size(kCleanupSignals); ++i) {
      struct sigaction action {};
      action.sa_handler = RemoveTempAndReraise;
      sigemptyset(&action.sa_mask);
      installed_[i] = false;
      if (sigaction(kCleanupSignals[i], nullptr, &old_[i]) != 0) continue;
      if (old_[i].sa_handler == SIG_IGN) continue;  // e.g. SIGHUP under nohup
      installed_[i] = sigaction(kCleanupSignals[i], &action, nullptr) == 0;
    }
  }
  void RestoreHandlers() {
    for (size_t i = 0; i < std::size(kCleanupSignals); ++i) {
      if (installed_[i]) sigaction(kCleanupSignals[i], &old_[i], nullptr);
      installed_[i] = false;
    }
  }

  int fd_ = -1;
  std::string path_;
  struct sigaction old_[std::size(kCleanupSignals)] {};
  bool installed_[std::size(kCleanupSignals)] = {};
};

// Writes into a device, FIFO or socket as it is.
bool WriteDirectly(const std::string& path, const std::string& text, std::string& error) {
  int fd = open(path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    error = std::strerror(errno);
    return false;
  }
  bool ok = WriteAll(fd, text, error);
  if (close(fd) != 0 && ok) {
    error = std::strerror(errno);
    ok = false;
  }
  return ok;
}

// Rewrites an existing regular file in place, keeping its inode (so its
// links, owner, mode, ACLs): the new size is reserved first, so that a full
// disk fails before anything was overwritten.
bool RewriteInPlace(const std::string& path, const struct stat& before, const std::string& text,
                    std::string& error) {
  int fd = open(path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    error = std::strerror(errno);
    return false;
  }
  off_t size = static_cast<off_t>(text.size());
  if (size > before.st_size) {
    int status = posix_fallocate(fd, 0, size);
    if (status != 0 && status != EOPNOTSUPP) {
      error = std::strerror(status);
      if (ftruncate(fd, before.st_size) != 0) {
        // The file keeps its old text; only its size may have grown.
      }
      close(fd);
      return false;
    }
  }
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = pwrite(fd, text.data() + done, text.size() - done, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      error = std::string(std::strerror(errno)) + " (the file may be partly rewritten)";
      close(fd);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  if (ftruncate(fd, size) != 0) {
    error = std::strerror(errno);
    close(fd);
    return false;
  }
  if (close(fd) != 0) {
    error = std::strerror(errno);
    return false;
  }
  return true;
}

mode_t CurrentUmask() {
  mode_t mask = umask(0);
  umask(mask);
  return mask;
}

// Where WriteFileAtomically writes an output path: the checks and
// decisions before anything is written, shared with OutputFile.
struct Route {
  enum class Kind {
    kRefused,        // `error` says why
    kOwnDescriptor,  // `fd`, one of this process's descriptors
    kDirect,         // `path`, a device, FIFO or socket, opened and written
    kInPlace,        // `path`, an existing file rewritten in place
    kReplace,        // `path`, a regular file (existing when `before` is set)
                     // replaced by a temporary file renamed over it
  };
  Kind kind = Kind::kRefused;
  std::string path;
  int fd = -1;
  std::optional<struct stat> before;
  std::string error;
};

Route RouteOf(const std::string& output) {
  Route route;
  std::string target = ResolvePath(output);
  if (target.empty()) {
    route.error = std::strerror(ENOENT);
    return route;
  }
  // -o /dev/stdout and the like: written through the descriptor itself, at
  // its offset and with its flags (a `>> log` keeps appending).
  if (NamesOwnDescriptor(target, route.fd)) {
    route.kind = Route::Kind::kOwnDescriptor;
    return route;
  }
  struct stat info;
  if (stat(target.c_str(), &info) == 0) {
    if (S_ISDIR(info.st_mode)) {
      route.error = "it is a directory";
      return route;
    }
    if (!S_ISREG(info.st_mode)) {
      route.kind = Route::Kind::kDirect;
      route.path = std::move(target);
      return route;
    }
    if ((info.st_mode & 0222) == 0) {
      route.error = "it is read-only";
      return route;
    }
    if (access(target.c_str(), W_OK) != 0) {
      route.error = std::strerror(errno);
      return route;
    }
    std::optional<std::string> real = FollowLinks(target, route.error);
    if (!real) return route;
    route.before = info;
    struct stat real_info;
    if (stat(real->c_str(), &real_info) != 0 || real_info.st_dev != info.st_dev ||
        real_info.st_ino != info.st_ino) {
      // The link does not name a path (a /proc/self/fd entry of a deleted
      // file, say): keep the inode.
      route.kind = Route::Kind::kInPlace;
      route.path = std::move(target);
      return route;
    }
    // A rename would break the other links.
    route.kind = info.st_nlink > 1 ? Route::Kind::kInPlace : Route::Kind::kReplace;
    route.path = std::move(*real);
    return route;
  }
  if (errno != ENOENT) {
    route.error = std::strerror(errno);
    return route;
  }
  if (target.back() == '/') {
    route.error = "the name ends in '/', so it names a directory, not a file";
    return route;
  }
  // A new file, possibly at the end of a dangling symlink.
  std::optional<std::string> real = FollowLinks(target, route.error);
  if (!real) return route;
  route.kind = Route::Kind::kReplace;
  route.path = std::move(*real);
  return route;
}

// The temporary file that replaces the regular file `real` (existing when
// `before` is set), with the owner and mode the file will have; nullptr on
// failure, with `error` set, or with `in_place` set when the file is to be
// rewritten in place instead (its directory cannot be written, or a new
// file cannot have its owner).
std::unique_ptr<TempFile> ReplacementFor(const std::string& real,
                                         const std::optional<struct stat>& before,
                                         bool& in_place, std::string& error) {
  in_place = false;
  auto temp = std::make_unique<TempFile>(Dirname(real));
  if (temp->fd() < 0) {
    int saved = errno;
    // The directory is not writable, the file is.
    in_place = before && (saved == EACCES || saved == EPERM);
    error = std::strerror(saved);
    return nullptr;
  }
  if (before) {
    struct stat mine;
    if (fstat(temp->fd(), &mine) != 0) {
      error = std::strerror(errno);
      return nullptr;
    }
    if ((mine.st_uid != before->st_uid || mine.st_gid != before->st_gid) &&
        fchown(temp->fd(), before->st_uid, before->st_gid) != 0) {
      // A new file cannot have the old one's owner: keep the inode.
      in_place = true;
      return nullptr;
    }
    // After fchown, since changing the owner clears set-user-ID bits.
    if (fchmod(temp->fd(), before->st_mode & 07777) != 0) {
      error = std::strerror(errno);
      return nullptr;
    }
  } else if (fchmod(temp->fd(), 0666 & ~CurrentUmask()) != 0) {
    error = std::strerror(errno);
    return nullptr;
  }
  return temp;
}

}  // namespace

struct AsyncWriter::Queue {
  static constexpr size_t kMaxQueued = size_t{16} << 20;

  int fd;
  std::thread thread;
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::string> texts;
  size_t queued = 0;     // bytes in `texts`
  bool closing = false;  // no more text comes
  std::string error;     // of a failed write

  void Serve() {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      changed.wait(lock, [&] { return !texts.empty() || closing; });
      if (texts.empty()) return;
      std::string text = std::move(texts.front());
      texts.pop_front();
      const bool failed = !error.empty();
      lock.unlock();
      std::string failure;
      const bool ok = failed || WriteAll(fd, text, failure);
      lock.lock();
      queued -= text.size();
      if (!ok) error = failure;
      changed.notify_all();
    }
  }
};

AsyncWriter::AsyncWriter(int fd) : queue_(new Queue) { queue_->fd = fd; }

AsyncWriter::~AsyncWriter() {
  std::string ignored;
  Finish(ignored);
  delete queue_;
}

bool AsyncWriter::Write(std::string text) {
  Queue& q = *queue_;
  std::unique_lock<std::mutex> lock(q.mutex);
  if (!q.error.empty()) return false;
  if (text.empty()) return true;
  if (!q.thread.joinable()) {
    q.closing = false;
    q.thread = std::thread([&q] { q.Serve(); });
  }
  q.changed.wait(lock, [&] { return q.queued < Queue::kMaxQueued || !q.error.empty(); });
  q.queued += text.size();
  q.texts.push_back(std::move(text));
  lock.unlock();
  q.changed.notify_all();
  return true;
}

bool AsyncWriter::Finish(std::string& error) {
  Queue& q = *queue_;
  if (q.thread.joinable()) {
    {
      std::lock_guard<std::mutex> lock(q.mutex);
      q.closing = true;
    }
    q.changed.notify_all();
    q.thread.join();
  }
  if (q.error.empty()) return true;
  error = q.error;
  return false;
}

// The temporary file is written by an AsyncWriter, so that the kernel's
// copying of the text overlaps with rendering the next.
struct OutputFile::Impl {
  std::string path;
  std::string real;                // the file the temporary one replaces
  std::unique_ptr<TempFile> temp;  // nullptr: the text is kept
  std::unique_ptr<AsyncWriter> writer;  // of `temp`
  std::string kept;
};

OutputFile::OutputFile(const std::string& path) : impl_(new Impl) {
  impl_->path = path;
  // Anything but a replacement that can be made now is left to
  // WriteFileAtomically, which meets the same route (and any error) at Commit.
  Route route = RouteOf(path);
  if (route.kind != Route::Kind::kReplace) return;
  bool in_place = false;
  std::string error;
  impl_->temp = ReplacementFor(route.path, route.before, in_place, error);
  if (impl_->temp != nullptr) impl_->real = std::move(route.path);
}

OutputFile::~OutputFile() {
  impl_->writer.reset();  // finishes writing
  delete impl_;           // removes the temporary file unless committed
}

bool OutputFile::Append(std::string text, std::string& error) {
  if (impl_->temp == nullptr) {
    impl_->kept += text;
    return true;
  }
  if (impl_->writer == nullptr) impl_->writer = std::make_unique<AsyncWriter>(impl_->temp->fd());
  if (impl_->writer->Write(std::move(text))) return true;
  impl_->writer->Finish(error);
  return false;
}

bool OutputFile::Commit(std::string& error) {
  if (impl_->temp == nullptr) return WriteFileAtomically(impl_->path, impl_->kept, error);
  if (impl_->writer != nullptr && !impl_->writer->Finish(error)) {
    impl_->temp.reset();
    return false;
  }
  bool ok = impl_->temp->Commit(impl_->real, error);
  impl_->temp.reset();
  return ok;
}

std::string ResolvePath(const std::string& path) {
  if (path.empty() || path[0] == '/' || path == "-") return path;
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
  if (cwd == nullptr || *cwd == '\0') return path;
  return std::string(cwd) + "/" + path;
}

std::string DisplayName(const std::string& path) { return path == "-" ? "<stdin>" : path; }

std::optional<std::string> ReadFile(const std::string& path, std::string& error,
                                    size_t max_bytes) {
  const bool is_stdin = path == "-";
  int fd = is_stdin ? STDIN_FILENO
                    : open(ResolvePath(path).c_str(), O_RDONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  auto fail = [&](std::string message) -> std::optional<std::string> {
    error = std::move(message);
    if (!is_stdin) close(fd);
    return std::nullopt;
  };
  struct stat info;
  if (fstat(fd, &info) != 0) return fail(std::strerror(errno));
  if (S_ISDIR(info.st_mode)) return fail("it is a directory");
  std::string text;
  // A regular file's size is known: room for it and one more byte (which
  // tells whether it grew) is reserved, and reads stay within that room
  // while it lasts, so that the text is never copied into a buffer twice
  // its size (whose first copy the allocator might keep).
  const bool sized = S_ISREG(info.st_mode) && info.st_size > 0;
  if (sized) {
    if (static_cast<uintmax_t>(info.st_size) > max_bytes) return fail(TooLarge(max_bytes));
    text.reserve(static_cast<size_t>(info.st_size) + 1);
  }
  // Reads at most max_bytes + 1 bytes: one more than the limit tells a
  // larger input, wherever it comes from.
  constexpr size_t kChunk = 64 * 1024;
  while (true) {
    size_t room = std::min(kChunk, max_bytes + 1 - text.size());
    if (sized && text.capacity() > text.size()) room = std::min(room, text.capacity() - text.size());
    size_t old_size = text.size();
    text.resize(old_size + room);
    ssize_t n = read(fd, text.data() + old_size, room);
    if (n < 0) {
      if (errno == EINTR) {
        text.resize(old_size);
        continue;
      }
      return fail(std::strerror(errno));
    }
    text.resize(old_size + static_cast<size_t>(n));
    if (n == 0) break;
    if (text.size() > max_bytes) return fail(TooLarge(max_bytes));
  }
  if (!is_stdin && close(fd) != 0) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  return text;
}

std::optional<uint64_t> RegularFileSize(const std::string& path) {
  struct stat info;
  if (path == "-" || stat(ResolvePath(path).c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
    return std::nullopt;
  }
  return static_cast<uint64_t>(info.st_size);
}

std::optional<FileIdentity> IdentifyFile(const std::string& path) {
  struct stat info;
  int status = path == "-" ? fstat(STDIN_FILENO, &info) : stat(ResolvePath(path).c_str(), &info);
  if (status != 0) return std::nullopt;
  return FileIdentity{info.st_dev, info.st_ino};
}

std::optional<std::string> FindOutputAmongInputs(const std::string& output,
                                                 const std::vector<std::string>& inputs) {
  if (output == "-") return std::nullopt;
  std::optional<FileIdentity> out = IdentifyFile(output);
  if (!out) return std::nullopt;
  for (const std::string& input : inputs) {
    if (IdentifyFile(input) == out) return input;
  }
  return std::nullopt;
}

bool WriteAll(int fd, std::string_view data, std::string& error) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = std::strerror(errno);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

bool WriteFileAtomically(const std::string& path, const std::string& text, std::string& error) {
  Route route = RouteOf(path);
  switch (route.kind) {
    case Route::Kind::kRefused:
      error = route.error;
      return false;
    case Route::Kind::kOwnDescriptor:
      if (fcntl(route.fd, F_GETFL) < 0) {
        error = std::strerror(errno);
        return false;
      }
      return WriteAll(route.fd, text, error);
    case Route::Kind::kDirect:
      return WriteDirectly(route.path, text, error);
    case Route::Kind::kInPlace:
      return RewriteInPlace(route.path, *route.before, text, error);
    case Route::Kind::kReplace: {
      bool in_place = false;
      std::unique_ptr<TempFile> temp = ReplacementFor(route.path, route.before, in_place, error);
      if (temp == nullptr) {
        return in_place && RewriteInPlace(route.path, *route.before, text, error);
      }
      return WriteAll(temp->fd(), text, error) && temp->Commit(route.path, error);
    }
  }
  return false;
}

}  // namespace netpolc
