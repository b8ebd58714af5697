// The grammar's lexer and parser on the ANTLR runtime, with the runtime's
// hot paths made cheap. Part of the parse library: only the parser sees
// ANTLR.
//
// Profiles of large files showed the front end's time going less to lexing
// and parsing than to two costs of the ANTLR 4.9 C++ runtime around them:
//  - Locks. The simulators look up a DFA state's edge for a symbol in a hash
//    map guarded by a process-wide reader-writer lock
//    (ATNSimulator::_edgeLock): a lock, an unlock and a hash look-up for
//    every character lexed and every token of every prediction. Once a
//    process has a second thread, glibc makes each lock operation atomic.
//  - dynamic_cast. The lexer finds its simulator with dynamic_cast five times
//    per token (Lexer::nextToken, getLine, getCharPositionInLine), the token
//    stream casts each token once more to number it, the executor of a
//    token's `-> channel(...)` action casts its actions, and the parser casts
//    each context's parent to add the context to it.
// The classes here keep the runtime's behaviour and avoid both: the
// simulators read the edges the runtime has already found from flat tables
// of atomic pointers (DfaEdgeCache) and ask the runtime, under its lock, only
// on a miss; the lexer, token stream and parser hold their simulator, tokens
// and contexts by their known types.
//
// Threads. Lexers and parsers run side by side on the pieces of a file,
// sharing the runtime's DFAs. ANTLR 4.9 guards the DFAs' state and edge maps
// itself, but not three things (antlr/antlr4#3332, fixed in 4.10): the
// lexer's static call counter, the static counter of prediction contexts,
// and each DFA's start state, read without a lock and set on first use.
//  - CachedLexerSimulator::match leaves out the call counter.
//  - Prediction contexts are made only while the DFAs grow (a miss, a start
//    state, a full-context prediction): every such entry point of the
//    simulators below holds SharedDfaMutex.
//  - A lexer mode's or parser decision's first use in the process, which
//    makes its start state, holds SharedDfaMutex too; an atomic flag per
//    mode and decision, set once that use has returned, lets later uses read
//    the start state without the lock.
// A lookup that hits the DFA, which is nearly all of them once the first
// piece is done, takes no lock.
#pragma once

#include <antlr4-runtime.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "compiler/frontend/parse_stream.h"
#include "grammar/NetpolLexer.h"
#include "grammar/NetpolParser.h"

namespace netpolc {

// Edges of the DFAs the runtime has built, readable without a lock. Keys: a
// DFA (a lexer mode or a parser decision), a state's number in it and a
// symbol below kSymbols. The runtime never changes an edge once added nor
// frees a DFA state while the process runs, so an entry goes once from empty
// to the runtime's own answer and stays right. What the table does not cover
// (large numbers, symbols past it) is left to the runtime.
//
// It also knows which DFAs have their start state made (see "Threads"
// above): a flag per DFA, set (release) once a first use has returned under
// SharedDfaMutex and read (acquire) before the runtime reads the start state
// without a lock. Past kDfas, every use takes the lock.
class DfaEdgeCache {
 public:
  static constexpr size_t kDfas = 256;     // lexer modes or parser decisions
  static constexpr size_t kStates = 4096;  // states per DFA
  static constexpr size_t kSymbols = 128;  // characters below 128; token types + 1

  DfaEdgeCache() = default;
  DfaEdgeCache(const DfaEdgeCache&) = delete;
  DfaEdgeCache& operator=(const DfaEdgeCache&) = delete;
  ~DfaEdgeCache();

  // The cached edge of `from` (a state of DFA `dfa`) on `symbol`, or nullptr.
  antlr4::dfa::DFAState* Find(size_t dfa, const antlr4::dfa::DFAState* from,
                              size_t symbol) const {
    if (symbol >= kSymbols) return nullptr;
    const std::atomic<antlr4::dfa::DFAState*>* edges = Edges(dfa, from);
    return edges == nullptr ? nullptr : edges[symbol].load(std::memory_order_acquire);
  }
  // The cached edges of `from` by symbol (kSymbols of them, each nullptr
  // when not cached), or nullptr when it has none cached yet.
  const std::atomic<antlr4::dfa::DFAState*>* Edges(size_t dfa,
                                                   const antlr4::dfa::DFAState* from) const {
    const size_t state = static_cast<size_t>(from->stateNumber);  // -1: past kStates
    if (dfa >= kDfas || state >= kStates) return nullptr;
    const Rows* rows = dfas_[dfa].load(std::memory_order_acquire);
    if (rows == nullptr) return nullptr;
    const Row* row = (*rows)[state].load(std::memory_order_acquire);
    return row == nullptr ? nullptr : row->data();
  }
  // Records the runtime's edge `to` (not nullptr); ignored outside the table.
  void Store(size_t dfa, const antlr4::dfa::DFAState* from, size_t symbol,
             antlr4::dfa::DFAState* to);

  // Whether DFA `dfa`'s start state is known to be made; MarkStarted records
  // that it is.
  bool Started(size_t dfa) const {
    return dfa < kDfas && started_[dfa].load(std::memory_order_acquire);
  }
  void MarkStarted(size_t dfa) {
    if (dfa < kDfas) started_[dfa].store(true, std::memory_order_release);
  }

  // One table for the lexer's DFAs and one for the parser's: each numbers
  // its states on its own.
  static DfaEdgeCache& ForLexer();
  static DfaEdgeCache& ForParser();

 private:
  using Row = std::array<std::atomic<antlr4::dfa::DFAState*>, kSymbols>;
  using Rows = std::array<std::atomic<Row*>, kStates>;

  std::array<std::atomic<Rows*>, kDfas> dfas_{};
  std::array<std::atomic<bool>, kDfas> started_{};
};

// Held while the runtime grows a DFA or makes its start state (see
// "Threads" above). Recursive: one entry point may lead to another.
std::recursive_mutex& SharedDfaMutex();

// The lexer's simulator: edges through DfaEdgeCache; a match that leaves
// out the runtime's call counter (a static int every thread writes) and its
// std::function guard, and makes the mode's start state under
// SharedDfaMutex; and a token's one `-> channel(...)` action (the
// grammar's whitespace and comments) applied directly, where the runtime's
// executor copies, casts and guards for every token.
class CachedLexerSimulator : public antlr4::atn::LexerATNSimulator {
 public:
  // Over the same DFAs as `runtime`, the simulator the lexer was made with.
  CachedLexerSimulator(antlr4::Lexer* lexer, antlr4::atn::LexerATNSimulator& runtime);
  size_t match(antlr4::CharStream* input, size_t mode) override;
  // `input`, the lexer's stream, holds ASCII text: execATN then reads its
  // bytes directly.
  void UseAsciiText(Utf8CharStream* input) { ascii_input_ = input; }

 protected:
  antlr4::dfa::DFAState* getExistingTargetState(antlr4::dfa::DFAState* s, size_t t) override;
  // The runtime's walk of the DFA, one step per character, with the edge
  // look-up and the line and column count made here rather than through
  // virtual calls.
  size_t execATN(antlr4::CharStream* input, antlr4::dfa::DFAState* ds0) override;
  // The DFA grown, under SharedDfaMutex.
  size_t matchATN(antlr4::CharStream* input) override;
  antlr4::dfa::DFAState* computeTargetState(antlr4::CharStream* input, antlr4::dfa::DFAState* s,
                                           size_t t) override;
  void accept(antlr4::CharStream* input,
              const std::shared_ptr<antlr4::atn::LexerActionExecutor>& executor, size_t start_index,
              size_t index, size_t line, size_t column) override;

 private:
  // The channel `executor` sets when that is all it does, else -1.
  ssize_t ChannelOnly(const antlr4::atn::LexerActionExecutor* executor);
  // execATN over ascii_input_'s bytes: the same steps, with the stream's
  // position, the line and the column kept in locals (written back before
  // the runtime is asked for an edge, and at the end) and the last accept
  // state recorded here rather than through captureSimState.
  size_t ExecAscii(Utf8CharStream* input, antlr4::dfa::DFAState* ds0);

  DfaEdgeCache& edges_ = DfaEdgeCache::ForLexer();
  // The last executor ChannelOnly looked at, and its answer (a lexer meets
  // the same few executors again and again).
  const antlr4::atn::LexerActionExecutor* last_executor_ = nullptr;
  ssize_t last_channel_ = -1;
  Utf8CharStream* ascii_input_ = nullptr;
};

// The parser's simulator: edges through DfaEdgeCache.
class CachedParserSimulator : public antlr4::atn::ParserATNSimulator {
 public:
  using ParserATNSimulator::ParserATNSimulator;
  // A decision's first use under SharedDfaMutex.
  size_t adaptivePredict(antlr4::TokenStream* input, size_t decision,
                         antlr4::ParserRuleContext* outer) override;

 protected:
  antlr4::dfa::DFAState* getExistingTargetState(antlr4::dfa::DFAState* previous,
                                                size_t t) override;
  // The DFA grown, or prediction contexts made, under SharedDfaMutex.
  antlr4::dfa::DFAState* computeTargetState(antlr4::dfa::DFA& dfa,
                                            antlr4::dfa::DFAState* previous, size_t t) override;
  std::unique_ptr<antlr4::atn::ATNConfigSet> computeStartState(antlr4::atn::ATNState* p,
                                                               antlr4::RuleContext* ctx,
                                                               bool full_context) override;
  size_t execATNWithFullContext(antlr4::dfa::DFA& dfa, antlr4::dfa::DFAState* D,
                                antlr4::atn::ATNConfigSet* s0, antlr4::TokenStream* input,
                                size_t start_index, antlr4::ParserRuleContext* outer) override;

 private:
  // The runtime's prediction when every DFA step it would take is cached and
  // the walk ends in an accept state without predicates or a need for full
  // context (nearly always, once the DFA has grown); nullopt otherwise, with
  // the input where it was, for the runtime to predict.
  std::optional<size_t> PredictFromCache(antlr4::TokenStream* input, size_t decision);

  DfaEdgeCache& edges_ = DfaEdgeCache::ForParser();
};

// CommonTokens made in blocks, destroyed with the arena: a token stream that
// owns them (BoundedTokenStream) gives them up rather than deleting them.
class TokenArena {
 public:
  TokenArena() = default;
  TokenArena(const TokenArena&) = delete;
  TokenArena& operator=(const TokenArena&) = delete;
  ~TokenArena();

  // As `new CommonToken(source, type, channel, start, stop)`.
  antlr4::CommonToken* Make(antlr4::TokenSource* source, antlr4::CharStream* input, size_t type,
                            size_t channel, size_t start, size_t stop);
  // Whether `token` is one of the arena's; `hint`, a block index, is where
  // it is looked for first, and is set to the token's block.
  bool Owns(const antlr4::Token* token, size_t& hint) const;

 private:
  static constexpr size_t kBlock = 512;  // tokens
  struct Block {
    alignas(antlr4::CommonToken) unsigned char bytes[kBlock * sizeof(antlr4::CommonToken)];
  };
  std::vector<std::unique_ptr<Block>> blocks_;
  size_t used_ = kBlock;  // tokens made in the last block
};

// The grammar's lexer on a CachedLexerSimulator, optionally dropping
// whitespace and comments (the hidden channel) as it meets them instead of
// making tokens of them: the parser never sees them, and only the formatter
// needs them.
class RulesLexer : public netpolc_grammar::NetpolLexer {
 public:
  RulesLexer(antlr4::CharStream* input, bool keep_hidden);
  ~RulesLexer() override;

  // From now on, makes its tokens in an arena it owns (their owner must give
  // them up rather than delete them; see BoundedTokenStream), and tells
  // which tokens are the arena's.
  void MakeTokensInArena();
  bool OwnsToken(const antlr4::Token* token, size_t& hint) const {
    return arena_ != nullptr && arena_->Owns(token, hint);
  }

  // Lexer::nextToken's loop, with the simulator held rather than cast for.
  std::unique_ptr<antlr4::Token> nextToken() override;
  // Lexer::emit and emitEOF without the token factory's call and text
  // comparison, when the factory is the runtime's default one (tokens
  // without copied text); in the arena once MakeTokensInArena was called.
  antlr4::Token* emit() override;
  antlr4::Token* emitEOF() override;
  size_t getLine() const override { return simulator_->getLine(); }
  size_t getCharPositionInLine() override { return simulator_->getCharPositionInLine(); }

  void setChannel(size_t channel) override;
  // The hidden tokens dropped so far.
  size_t skipped() const { return skipped_; }

 private:
  // As the runtime's factory: a CommonToken from the lexer's input.
  antlr4::Token* Emit(size_t type, size_t channel, size_t start, size_t stop, size_t line,
                      size_t column);

  CachedLexerSimulator* simulator_;  // owned by the Recognizer
  bool keep_hidden_;
  size_t skipped_ = 0;
  std::unique_ptr<TokenArena> arena_;
};

// The grammar's parser on a CachedParserSimulator, adding contexts to their
// parents without casting for the parent's class (every context of a
// parser is a ParserRuleContext).
class RulesParser : public netpolc_grammar::NetpolParser {
 public:
  explicit RulesParser(antlr4::TokenStream* input);
  void enterRule(antlr4::ParserRuleContext* localctx, size_t state, size_t rule) override;
  void enterOuterAlt(antlr4::ParserRuleContext* localctx, size_t alt) override;
  // Parser::consume, with the token's tree node made in the contexts' arena
  // (RulesParserBase::_tracker) rather than alone on the heap.
  antlr4::Token* consume() override;

 protected:
  void addContextToParseTree() override;
};

// A token stream that lexes in blocks, so that the checks on tokens can stop
// before a hostile input has been lexed (and held in memory) to its end. It
// numbers its tokens without casting for their type.
class BoundedTokenStream : public antlr4::CommonTokenStream {
 public:
  // From a RulesLexer, which must outlive the stream, the tokens are made in
  // the lexer's arena.
  explicit BoundedTokenStream(antlr4::TokenSource* source);
  ~BoundedTokenStream() override;
  // Lexes up to `n` more tokens; returns how many were added (fewer than
  // `n` once the end of the input is reached).
  size_t FetchMore(size_t n) {
    lazyInit();
    return fetch(n);
  }

  // CommonTokenStream's LT, LA and consume, which skip the tokens of other
  // channels, made direct while every token is on the stream's channel (the
  // lexer dropped the hidden ones) and the next one is already lexed.
  antlr4::Token* LT(ssize_t k) override;
  size_t LA(ssize_t i) override;
  void consume() override;
  void seek(size_t index) override;

 protected:
  size_t fetch(size_t n) override;
  void setup() override;

 private:
  RulesLexer* lexer_ = nullptr;  // the source, when a RulesLexer
  bool one_channel_ = true;  // every token fetched is on `channel`
  bool set_up_ = false;      // _p is a token (setup has run)
};

}  // namespace netpolc
