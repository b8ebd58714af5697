#include "compiler/file_io.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace netpolc {

std::string ResolvePath(const std::string& path) {
  if (path.empty() || path[0] == '/' || path == "-") return path;
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
  if (cwd == nullptr || *cwd == '\0') return path;
  return std::string(cwd) + "/" + path;
}

std::optional<std::string> ReadFile(const std::string& path, std::string& error) {
  std::string resolved = ResolvePath(path);
  struct stat info;
  if (stat(resolved.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    error = "it is a directory";
    return std::nullopt;
  }
  std::ifstream in(resolved, std::ios::binary);
  if (!in) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    error = "read error";
    return std::nullopt;
  }
  return buffer.str();
}

bool WriteFileAtomically(const std::string& path, const std::string& text, std::string& error) {
  std::string target = ResolvePath(path);
  std::string temp = target + ".netpolc-tmp-XXXXXX";
  std::vector<char> name(temp.begin(), temp.end());
  name.push_back('\0');
  int fd = mkstemp(name.data());
  if (fd < 0) {
    error = std::strerror(errno);
    return false;
  }
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = std::strerror(errno);
      close(fd);
      unlink(name.data());
      return false;
    }
    written += static_cast<size_t>(n);
  }
  if (fchmod(fd, 0644) != 0 || close(fd) != 0) {
    error = std::strerror(errno);
    unlink(name.data());
    return false;
  }
  if (std::rename(name.data(), target.c_str()) != 0) {
    error = std::strerror(errno);
    unlink(name.data());
    return false;
  }
  return true;
}

}  // namespace netpolc
