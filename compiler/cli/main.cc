#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "compiler/cli/driver.h"
#include "compiler/cli/file_io.h"
#include "compiler/memory.h"

int main(int argc, char** argv) {
  std::string out, err;
  int status;
  // A command may write its output while it runs (a large check report):
  // stdout through the same checks as below, stderr as below, each by a
  // thread of its own so that writing overlaps with the command's work.
  bool out_written = false, out_failed = false;
  std::string error;
  netpolc::AsyncWriter out_writer(STDOUT_FILENO), err_writer(STDERR_FILENO);
  netpolc::OutputStreams streams;
  streams.out = [&](std::string text) {
    if (out_failed) return false;
    out_written = out_written || !text.empty();
    out_failed = !out_writer.Write(std::move(text));
    return !out_failed;
  };
  streams.err = [&](std::string text) { return err_writer.Write(std::move(text)); };
  // The process ends with the command: what it holds need not be freed.
  netpolc::SetExitAfterCommand(true);
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    status = netpolc::RunDriver(args, out, err, streams);
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
  if (!out_writer.Finish(error)) out_failed = true;
  std::string ignored;
  err_writer.Finish(ignored);
  bool written = !out_failed && netpolc::WriteAll(STDOUT_FILENO, out, error);
  if (written && (out_written || !out.empty()) && close(STDOUT_FILENO) != 0) {
    error = std::strerror(errno);
    written = false;
  }
  if (!written) {
    err += "netpolc: error: cannot write <stdout>: " + error + "\n";
    if (status < netpolc::kExitUsage) status = netpolc::kExitUsage;
  }
  netpolc::WriteAll(STDERR_FILENO, err, ignored);
  return status;
}
