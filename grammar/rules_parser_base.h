// The base class of the generated parser (the grammar's superClass option):
// antlr4::Parser with three calls of the generated rule functions made
// cheaper, each doing what the runtime's own does. The generated code finds
// them by name here, in its base class, before the runtime's.
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

#include <utility>

namespace netpolc_grammar {

class RulesParserBase : public antlr4::Parser {
 public:
  using antlr4::Parser::Parser;

  template <class T>
  T* getInterpreter() const {
    return static_cast<T*>(_interpreter);
  }

 protected:
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
