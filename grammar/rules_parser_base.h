// The base class of the generated parser (the grammar's superClass option):
// antlr4::Parser with what the generated rule functions call made cheaper,
// each doing what the runtime's own does. The generated code finds these by
// name here, in its base class, before the runtime's.
//  - _tracker: the runtime's ParseTreeTracker makes each context with new and
//    deletes it with the parser; ContextArena makes them in blocks of
//    memory, destroyed with the parser too.
//  - finally: the runtime's wraps each rule's exit in a std::function; here
//    the rule's lambda is kept as it is.
//  - exitRule: the runtime's casts the parent context with dynamic_cast, a
//    string comparison of type names; every context of a parser is a
//    ParserRuleContext, so the cast here is static.
//  - getInterpreter<T>: likewise a dynamic_cast, once per prediction; the
//    generated code asks only for the parser's simulator (T is
//    atn::ParserATNSimulator), which the interpreter always is.
#pragma once

#include <antlr4-runtime.h>

#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace netpolc_grammar {

// Parse-tree nodes made in blocks, with ParseTreeTracker's createInstance;
// each is destroyed (not freed alone) by reset or the arena's destruction.
class ContextArena {
 public:
  ContextArena() = default;
  ContextArena(const ContextArena&) = delete;
  ContextArena& operator=(const ContextArena&) = delete;
  ~ContextArena() { reset(); }

  template <typename T, typename... Args>
  T* createInstance(Args&&... args) {
    static_assert(std::is_base_of<antlr4::tree::ParseTree, T>::value,
                  "Argument must be a parse tree type");
    void* at = Allocate(sizeof(T), alignof(T));
    T* node = new (at) T(args...);  // as the tracker: arguments as lvalues
    made_.push_back(node);
    return node;
  }

  void reset() {
    for (antlr4::tree::ParseTree* node : made_) node->~ParseTree();
    made_.clear();
    blocks_.clear();
    used_ = kBlockBytes;
  }

 private:
  static constexpr size_t kBlockBytes = 64 * 1024;

  // Memory from ::operator new is aligned for every node type (none is
  // over-aligned).
  void* Allocate(size_t size, size_t align) {
    size_t at = (used_ + align - 1) / align * align;
    if (blocks_.empty() || at + size > kBlockBytes) {
      // A node larger than a block (none of the grammar's is) gets a block
      // of its own size.
      blocks_.emplace_back(::operator new(size > kBlockBytes ? size : kBlockBytes));
      at = 0;
    }
    used_ = at + size;
    return static_cast<unsigned char*>(blocks_.back().get()) + at;
  }

  struct Free {
    void operator()(void* block) const { ::operator delete(block); }
  };

  std::vector<antlr4::tree::ParseTree*> made_;
  std::vector<std::unique_ptr<void, Free>> blocks_;
  size_t used_ = kBlockBytes;  // bytes used in the last block
};

class RulesParserBase : public antlr4::Parser {
 public:
  using antlr4::Parser::Parser;
  ~RulesParserBase() override = default;

  template <class T>
  T* getInterpreter() const {
    return static_cast<T*>(_interpreter);
  }

 protected:
  // Hides Parser::_tracker from the generated code (and from RulesParser).
  // A member of the base class, it is destroyed after everything a derived
  // parser holds, and before the runtime's Parser, whose own tracker keeps
  // only the nodes the runtime itself makes (Parser::consume's).
  ContextArena _tracker;

  // Runs a rule's exit action when the rule function returns or throws, as
  // the runtime's antlrcpp::FinalAction does.
  template <class F>
  class OnExit {
   public:
    explicit OnExit(F action) : action_(std::move(action)) {}
    OnExit(const OnExit&) = delete;
    OnExit& operator=(const OnExit&) = delete;
    ~OnExit() { action_(); }

   private:
    F action_;
  };

  template <class F>
  static OnExit<F> finally(F action) {
    return OnExit<F>(std::move(action));
  }

  // Parser::exitRule, with the parent context cast statically.
  void exitRule() {
    // Past a matched EOF, LT(1) is the EOF token; else LT(-1) is the token
    // just matched.
    _ctx->stop = _matchedEOF ? _input->LT(1) : _input->LT(-1);
    if (!_parseListeners.empty()) triggerExitRuleEvent();
    setState(_ctx->invokingState);
    _ctx = static_cast<antlr4::ParserRuleContext*>(_ctx->parent);
  }
};

}  // namespace netpolc_grammar
