// A build that streams a large rules file reads it a window at a time and
// then piece by piece (CompileStreamedFile, compiler/frontend/compile_pieces.h),
// never holding its text. A file that changes meanwhile is never compiled in
// part, nor quoted from its new text.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "compiler/frontend/compile_pieces.h"
#include "compiler/frontend/frontend.h"

namespace netpolc {
namespace {

std::filesystem::path TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::filesystem::path(dir != nullptr ? dir : "/tmp") / name;
}

void Write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string Rules(const std::string& peer) {
  return "component a {\n  labels { \"app\": \"a\" }\n  ingress 80 from " + peer +
         ";\n}\n"
         "component b {\n  labels { \"app\": \"b\" }\n  egress 80 to a;\n}\n"
         "component c {\n  labels { \"app\": \"c\" }\n}\n";
}

// The file `name` (in the test's temporary directory), written with `text`
// and compiled streamed.
struct Streamed {
  Streamed(const std::string& name, const std::string& text) : path(TempPath(name)) {
    Write(path, text);
    id = compilation.sources.AddUnread(name);
    module = CompileStreamedFile(compilation.sources, id, path.string());
  }
  const SourceFile& file() const { return compilation.sources.file(id); }

  std::filesystem::path path;
  Compilation compilation;
  uint32_t id = 0;
  std::unique_ptr<StreamedModule> module;
};

TEST_CASE("a streamed file is compiled from the file, its lines read again when quoted") {
  Streamed streamed("streamed.netpol", Rules("b"));
  std::unique_ptr<StreamedModule>& module = streamed.module;
  REQUIRE(module != nullptr);
  REQUIRE(module->module().components.size() == 3);
  // Rules are not held until loaded.
  CHECK(module->module().components[0].rules.empty());
  const uint32_t indices[] = {0, 1};
  REQUIRE(module->Load(indices));
  CHECK(module->module().components[0].rules.size() == 1);
  CHECK(module->module().components[1].rules.size() == 1);
  // Nothing read whole until a line is asked for.
  CHECK(streamed.file().text.empty());
  CHECK(streamed.file().Line(3) == "  ingress 80 from b;");
  CHECK_FALSE(streamed.file().unreadable());
}

TEST_CASE("a streamed file that changed is neither loaded nor quoted") {
  Streamed streamed("changed.netpol", Rules("b"));
  std::unique_ptr<StreamedModule>& module = streamed.module;
  REQUIRE(module != nullptr);
  // Same length, another peer: it still parses and lowers, but is not the
  // text that was compiled.
  Write(streamed.path, Rules("c"));
  const uint32_t first[] = {0};
  CHECK_FALSE(module->Load(first));
  CHECK(module->module().components[0].rules.empty());
  // A component that did not change still loads.
  const uint32_t second[] = {1};
  CHECK(module->Load(second));
  CHECK(streamed.file().Line(3).empty());
  CHECK(streamed.file().unreadable());
}

TEST_CASE("a streamed file that grew is not quoted") {
  Streamed streamed("grown.netpol", Rules("b"));
  REQUIRE(streamed.module != nullptr);
  Write(streamed.path, Rules("b") + "\n");
  CHECK(streamed.file().Line(1).empty());
  CHECK(streamed.file().unreadable());
}

TEST_CASE("a streamed file that shrank is neither loaded nor quoted") {
  Streamed streamed("shrunk.netpol", Rules("b"));
  REQUIRE(streamed.module != nullptr);
  Write(streamed.path, "component a {}\n");
  const uint32_t all[] = {0, 1, 2};
  CHECK_FALSE(streamed.module->Load(all));
  CHECK(streamed.file().Line(1).empty());
  CHECK(streamed.file().unreadable());
}

TEST_CASE("a file with a problem, or none, is not streamed") {
  CHECK(Streamed("broken.netpol", Rules("nowhere")).module == nullptr);
  Compilation compilation;
  uint32_t id = compilation.sources.AddUnread("missing.netpol");
  CHECK(CompileStreamedFile(compilation.sources, id, TempPath("missing.netpol").string()) ==
        nullptr);
  id = compilation.sources.AddUnread("dir");
  CHECK(CompileStreamedFile(compilation.sources, id, TempPath("").string()) == nullptr);
}

}  // namespace
}  // namespace netpolc
