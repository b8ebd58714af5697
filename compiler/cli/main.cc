#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "compiler/cli/driver.h"
#include "compiler/cli/file_io.h"

int main(int argc, char** argv) {
  std::string out, err;
  int status;
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    status = netpolc::RunDriver(args, out, err);
  } catch (const std::bad_alloc&) {
    out = std::string();
    err += "netpolc: error: out of memory\n";
    status = netpolc::kExitOutOfMemory;
  } catch (const std::length_error&) {
    out = std::string();
    err += "netpolc: error: out of memory (an object outgrew its size limit)\n";
    status = netpolc::kExitOutOfMemory;
  }
  // Every write to stdout is checked, the final close included: a full disk
  // or a closed pipe (with SIGPIPE ignored) is an error, not a silent
  // truncation.
  std::string error;
  bool written = netpolc::WriteAll(STDOUT_FILENO, out, error);
  if (written && !out.empty() && close(STDOUT_FILENO) != 0) {
    error = std::strerror(errno);
    written = false;
  }
  if (!written) {
    err += "netpolc: error: cannot write <stdout>: " + error + "\n";
    if (status < netpolc::kExitUsage) status = netpolc::kExitUsage;
  }
  std::string ignored;
  netpolc::WriteAll(STDERR_FILENO, err, ignored);
  return status;
}
