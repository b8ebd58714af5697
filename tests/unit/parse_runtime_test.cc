// The lexer and parser netpolc runs (RulesLexer, RulesParser: their own
// token loop, DFA edge cache and tree building) against the ANTLR runtime's
// own lexer and parser for the same grammar: the same tokens (type, channel,
// position, text), the same lexical errors, the same parse trees and the same
// syntax errors, on every rules file of the repository and on generated
// inputs, valid and not.
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "compiler/frontend/parse_runtime.h"
#include "compiler/frontend/parse_stream.h"
#include "third_party/catch2_main.h"

namespace netpolc {
namespace {

using netpolc_grammar::NetpolLexer;
using netpolc_grammar::NetpolParser;

// Every message an ANTLR recognizer reports, with its position.
class Errors : public antlr4::BaseErrorListener {
 public:
  void syntaxError(antlr4::Recognizer*, antlr4::Token*, size_t line, size_t column,
                   const std::string& message, std::exception_ptr) override {
    text += std::to_string(line) + ":" + std::to_string(column) + " " + message + "\n";
  }
  std::string text;
};

std::string Describe(antlr4::Token* token) {
  std::ostringstream out;
  out << token->getType() << " ch" << token->getChannel() << " " << token->getLine() << ":"
      << token->getCharPositionInLine() << " [" << token->getStartIndex() << ","
      << token->getStopIndex() << "] #" << token->getTokenIndex() << " "
      << token->getText() << "\n";
  return out.str();
}

// The tokens of `tokens` (filled), one line each, then the lexer's errors.
std::string Listing(antlr4::BufferedTokenStream& tokens, const Errors& errors) {
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) out += Describe(tokens.get(i));
  return out + errors.text;
}

// The runtime's lexer over `text`, keeping the hidden tokens.
std::string RuntimeTokens(const std::string& text, bool hidden_only_default) {
  Utf8CharStream input(text);
  NetpolLexer lexer(&input);
  Errors errors;
  lexer.removeErrorListeners();
  lexer.addErrorListener(&errors);
  antlr4::CommonTokenStream tokens(&lexer);
  tokens.fill();
  if (!hidden_only_default) return Listing(tokens, errors);
  // Only the default channel, renumbered: as the tokens of a lexer that
  // drops the hidden ones.
  std::string out;
  size_t index = 0;
  for (antlr4::Token* token : tokens.getTokens()) {
    if (token->getChannel() != antlr4::Token::DEFAULT_CHANNEL) continue;
    antlr4::CommonToken copy(token);
    copy.setTokenIndex(index++);
    out += Describe(&copy);
  }
  return out + errors.text;
}

std::string OurTokens(const std::string& text, bool keep_hidden) {
  Utf8CharStream input(text);
  RulesLexer lexer(&input, keep_hidden);
  Errors errors;
  lexer.removeErrorListeners();
  lexer.addErrorListener(&errors);
  BoundedTokenStream tokens(&lexer);
  while (tokens.FetchMore(7) == 7) {
  }
  return Listing(tokens, errors);
}

// The parse tree of `text` (LL mode, the default error strategy) and the
// syntax errors, from the runtime's parser or from RulesParser.
template <typename Parser>
std::string Tree(const std::string& text) {
  Utf8CharStream input(text);
  RulesLexer lexer(&input, /*keep_hidden=*/false);
  lexer.removeErrorListeners();
  antlr4::CommonTokenStream tokens(&lexer);
  Parser parser(&tokens);
  Errors errors;
  parser.removeErrorListeners();
  parser.addErrorListener(&errors);
  antlr4::tree::ParseTree* tree = parser.file();
  return tree->toStringTree(&parser) + "\n" + errors.text;
}

void Compare(const std::string& text) {
  INFO("input: " << text);
  CHECK(OurTokens(text, true) == RuntimeTokens(text, false));
  CHECK(OurTokens(text, false) == RuntimeTokens(text, true));
  CHECK(Tree<RulesParser>(text) == Tree<NetpolParser>(text));
}

std::vector<std::filesystem::path> RulesFiles() {
  std::vector<std::filesystem::path> files;
  for (const char* root : {"rules", "tests/testdata"}) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
      if (entry.is_regular_file() && entry.path().extension() == ".netpol") {
        files.push_back(entry.path());
      }
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// First in the file, while the process's DFAs are empty: every rules file
// lexed and parsed on eight threads at once, as the pieces of a file are,
// gives the tokens and trees it gives alone afterwards.
TEST_CASE("lexers and parsers on several threads, from empty DFAs") {
  std::vector<std::string> texts;
  for (const auto& path : RulesFiles()) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    texts.push_back(text.str());
  }
  REQUIRE(texts.size() > 100);
  std::vector<std::string> together(texts.size());
  std::vector<std::thread> threads;
  constexpr size_t kThreads = 8;
  for (size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < texts.size(); i += kThreads) {
        together[i] = OurTokens(texts[i], false) + Tree<RulesParser>(texts[i]);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (size_t i = 0; i < texts.size(); ++i) {
    CHECK(together[i] == OurTokens(texts[i], false) + Tree<RulesParser>(texts[i]));
  }
  // The runtime keeps a precedence DFA's start states elsewhere than in s0;
  // the grammar has none (no left-recursive rule).
  Utf8CharStream input("");
  RulesLexer lexer(&input, /*keep_hidden=*/false);
  antlr4::CommonTokenStream tokens(&lexer);
  RulesParser parser(&tokens);
  for (const antlr4::dfa::DFA& dfa :
       parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->decisionToDFA) {
    CHECK_FALSE(dfa.isPrecedenceDfa());
  }
}

TEST_CASE("the repository's rules files lex and parse as with the runtime's own") {
  std::vector<std::filesystem::path> files = RulesFiles();
  REQUIRE(files.size() > 100);
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    INFO("file: " << path.string());
    Compare(text.str());
  }
}

TEST_CASE("generated inputs lex and parse as with the runtime's own") {
  // Pieces of the language, of its errors and of its whitespace; joined at
  // random, mostly invalid.
  const std::vector<std::string> pieces = {
      "component", "web", " ", "{", "}", "ingress", "egress", "tcp", "udp", "sctp", "8080",
      "80-90", "from", "to", "pods", "{\"app\": \"x\"}", "in", "namespace", "namespaces",
      "any", "anywhere", "cidr", "\"10.0.0.0/8\"", "except", "[", "]", ",", ";", "when",
      "not", "and", "or", "(", ")", "true", "false", "flag", "param", "$p", "=", "instance",
      "labels", "dns", "off", "import", "as", "gw", ".", "note", "\"text\"", "\"a\\\"b\"",
      "\"\\u00e9\"", "\"unterminated", "// comment\n", "/* block */", "/* open", "\n",
      "\r\n", "\r", "\t", "#", "@", "\x01", "é", "\xF0\x9F\x99\x82", "-", ":", "exists",
      "policy", "isolate", "scope", "cluster", "kube_apiserver", "nodes", "external"};
  std::mt19937 random(20261202);
  std::uniform_int_distribution<size_t> length(0, 40);
  std::uniform_int_distribution<size_t> pick(0, pieces.size() - 1);
  for (int i = 0; i < 1500; ++i) {
    std::string text;
    for (size_t n = length(random); n > 0; --n) text += pieces[pick(random)] + " ";
    Compare(text);
  }
  Compare("");
  Compare("component web { ingress tcp 80 from anywhere; }");
}

}  // namespace
}  // namespace netpolc
