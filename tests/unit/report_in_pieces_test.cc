// A file too large to be compiled whole has its problems reported declaration
// by declaration (ReportInPieces, compiler/frontend/compile_pieces.h). Held
// here to what compiling the whole file reports, on every diagnostics golden
// input, run as if it were that large.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "compiler/frontend/compile_pieces.h"
#include "compiler/frontend/frontend.h"

namespace netpolc {
namespace {

std::string Read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_CASE("problems reported in pieces are those of the whole file") {
  const std::filesystem::path dir = "tests/testdata";
  size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.path().extension() != ".netpol") continue;
    const std::string text = Read(entry.path());
    // A large file cannot import (it is reported so).
    if (text.find("import") != std::string::npos) continue;
    Compilation whole;
    const bool compiles = CompileModule(whole, entry.path().filename().string(), text).has_value();
    if (compiles || !whole.diagnostics.has_errors()) continue;
    ++files;
    Compilation pieces;
    uint32_t file = pieces.sources.Add(entry.path().filename().string(), text);
    CHECK(ReportInPieces(pieces.sources, file, pieces.diagnostics));
    INFO(entry.path().string());
    CHECK(pieces.diagnostics.has_errors());
    CHECK(RenderAll(pieces.diagnostics, pieces.sources) ==
          RenderAll(whole.diagnostics, whole.sources));
  }
  // Most of the inputs have errors (the others are warnings of `check`).
  CHECK(files >= 30);
}

}  // namespace
}  // namespace netpolc
