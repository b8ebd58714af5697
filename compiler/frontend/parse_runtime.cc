#include "compiler/frontend/parse_runtime.h"

#include <typeinfo>

namespace netpolc {

using antlr4::dfa::DFAState;

DfaEdgeCache::~DfaEdgeCache() {
  for (auto& dfa : dfas_) {
    Rows* rows = dfa.load(std::memory_order_acquire);
    if (rows == nullptr) continue;
    for (auto& row : *rows) delete row.load(std::memory_order_acquire);
    delete rows;
  }
}

void DfaEdgeCache::Store(size_t dfa, const DFAState* from, size_t symbol, DFAState* to) {
  const size_t state = static_cast<size_t>(from->stateNumber);
  if (dfa >= kDfas || state >= kStates || symbol >= kSymbols) return;
  // Each level is published once: a thread that loses the race to publish
  // one frees its own and uses the winner's.
  std::atomic<Rows*>& rows_slot = dfas_[dfa];
  Rows* rows = rows_slot.load(std::memory_order_acquire);
  if (rows == nullptr) {
    auto fresh = std::make_unique<Rows>();
    if (rows_slot.compare_exchange_strong(rows, fresh.get(), std::memory_order_acq_rel)) {
      rows = fresh.release();
    }
  }
  std::atomic<Row*>& row_slot = (*rows)[state];
  Row* row = row_slot.load(std::memory_order_acquire);
  if (row == nullptr) {
    auto fresh = std::make_unique<Row>();
    if (row_slot.compare_exchange_strong(row, fresh.get(), std::memory_order_acq_rel)) {
      row = fresh.release();
    }
  }
  (*row)[symbol].store(to, std::memory_order_release);
}

DfaEdgeCache& DfaEdgeCache::ForLexer() {
  static DfaEdgeCache cache;
  return cache;
}

DfaEdgeCache& DfaEdgeCache::ForParser() {
  static DfaEdgeCache cache;
  return cache;
}

std::recursive_mutex& SharedDfaMutex() {
  static std::recursive_mutex mutex;
  return mutex;
}

CachedLexerSimulator::CachedLexerSimulator(antlr4::Lexer* lexer,
                                           antlr4::atn::LexerATNSimulator& runtime)
    : LexerATNSimulator(lexer, lexer->getATN(), runtime._decisionToDFA,
                        runtime.getSharedContextCache()) {}

size_t CachedLexerSimulator::match(antlr4::CharStream* input, size_t mode) {
  // The runtime's reset clears the last accept state, which this class
  // cannot reach; it also rewinds the position, kept here.
  const size_t line = _line;
  const size_t column = _charPositionInLine;
  LexerATNSimulator::reset();
  _line = line;
  _charPositionInLine = column;
  _mode = mode;
  // As the runtime's match: the stream is marked for the token's length.
  struct Mark {
    antlr4::CharStream* input;
    ssize_t mark;
    ~Mark() { input->release(mark); }
  } mark{input, input->mark()};
  _startIndex = input->index();
  const antlr4::dfa::DFA& dfa = _decisionToDFA[mode];
  if (edges_.Started(mode)) return execATN(input, dfa.s0);
  // The mode's first token in the process (or one of the first, if others
  // failed): the runtime sets the start state, under the lock.
  std::lock_guard<std::recursive_mutex> lock(SharedDfaMutex());
  const size_t type = dfa.s0 == nullptr ? matchATN(input) : execATN(input, dfa.s0);
  edges_.MarkStarted(mode);
  return type;
}

namespace {

// The line and column after a step of the lexer over character `t` (not
// EOF), as the runtime's consume keeps them.
void CountStep(size_t t, size_t& line, size_t& column) {
  if (t == '\n') {
    ++line;
    column = 0;
  } else {
    ++column;
  }
}

}  // namespace

size_t CachedLexerSimulator::execATN(antlr4::CharStream* input, DFAState* ds0) {
  if (ascii_input_ != nullptr && input == ascii_input_) return ExecAscii(ascii_input_, ds0);
  // From the start state, one DFA step per character while there is an
  // edge (computed, under the lock, when not yet known), the input consumed
  // and the line and column kept as the runtime's consume does; each accept
  // state met is recorded, and the last one makes the token.
  if (ds0->isAcceptState) captureSimState(input, ds0);
  size_t t = input->LA(1);
  DFAState* s = ds0;
  for (;;) {
    DFAState* target = CachedLexerSimulator::getExistingTargetState(s, t);
    if (target == nullptr) target = computeTargetState(input, s, t);
    if (target == ERROR.get()) break;
    if (t != antlr4::Token::EOF) {
      CountStep(t, _line, _charPositionInLine);
      input->consume();
    }
    if (target->isAcceptState) {
      captureSimState(input, target);
      if (t == antlr4::Token::EOF) break;
    }
    t = input->LA(1);
    s = target;
  }
  return failOrAccept(input, s->configs.get(), t);
}

size_t CachedLexerSimulator::ExecAscii(Utf8CharStream* input, DFAState* ds0) {
  const std::string_view text = input->text();
  const size_t n = text.size();
  size_t i = input->index();
  size_t line = _line;
  size_t column = _charPositionInLine;
  struct {
    size_t index = 0, line = 0, column = 0;
    DFAState* state = nullptr;
  } accepted;
  if (ds0->isAcceptState) accepted = {i, line, column, ds0};
  DFAState* s = ds0;
  // The cached edges of `s` (nullptr while it has none).
  const std::atomic<DFAState*>* edges = edges_.Edges(_mode, s);
  size_t t;
  for (;;) {
    // As Utf8CharStream::LA(1): a lone CR reads as LF.
    if (i < n) {
      t = static_cast<unsigned char>(text[i]);
      if (t == '\r' && (i + 1 == n || text[i + 1] != '\n')) t = '\n';
    } else {
      t = antlr4::Token::EOF;
    }
    DFAState* target =
        edges != nullptr && t <= MAX_DFA_EDGE ? edges[t].load(std::memory_order_acquire) : nullptr;
    if (target == nullptr) {
      input->SeekAscii(i);
      _line = line;
      _charPositionInLine = column;
      target = CachedLexerSimulator::getExistingTargetState(s, t);
      if (target == nullptr) target = computeTargetState(input, s, t);
      edges = edges_.Edges(_mode, s);
    }
    if (target == ERROR.get()) break;
    if (t != antlr4::Token::EOF) {
      CountStep(t, line, column);
      ++i;
    }
    if (target != s) {
      s = target;
      edges = edges_.Edges(_mode, s);
    } else if (edges != nullptr) {
      // A step from `s` back to `s` (a letter of a name, a digit, a
      // character of a string, a space): the run of such steps that follows
      // is taken at once; line ends are left to the steps above.
      const size_t run_start = i;
      while (i < n) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte == '\n' || byte == '\r' || byte > MAX_DFA_EDGE ||
            edges[byte].load(std::memory_order_acquire) != s) {
          break;
        }
        ++i;
      }
      column += i - run_start;
    }
    if (s->isAcceptState) {
      accepted = {i, line, column, s};
      if (t == antlr4::Token::EOF) break;
    }
  }
  input->SeekAscii(i);
  _line = line;
  _charPositionInLine = column;
  // As failOrAccept: the last accept state makes the token; without one, the
  // runtime's own (whose record of accept states is empty, as here) reports.
  if (accepted.state == nullptr) return failOrAccept(input, s->configs.get(), t);
  if (accepted.state->lexerActionExecutor == nullptr) {
    // As the runtime's accept of a token without actions.
    input->SeekAscii(accepted.index);
    _line = accepted.line;
    _charPositionInLine = accepted.column;
  } else {
    accept(input, accepted.state->lexerActionExecutor, _startIndex, accepted.index, accepted.line,
           accepted.column);
  }
  return accepted.state->prediction;
}

size_t CachedLexerSimulator::matchATN(antlr4::CharStream* input) {
  std::lock_guard<std::recursive_mutex> lock(SharedDfaMutex());
  return LexerATNSimulator::matchATN(input);
}

DFAState* CachedLexerSimulator::computeTargetState(antlr4::CharStream* input, DFAState* s,
                                                   size_t t) {
  std::lock_guard<std::recursive_mutex> lock(SharedDfaMutex());
  return LexerATNSimulator::computeTargetState(input, s, t);
}

DFAState* CachedLexerSimulator::getExistingTargetState(DFAState* s, size_t t) {
  // As the runtime: characters past MAX_DFA_EDGE (and EOF) have no edges.
  if (t > MAX_DFA_EDGE) return nullptr;
  if (DFAState* cached = edges_.Find(_mode, s, t)) return cached;
  DFAState* found = LexerATNSimulator::getExistingTargetState(s, t);
  if (found != nullptr) edges_.Store(_mode, s, t, found);
  return found;
}

DFAState* CachedParserSimulator::getExistingTargetState(DFAState* previous, size_t t) {
  // Token types shifted by one, so that EOF (the largest size_t) is 0.
  const size_t symbol = t + 1;
  const size_t decision = _dfa->decision;
  if (DFAState* cached = edges_.Find(decision, previous, symbol)) return cached;
  DFAState* found = ParserATNSimulator::getExistingTargetState(previous, t);
  if (found != nullptr) edges_.Store(decision, previous, symbol, found);
  return found;
}

size_t CachedParserSimulator::adaptivePredict(antlr4::TokenStream* input, size_t decision,
                                              antlr4::ParserRuleContext* outer) {
  if (edges_.Started(decision)) {
    if (std::optional<size_t> alt = PredictFromCache(input, decision)) return *alt;
    return ParserATNSimulator::adaptivePredict(input, decision, outer);
  }
  // The decision's first prediction in the process (or one of the first, if
  // others failed): the runtime sets its start state, under the lock.
  std::lock_guard<std::recursive_mutex> lock(SharedDfaMutex());
  const size_t alt = ParserATNSimulator::adaptivePredict(input, decision, outer);
  edges_.MarkStarted(decision);
  return alt;
}

std::optional<size_t> CachedParserSimulator::PredictFromCache(antlr4::TokenStream* input,
                                                              size_t decision) {
  // The runtime's execATN, from its adaptivePredict, on cached edges only.
  // The start state is set: the decision has been used (edges_.Started).
  const antlr4::dfa::DFA& dfa = decisionToDFA[decision];
  if (dfa.isPrecedenceDfa() || dfa.s0 == nullptr) return std::nullopt;
  const size_t index = input->index();
  DFAState* state = dfa.s0;
  size_t t = input->LA(1);
  std::optional<size_t> alt;
  for (;;) {
    // Token types shifted by one, as in getExistingTargetState.
    DFAState* next = edges_.Find(decision, state, t + 1);
    if (next == nullptr || next == ERROR.get() || next->requiresFullContext) break;
    if (next->isAcceptState) {
      if (next->predicates.empty()) alt = next->prediction;
      break;
    }
    state = next;
    if (t != antlr4::Token::EOF) {
      input->consume();
      t = input->LA(1);
    }
  }
  input->seek(index);
  return alt;
}

DFAState* CachedParserSimulator::computeTargetState(antlr4::dfa::DFA& dfa, DFAState* previous,
                                                    size_t t) {
  std::lock_guard<std::recursive_mutex> lock(SharedDfaMutex());
  return ParserATNSimulator::computeTargetState(dfa, previous, t);
}

std::unique_ptr<antlr4::atn::ATNConfigSet> CachedParserSimulator::computeStartState(
    antlr4::atn::ATNState* p, antlr4::RuleContext* ctx, bool full_context) {
  std::lock_guard<std::recursive_mutex> lock(SharedDfaMutex());
  return ParserATNSimulator::computeStartState(p, ctx, full_context);
}

size_t CachedParserSimulator::execATNWithFullContext(antlr4::dfa::DFA& dfa, DFAState* D,
                                                     antlr4::atn::ATNConfigSet* s0,
                                                     antlr4::TokenStream* input,
                                                     size_t start_index,
                                                     antlr4::ParserRuleContext* outer) {
  std::lock_guard<std::recursive_mutex> lock(SharedDfaMutex());
  return ParserATNSimulator::execATNWithFullContext(dfa, D, s0, input, start_index, outer);
}

RulesParser::RulesParser(antlr4::TokenStream* input) : NetpolParser(input) {
  auto* runtime = getInterpreter<antlr4::atn::ParserATNSimulator>();
  // setInterpreter deletes the runtime's simulator.
  setInterpreter(new CachedParserSimulator(this, getATN(), runtime->decisionToDFA,
                                           runtime->getSharedContextCache()));
}

void CachedLexerSimulator::accept(antlr4::CharStream* input,
                                  const std::shared_ptr<antlr4::atn::LexerActionExecutor>& executor,
                                  size_t start_index, size_t index, size_t line, size_t column) {
  if (executor == nullptr || _recog == nullptr) {
    LexerATNSimulator::accept(input, executor, start_index, index, line, column);
    return;
  }
  const ssize_t channel = ChannelOnly(executor.get());
  if (channel < 0) {
    LexerATNSimulator::accept(input, executor, start_index, index, line, column);
    return;
  }
  // As the runtime's accept: to the end of the token, then its action.
  input->seek(index);
  _line = line;
  _charPositionInLine = column;
  _recog->setChannel(static_cast<size_t>(channel));
}

ssize_t CachedLexerSimulator::ChannelOnly(const antlr4::atn::LexerActionExecutor* executor) {
  if (executor == last_executor_) return last_channel_;
  ssize_t channel = -1;
  const std::vector<std::shared_ptr<antlr4::atn::LexerAction>> actions = executor->getLexerActions();
  if (actions.size() == 1 && typeid(*actions[0]) == typeid(antlr4::atn::LexerChannelAction)) {
    channel = static_cast<const antlr4::atn::LexerChannelAction&>(*actions[0]).getChannel();
  }
  last_executor_ = executor;
  last_channel_ = channel;
  return channel;
}

void RulesParser::addContextToParseTree() {
  if (_ctx->parent != nullptr) static_cast<antlr4::ParserRuleContext*>(_ctx->parent)->addChild(_ctx);
}

void RulesParser::enterOuterAlt(antlr4::ParserRuleContext* localctx, size_t alt) {
  // As the runtime's: a context replaced by one of a labelled alternative's
  // class takes its place in the parent.
  localctx->setAltNumber(alt);
  if (_buildParseTrees && _ctx != localctx && _ctx->parent != nullptr) {
    auto* parent = static_cast<antlr4::ParserRuleContext*>(_ctx->parent);
    parent->removeLastChild();
    parent->addChild(localctx);
  }
  _ctx = localctx;
}

RulesLexer::RulesLexer(antlr4::CharStream* input, bool keep_hidden)
    : NetpolLexer(input),
      simulator_(new CachedLexerSimulator(
          this, *getInterpreter<antlr4::atn::LexerATNSimulator>())),
      keep_hidden_(keep_hidden) {
  setInterpreter(simulator_);  // deletes the runtime's simulator
  if (typeid(*input) == typeid(Utf8CharStream)) {
    auto* utf8 = static_cast<Utf8CharStream*>(input);
    if (utf8->ascii()) simulator_->UseAsciiText(utf8);
  }
}

RulesLexer::~RulesLexer() {
  // A token not taken from the lexer (none, once nextToken has returned) is
  // the arena's to destroy.
  size_t hint = 0;
  if (OwnsToken(token.get(), hint)) static_cast<void>(token.release());
}

void RulesLexer::MakeTokensInArena() {
  if (arena_ == nullptr) arena_ = std::make_unique<TokenArena>();
}

antlr4::Token* RulesLexer::Emit(size_t type, size_t channel, size_t start, size_t stop,
                                size_t line, size_t column) {
  antlr4::CommonToken* made =
      arena_ != nullptr
          ? arena_->Make(this, _input, type, channel, start, stop)
          : new antlr4::CommonToken(
                std::pair<antlr4::TokenSource*, antlr4::CharStream*>(this, _input), type, channel,
                start, stop);
  made->setLine(line);
  made->setCharPositionInLine(column);
  token.reset(made);
  return made;
}

antlr4::Token* RulesLexer::emit() {
  if (_factory != antlr4::CommonTokenFactory::DEFAULT.get() || !_text.empty()) {
    return NetpolLexer::emit();
  }
  // As CommonTokenFactory::create without copyText, for an empty _text.
  return Emit(type, channel, tokenStartCharIndex, _input->index() - 1, tokenStartLine,
              tokenStartCharPositionInLine);
}

antlr4::Token* RulesLexer::emitEOF() {
  if (_factory != antlr4::CommonTokenFactory::DEFAULT.get()) return NetpolLexer::emitEOF();
  // As Lexer::emitEOF: an empty token at the end of the input.
  const size_t column = getCharPositionInLine();
  const size_t line = getLine();
  return Emit(antlr4::Token::EOF, antlr4::Token::DEFAULT_CHANNEL, _input->index(),
              _input->index() - 1, line, column);
}

TokenArena::~TokenArena() {
  for (size_t b = 0; b < blocks_.size(); ++b) {
    const size_t count = b + 1 == blocks_.size() ? used_ : kBlock;
    auto* tokens = reinterpret_cast<antlr4::CommonToken*>(blocks_[b]->bytes);
    for (size_t i = 0; i < count; ++i) tokens[i].~CommonToken();
  }
}

antlr4::CommonToken* TokenArena::Make(antlr4::TokenSource* source, antlr4::CharStream* input,
                                      size_t type, size_t channel, size_t start, size_t stop) {
  if (used_ == kBlock) {
    blocks_.push_back(std::unique_ptr<Block>(new Block));  // not zeroed
    used_ = 0;
  }
  void* at = blocks_.back()->bytes + used_ * sizeof(antlr4::CommonToken);
  auto* token = new (at) antlr4::CommonToken(
      std::pair<antlr4::TokenSource*, antlr4::CharStream*>(source, input), type, channel, start,
      stop);
  ++used_;
  return token;
}

bool TokenArena::Owns(const antlr4::Token* token, size_t& hint) const {
  const auto* address = reinterpret_cast<const unsigned char*>(token);
  auto in = [&](size_t b) {
    return address >= blocks_[b]->bytes && address < blocks_[b]->bytes + sizeof(Block::bytes);
  };
  if (hint < blocks_.size() && in(hint)) return true;
  if (hint + 1 < blocks_.size() && in(hint + 1)) {
    ++hint;
    return true;
  }
  for (size_t b = 0; b < blocks_.size(); ++b) {
    if (in(b)) {
      hint = b;
      return true;
    }
  }
  return false;
}

std::unique_ptr<antlr4::Token> RulesLexer::nextToken() {
  // The runtime's loop: a token from one or more matches (MORE), SKIPped
  // matches dropped, EOF once the input ends. The runtime also marks the
  // stream for the whole call; the match marks it for each token anyway.
  for (;;) {
    if (hitEOF) {
      emitEOF();
      return std::move(token);
    }
    token.reset();
    channel = antlr4::Token::DEFAULT_CHANNEL;
    tokenStartCharIndex = _input->index();
    tokenStartCharPositionInLine = simulator_->getCharPositionInLine();
    tokenStartLine = simulator_->getLine();
    _text.clear();
    do {
      type = antlr4::Token::INVALID_TYPE;
      size_t matched;
      try {
        matched = simulator_->match(_input, mode);
      } catch (antlr4::LexerNoViableAltException& e) {
        notifyListeners(e);
        recover(e);
        matched = SKIP;
      }
      if (_input->LA(1) == antlr4::Token::EOF) hitEOF = true;
      if (type == antlr4::Token::INVALID_TYPE) type = matched;
    } while (type == MORE);
    if (type == SKIP) continue;
    if (token == nullptr) emit();
    return std::move(token);
  }
}

void RulesLexer::setChannel(size_t channel) {
  if (!keep_hidden_ && channel == antlr4::Token::HIDDEN_CHANNEL) {
    skip();
    ++skipped_;
  } else {
    NetpolLexer::setChannel(channel);
  }
}

BoundedTokenStream::BoundedTokenStream(antlr4::TokenSource* source)
    : CommonTokenStream(source) {
  if (source != nullptr && typeid(*source) == typeid(RulesLexer)) {
    lexer_ = static_cast<RulesLexer*>(source);
    lexer_->MakeTokensInArena();
  }
}

BoundedTokenStream::~BoundedTokenStream() {
  if (lexer_ == nullptr) return;
  // The tokens are in the order the lexer made them: each is looked for
  // first in the block of the one before.
  size_t block = 0;
  for (std::unique_ptr<antlr4::Token>& token : _tokens) {
    if (lexer_->OwnsToken(token.get(), block)) static_cast<void>(token.release());
  }
}

size_t BoundedTokenStream::fetch(size_t n) {
  if (_fetchedEOF) return 0;
  size_t added = 0;
  while (added < n) {
    std::unique_ptr<antlr4::Token> token = _tokenSource->nextToken();
    // The lexer's token factory makes CommonTokens: numbered without a cast.
    if (typeid(*token) == typeid(antlr4::CommonToken)) {
      static_cast<antlr4::CommonToken*>(token.get())->setTokenIndex(_tokens.size());
    } else if (auto* writable = dynamic_cast<antlr4::WritableToken*>(token.get())) {
      writable->setTokenIndex(_tokens.size());
    }
    if (token->getChannel() != channel) one_channel_ = false;
    const bool eof = token->getType() == antlr4::Token::EOF;
    _tokens.push_back(std::move(token));
    ++added;
    if (eof) {
      _fetchedEOF = true;
      break;
    }
  }
  return added;
}

antlr4::Token* BoundedTokenStream::LT(ssize_t k) {
  // _p, once set up, is a token on the channel: with every token on it, the
  // one after it is the next and the one before it the previous.
  if (one_channel_ && set_up_) {
    if (k == 1) return _tokens[_p].get();
    if (k == -1 && _p > 0) return _tokens[_p - 1].get();
  }
  return CommonTokenStream::LT(k);
}

void BoundedTokenStream::setup() {
  CommonTokenStream::setup();
  set_up_ = true;
}

void BoundedTokenStream::seek(size_t index) {
  // As BufferedTokenStream::seek, whose adjustSeekIndex finds the first
  // token on the channel from `index`: with every token on it, `index`.
  if (one_channel_ && set_up_ && index < _tokens.size()) {
    _p = index;
    return;
  }
  CommonTokenStream::seek(index);
}

size_t BoundedTokenStream::LA(ssize_t i) { return LT(i)->getType(); }

void BoundedTokenStream::consume() {
  // As BufferedTokenStream::consume when the next token is lexed (and so
  // _p is not the EOF token): the next token on the channel is the next.
  if (one_channel_ && set_up_ && _p + 1 < _tokens.size()) {
    ++_p;
    return;
  }
  CommonTokenStream::consume();
}

void RulesParser::enterRule(antlr4::ParserRuleContext* localctx, size_t state, size_t rule) {
  // Most contexts have a few children: room for them up front rather than
  // growing the vector one doubling at a time.
  localctx->children.reserve(4);
  NetpolParser::enterRule(localctx, state, rule);
}

antlr4::Token* RulesParser::consume() {
  if (!_buildParseTrees || !_parseListeners.empty() || _errHandler->inErrorRecoveryMode(this)) {
    return NetpolParser::consume();
  }
  // As Parser::consume without listeners, outside error recovery.
  antlr4::Token* token = _input->LT(1);
  if (token->getType() != antlr4::Token::EOF) _input->consume();
  _ctx->addChild(_tracker.createInstance<antlr4::tree::TerminalNodeImpl>(token));
  return token;
}

}  // namespace netpolc
