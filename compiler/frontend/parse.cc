#include "compiler/frontend/parse.h"

#include <antlr4-runtime.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <iterator>
#include <string_view>

#include "compiler/parallel.h"
#include "compiler/frontend/parse_runtime.h"
#include "compiler/frontend/parse_pieces.h"
#include "compiler/frontend/parse_stream.h"
#include "grammar/NetpolLexer.h"
#include "grammar/NetpolParser.h"

namespace netpolc {
namespace {

using netpolc_grammar::NetpolLexer;
using netpolc_grammar::NetpolParser;
using P = NetpolParser;

// Returns the byte offset of the first invalid UTF-8 sequence, or npos.
size_t FindInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

// The line and column (in code points) of a byte offset. Lines end at LF,
// CRLF or a lone CR, as in SourceFile.
SourceLoc LocOfOffset(uint32_t file, std::string_view text, size_t offset) {
  SourceLoc loc{file, 1, 1, 1};
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (IsLineEnd(text, i)) {
      ++loc.line;
      loc.column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++loc.column;
    }
  }
  return loc;
}

// Describes a token for a diagnostic: keywords and punctuation quoted, the
// rest by category.
std::string DescribeTokenType(size_t type, const antlr4::dfa::Vocabulary& vocab) {
  switch (type) {
    case antlr4::Token::EOF:
      return "end of file";
    case NetpolLexer::IDENT:
      return "a name";
    case NetpolLexer::PARAM:
      return "a parameter ($name)";
    case NetpolLexer::INT:
      return "a number";
    case NetpolLexer::STRING:
      return "a string";
    default:
      return std::string(vocab.getLiteralName(type));
  }
}

std::string DescribeToken(const antlr4::Token* token) {
  if (token == nullptr || token->getType() == antlr4::Token::EOF) {
    return "end of file";
  }
  std::string text = token->getText();
  if (token->getType() == NetpolLexer::STRING) {
    if (text.size() > 40) text = text.substr(0, 37) + "...\"";
    return "string " + text;
  }
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return "'" + text + "'";
}

// Keywords are the tokens whose vocabulary name is a quoted word.
bool IsKeyword(size_t type, const antlr4::Parser& parser) {
  std::string literal = parser.getVocabulary().getLiteralName(type);
  return literal.size() > 2 && literal.front() == '\'' &&
         std::isalpha(static_cast<unsigned char>(literal[1]));
}

SourceLoc LocOf(uint32_t file, const antlr4::Token* token) {
  SourceLoc loc;
  loc.file = file;
  loc.line = static_cast<uint32_t>(token->getLine());
  loc.column = static_cast<uint32_t>(token->getCharPositionInLine()) + 1;
  if (token->getType() == antlr4::Token::EOF) {
    loc.length = 1;
  } else {
    // Token indices count code points, like the columns.
    size_t start = token->getStartIndex(), stop = token->getStopIndex();
    loc.length = stop >= start ? static_cast<uint32_t>(stop - start + 1) : 1;
  }
  return loc;
}

// An opening bracket, for "not closed" notes.
struct Bracket {
  SourceLoc loc;
  std::string text;
};

// Turns ANTLR's syntax errors into diagnostics worded for the user.
class ErrorListener : public antlr4::BaseErrorListener {
 public:
  ErrorListener(uint32_t file, Diagnostics& diagnostics, std::optional<Bracket> unclosed)
      : file_(file), diagnostics_(diagnostics), unclosed_(unclosed) {}

  void syntaxError(antlr4::Recognizer* recognizer,
                   antlr4::Token* offending, size_t line,
                   size_t column, const std::string& /*antlr_message*/,
                   std::exception_ptr /*e*/) override {
    std::string message = "unexpected " + DescribeToken(offending);
    std::string keyword_hint;
    if (auto* parser = dynamic_cast<antlr4::Parser*>(recognizer)) {
      antlr4::misc::IntervalSet expected;
      try {
        expected = parser->getExpectedTokens();
      } catch (...) {
        // No expectation could be computed; the plain message will do.
      }
      std::vector<ssize_t> types = expected.toList();
      bool wants_name = std::find(types.begin(), types.end(),
                                  static_cast<ssize_t>(NetpolLexer::IDENT)) != types.end();
      if (wants_name && offending != nullptr && IsKeyword(offending->getType(), *parser)) {
        keyword_hint = " ('" + offending->getText() + "' is a reserved word)";
      }
      if (!types.empty() && types.size() <= 9) {
        message += "; expected ";
        for (size_t i = 0; i < types.size(); ++i) {
          if (i > 0) message += i + 1 == types.size() ? " or " : ", ";
          message += DescribeTokenType(static_cast<size_t>(types[i]), parser->getVocabulary());
        }
      }
    }
    message += keyword_hint;
    SourceLoc loc;
    if (offending != nullptr) {
      loc = LocOf(file_, offending);
    } else {
      loc = SourceLoc{file_, static_cast<uint32_t>(line),
                      static_cast<uint32_t>(column) + 1, 1};
    }
    // Only the first syntax error is reported: after it, the parser's
    // recovery guesses and the errors that follow are mostly echoes.
    if (count_++ > 0) return;
    diagnostics_.Emit(DiagnosticKind::kSyntaxError, loc, message);
    bool at_end = offending == nullptr || offending->getType() == antlr4::Token::EOF;
    if (at_end && unclosed_) {
      diagnostics_.Emit(DiagnosticKind::kUnclosedBracket, unclosed_->loc, unclosed_->text);
    }
  }

  size_t count() const { return count_; }

 private:
  uint32_t file_;
  Diagnostics& diagnostics_;
  std::optional<Bracket> unclosed_;
  size_t count_ = 0;
};

// Walks the ANTLR parse tree and builds the AST.
// Parse-tree nodes found by their exact class. The generated accessors
// (ctx->peerList(), ctx->STRING()) and the tests for labelled alternatives
// would test each child with dynamic_cast, which walks the runtime's class
// hierarchies comparing type names; on large files that was most of the
// cost of building the AST. The parse trees hold only the generated contexts
// and the runtime's terminal (and error) nodes, each of a known final class.

// `node` as a T when it is exactly a T, else nullptr.
template <typename T>
T* As(antlr4::tree::ParseTree* node) {
  return node != nullptr && typeid(*node) == typeid(T) ? static_cast<T*>(node) : nullptr;
}

bool IsTerminal(antlr4::tree::ParseTree* node) {
  const std::type_info& type = typeid(*node);
  return type == typeid(antlr4::tree::TerminalNodeImpl) ||
         type == typeid(antlr4::tree::ErrorNodeImpl);
}

// `node` as a token node when it is one, else nullptr. (TerminalNode is a
// virtual base of the runtime's node classes, but derives from ParseTree
// directly.)
antlr4::tree::TerminalNode* AsTerminal(antlr4::tree::ParseTree* node) {
  return node != nullptr && IsTerminal(node) ? static_cast<antlr4::tree::TerminalNode*>(node)
                                             : nullptr;
}

// The first child of `ctx` of class T, or nullptr.
template <typename T>
T* First(antlr4::ParserRuleContext* ctx) {
  for (antlr4::tree::ParseTree* child : ctx->children) {
    if (T* found = As<T>(child)) return found;
  }
  return nullptr;
}

// Every child of `ctx` of class T, in order.
template <typename T>
std::vector<T*> All(antlr4::ParserRuleContext* ctx) {
  std::vector<T*> found;
  for (antlr4::tree::ParseTree* child : ctx->children) {
    if (T* node = As<T>(child)) found.push_back(node);
  }
  return found;
}

// The children of `ctx` that are rules, not tokens: where a rule has
// labelled alternatives, its children are of their classes, not the rule's.
std::vector<antlr4::ParserRuleContext*> RuleChildren(antlr4::ParserRuleContext* ctx) {
  std::vector<antlr4::ParserRuleContext*> found;
  for (antlr4::tree::ParseTree* child : ctx->children) {
    if (!IsTerminal(child)) found.push_back(static_cast<antlr4::ParserRuleContext*>(child));
  }
  return found;
}

// The token children of `ctx` of token type `type`, in order.
std::vector<antlr4::tree::TerminalNode*> Tokens(antlr4::ParserRuleContext* ctx, size_t type) {
  std::vector<antlr4::tree::TerminalNode*> found;
  for (antlr4::tree::ParseTree* child : ctx->children) {
    auto* terminal = AsTerminal(child);
    if (terminal != nullptr && terminal->getSymbol()->getType() == type) found.push_back(terminal);
  }
  return found;
}

// The first token child of `ctx` of type `type`, or nullptr.
antlr4::tree::TerminalNode* FirstToken(antlr4::ParserRuleContext* ctx, size_t type) {
  for (antlr4::tree::ParseTree* child : ctx->children) {
    auto* terminal = AsTerminal(child);
    if (terminal != nullptr && terminal->getSymbol()->getType() == type) return terminal;
  }
  return nullptr;
}

// The child of `ctx` holding the token `token`, or nullptr.
antlr4::tree::TerminalNode* NodeOf(antlr4::ParserRuleContext* ctx, const antlr4::Token* token) {
  for (antlr4::tree::ParseTree* child : ctx->children) {
    auto* terminal = AsTerminal(child);
    if (terminal != nullptr && terminal->getSymbol() == token) return terminal;
  }
  return nullptr;
}

class Builder {
 public:
  Builder(uint32_t file, Diagnostics& diagnostics)
      : file_(file), diagnostics_(diagnostics) {}

  ast::File BuildFile(P::FileContext* ctx) {
    ast::File file;
    file.file_id = file_;
    for (P::DeclContext* decl : All<P::DeclContext>(ctx)) {
      antlr4::tree::ParseTree* d = decl->children.empty() ? nullptr : decl->children[0];
      if (auto* c = As<P::ComponentDeclContext>(d)) {
        file.components.push_back(BuildComponent(c));
      } else if (auto* c = As<P::ParamDeclContext>(d)) {
        file.params.push_back(BuildParam(c));
      } else if (auto* c = As<P::FlagDeclContext>(d)) {
        file.flags.push_back(BuildFlag(c));
      } else if (auto* c = As<P::InstanceDeclContext>(d)) {
        file.instances.push_back(BuildInstance(c));
      } else if (As<P::DnsOffContext>(d) != nullptr || As<P::DnsRuleContext>(d) != nullptr) {
        file.dns.push_back(BuildDns(static_cast<P::DnsDeclContext*>(d)));
      } else if (auto* c = As<P::ImportDeclContext>(d)) {
        file.imports.push_back(String(FirstToken(c, P::STRING)));
        file.import_aliases.push_back(c->alias != nullptr ? Ident(c->alias) : ast::Text{});
      } else if (auto* c = As<P::EntityDeclContext>(d)) {
        ast::File::EntityPeers entity;
        entity.entity = c->nodes != nullptr ? ast::Peer::Kind::kNodes
                                            : ast::Peer::Kind::kKubeApiserver;
        entity.peers = BuildPeerList(First<P::PeerListContext>(c));
        entity.loc = Loc(c);
        file.entity_peers.push_back(std::move(entity));
      }
    }
    return file;
  }

  std::vector<ast::Peer> BuildPeerList(P::PeerListContext* ctx) {
    std::vector<ast::Peer> peers;
    // Its rule children are the peers (of the peer rule's labelled classes).
    for (antlr4::ParserRuleContext* peer : RuleChildren(ctx)) peers.push_back(BuildPeer(peer));
    return peers;
  }

 private:
  SourceLoc Loc(const antlr4::Token* token) const { return LocOf(file_, token); }
  SourceLoc Loc(antlr4::tree::TerminalNode* node) const {
    return LocOf(file_, node->getSymbol());
  }
  SourceLoc Loc(antlr4::ParserRuleContext* ctx) const {
    return LocOf(file_, ctx->getStart());
  }

  ast::Text Ident(const antlr4::Token* token) {
    return ast::Text{token->getText(), Loc(token)};
  }

  // PRODUCT.NAME as one name, located from PRODUCT to the end of NAME.
  ast::Text Qualified(const antlr4::Token* product, const antlr4::Token* name) {
    ast::Text text{product->getText() + "." + name->getText(), Loc(product)};
    SourceLoc end = Loc(name);
    if (end.line == text.loc.line && end.column > text.loc.column) {
      text.loc.length = end.column + end.length - text.loc.column;
    }
    return text;
  }

  // Decodes a string literal token, reporting invalid escapes.
  ast::Text String(antlr4::tree::TerminalNode* node) {
    const antlr4::Token* token = node->getSymbol();
    std::string raw = token->getText();
    SourceLoc loc = Loc(token);
    std::string out;
    // raw includes the quotes.
    uint32_t column = loc.column + 1;  // code point column of raw[1]
    for (size_t i = 1; i + 1 < raw.size(); ++i) {
      char c = raw[i];
      if (c != '\\') {
        out.push_back(c);
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++column;
        continue;
      }
      char e = raw[i + 1];
      SourceLoc at{file_, loc.line, column, 2};
      switch (e) {
        case '\\':
        case '"':
          out.push_back(e);
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          bool ok = i + 5 < raw.size();
          for (size_t k = 2; ok && k < 6; ++k) {
            char h = raw[i + k];
            int d = (h >= '0' && h <= '9')   ? h - '0'
                    : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                    : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                             : -1;
            if (d < 0) ok = false;
            cp = cp * 16 + static_cast<uint32_t>(d);
          }
          if (!ok || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0) {
            at.length = 2;
            diagnostics_.Emit(DiagnosticKind::kInvalidEscape, at,
                              raw.substr(i, std::min<size_t>(6, raw.size() - 1 - i)));
            i += 1;
            column += 2;
            continue;
          }
          AppendUtf8(out, cp);
          i += 5;
          column += 6;
          continue;
        }
        default: {
          // The escaped character may be multi-byte.
          size_t len = 1;
          while (i + 1 + len < raw.size() &&
                 (static_cast<unsigned char>(raw[i + 1 + len]) & 0xC0) == 0x80) {
            ++len;
          }
          diagnostics_.Emit(DiagnosticKind::kInvalidEscape, at,
                            raw.substr(i, 1 + len));
          i += len;
          column += 2;
          continue;
        }
      }
      i += 1;
      column += 2;
    }
    return ast::Text{std::move(out), loc};
  }

  static void AppendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  ast::Value BuildValue(P::ValueContext* ctx) {
    ast::Value value;
    value.loc = Loc(ctx);
    // One child: a STRING, INT or PARAM token, or a boolLit.
    antlr4::tree::ParseTree* child = ctx->children.empty() ? nullptr : ctx->children[0];
    if (auto* terminal = AsTerminal(child)) {
      switch (terminal->getSymbol()->getType()) {
        case P::STRING:
          value.kind = ast::Value::Kind::kString;
          value.text = String(terminal).value;
          break;
        case P::INT:
          value.kind = ast::Value::Kind::kInt;
          value.text = terminal->getText();
          break;
        case P::PARAM:
          value.kind = ast::Value::Kind::kParam;
          value.text = terminal->getText().substr(1);
          break;
        default:
          break;
      }
    } else if (auto* literal = As<P::BoolLitContext>(child)) {
      value.kind = ast::Value::Kind::kBool;
      value.text = literal->getText();
      value.boolean = value.text == "true";
    }
    return value;
  }

  ast::Property BuildProperty(P::PropertyContext* ctx) {
    return ast::Property{Ident(ctx->key), String(FirstToken(ctx, P::STRING))};
  }

  ast::LabelMap BuildLabelMap(P::LabelMapContext* ctx) {
    ast::LabelMap map;
    map.loc = Loc(ctx);
    for (P::LabelEntryContext* entry : All<P::LabelEntryContext>(ctx)) {
      ast::LabelEntry e;
      antlr4::tree::TerminalNode* key_node = NodeOf(entry, entry->key);
      e.key = key_node ? String(key_node) : ast::Text{"", Loc(entry)};
      std::vector<P::ValueContext*> values = All<P::ValueContext>(entry);
      if (entry->exists != nullptr) {
        // "key": exists / "key": not exists (`exists` is not a reserved word).
        e.op = entry->notExists != nullptr ? ast::LabelEntry::Op::kDoesNotExist
                                           : ast::LabelEntry::Op::kExists;
        e.op_loc = Loc(entry->notExists != nullptr ? entry->notExists : entry->exists);
        if (entry->exists->getText() != "exists") {
          diagnostics_.Emit(DiagnosticKind::kSyntaxError, Loc(entry->exists),
                            "unexpected '" + entry->exists->getText() +
                                "'; expected a value, 'in', 'not in', 'exists' or 'not exists'");
        }
        e.value.loc = e.op_loc;
      } else if (values.size() == 1 && entry->notIn == nullptr &&
                 entry->children.size() == 3) {
        e.value = BuildValue(values[0]);
      } else {
        e.op = entry->notIn != nullptr ? ast::LabelEntry::Op::kNotIn : ast::LabelEntry::Op::kIn;
        e.op_loc = Loc(entry->notIn != nullptr ? entry->notIn : entry->getStart());
        for (antlr4::tree::ParseTree* child : entry->children) {
          auto* terminal = AsTerminal(child);
          if (terminal != nullptr && terminal->getText() == "in") {
            if (entry->notIn == nullptr) e.op_loc = Loc(terminal);
            break;
          }
        }
        for (P::ValueContext* v : values) e.values.push_back(BuildValue(v));
        e.value.loc = e.op_loc;
      }
      map.entries.push_back(std::move(e));
    }
    return map;
  }

  static ast::Protocol ProtocolOf(P::ProtocolContext* ctx) {
    if (ctx == nullptr) return ast::Protocol::kTcp;
    std::string text = ctx->getText();
    if (text == "udp") return ast::Protocol::kUdp;
    if (text == "sctp") return ast::Protocol::kSctp;
    return ast::Protocol::kTcp;
  }

  static uint64_t Number(const std::string& digits) {
    uint64_t n = 0;
    for (char c : digits) {
      n = n * 10 + static_cast<uint64_t>(c - '0');
      if (n > UINT32_MAX) return UINT32_MAX;
    }
    return n;
  }

  std::vector<ast::PortItem> BuildPorts(P::PortListContext* ctx) {
    std::vector<ast::PortItem> ports;
    for (P::PortItemContext* item : All<P::PortItemContext>(ctx)) {
      ast::PortItem port;
      port.protocol = ProtocolOf(First<P::ProtocolContext>(item));
      port.loc = Loc(item);
      if (item->portName != nullptr || item->portNameString != nullptr) {
        if (item->portName != nullptr) {
          port.name = Ident(item->portName);
        } else {
          antlr4::tree::TerminalNode* node = NodeOf(item, item->portNameString);
          port.name = node != nullptr ? String(node) : ast::Text{"", Loc(item->portNameString)};
        }
        port.first_loc = port.last_loc = port.loc = port.name->loc;
        ports.push_back(port);
        continue;
      }
      antlr4::Token* first = item->first != nullptr ? item->first : item->firstParam;
      antlr4::Token* last = item->last != nullptr ? item->last : item->lastParam;
      port.first_loc = Loc(first);
      port.first_param = item->firstParam != nullptr;
      port.first_text = port.first_param ? first->getText().substr(1) : first->getText();
      port.first = port.first_param ? 0 : Number(port.first_text);
      if (last != nullptr) {
        port.last_loc = Loc(last);
        port.last_param = item->lastParam != nullptr;
        port.last_text = port.last_param ? last->getText().substr(1) : last->getText();
        port.last = port.last_param ? 0 : Number(port.last_text);
        // Underline the whole range.
        port.loc = port.first_loc;
        port.loc.length = port.last_loc.column + port.last_loc.length -
                          port.first_loc.column;
        if (port.last_loc.line != port.first_loc.line) {
          port.loc.length = port.first_loc.length;
        }
      } else {
        port.last = port.first;
        port.last_text = port.first_text;
        port.last_loc = port.first_loc;
        port.last_param = port.first_param;
      }
      ports.push_back(port);
    }
    return ports;
  }

  // `ctx`: a peer, of one of the peer rule's labelled classes.
  ast::Peer BuildPeer(antlr4::ParserRuleContext* ctx) {
    ast::Peer peer;
    peer.loc = Loc(ctx);
    if (auto* c = As<P::ComponentPeerContext>(ctx)) {
      peer.kind = ast::Peer::Kind::kComponent;
      peer.name = Ident(c->getStart());
    } else if (auto* c = As<P::PodsPeerContext>(ctx)) {
      peer.kind = ast::Peer::Kind::kPods;
      peer.pods = BuildLabelMap(First<P::LabelMapContext>(c));
      if (First<P::AnyNamespaceContext>(c) != nullptr) {
        peer.ns = ast::Peer::Namespace::kAny;
      } else if (auto* named = First<P::NamedNamespaceContext>(c)) {
        peer.ns = ast::Peer::Namespace::kNamed;
        peer.ns_name = BuildValue(First<P::ValueContext>(named));
      } else if (auto* labelled = First<P::LabelledNamespacesContext>(c)) {
        peer.ns = ast::Peer::Namespace::kLabels;
        peer.ns_labels = BuildLabelMap(First<P::LabelMapContext>(labelled));
      }
    } else if (As<P::AnywherePeerContext>(ctx)) {
      peer.kind = ast::Peer::Kind::kAnywhere;
    } else if (As<P::InstancePeerContext>(ctx)) {
      peer.kind = ast::Peer::Kind::kInstance;
    } else if (As<P::ExternalPeerContext>(ctx)) {
      peer.kind = ast::Peer::Kind::kExternal;
    } else if (auto* c = As<P::CidrPeerContext>(ctx)) {
      peer.kind = ast::Peer::Kind::kCidr;
      std::vector<antlr4::tree::TerminalNode*> strings = Tokens(c, P::STRING);
      peer.cidr = String(strings.at(0));
      for (size_t i = 1; i < strings.size(); ++i) {
        peer.except.push_back(String(strings[i]));
      }
    } else if (auto* c = As<P::ParamPeerContext>(ctx)) {
      peer.kind = ast::Peer::Kind::kParam;
      const antlr4::Token* param = c->getStart();
      peer.name = ast::Text{param->getText().substr(1), Loc(param)};
    } else if (As<P::KubeApiserverPeerContext>(ctx)) {
      peer.kind = ast::Peer::Kind::kKubeApiserver;
    } else if (As<P::NodesPeerContext>(ctx)) {
      peer.kind = ast::Peer::Kind::kNodes;
    } else if (auto* c = As<P::QualifiedComponentPeerContext>(ctx)) {
      // gw.gateway: a component of the product imported as gw.
      peer.kind = ast::Peer::Kind::kComponent;
      peer.name = Qualified(c->product, c->name);
    } else if (auto* c = As<P::QualifiedInstancePeerContext>(ctx)) {
      peer.kind = ast::Peer::Kind::kInstance;
      peer.product = c->product->getText() + ".";
    }
    return peer;
  }

  // Depth is bounded by kMaxNesting (checked on the tokens before parsing).
  ast::Condition BuildCondition(P::ConditionContext* ctx) {
    std::vector<P::AndConditionContext*> terms = All<P::AndConditionContext>(ctx);
    if (terms.size() == 1) return BuildAnd(terms[0]);
    ast::Condition c;
    c.kind = ast::Condition::Kind::kOr;
    c.loc = Loc(ctx);
    for (auto* t : terms) c.operands.push_back(BuildAnd(t));
    return c;
  }

  ast::Condition BuildAnd(P::AndConditionContext* ctx) {
    std::vector<P::NotConditionContext*> terms = All<P::NotConditionContext>(ctx);
    if (terms.size() == 1) return BuildNot(terms[0]);
    ast::Condition c;
    c.kind = ast::Condition::Kind::kAnd;
    c.loc = Loc(ctx);
    for (auto* t : terms) c.operands.push_back(BuildNot(t));
    return c;
  }

  ast::Condition BuildNot(P::NotConditionContext* ctx) {
    // Its one rule child: the atom, of one of atomCondition's labelled classes.
    ast::Condition atom = BuildAtom(RuleChildren(ctx).at(0));
    if (ctx->negated == nullptr) return atom;
    ast::Condition c;
    c.kind = ast::Condition::Kind::kNot;
    c.loc = Loc(ctx->negated);
    c.operands.push_back(std::move(atom));
    return c;
  }

  ast::Condition BuildAtom(antlr4::ParserRuleContext* ctx) {
    if (auto* c = As<P::ConstantConditionContext>(ctx)) {
      ast::Condition out;
      out.kind = c->getText() == "true" ? ast::Condition::Kind::kTrue
                                        : ast::Condition::Kind::kFalse;
      out.loc = Loc(c);
      return out;
    }
    if (auto* c = As<P::FlagConditionContext>(ctx)) {
      ast::Condition out;
      out.kind = ast::Condition::Kind::kFlag;
      out.flag = Ident(c->getStart());
      out.loc = out.flag.loc;
      return out;
    }
    if (auto* c = As<P::QualifiedFlagConditionContext>(ctx)) {
      ast::Condition flag;
      flag.kind = ast::Condition::Kind::kFlag;
      flag.flag = Qualified(c->product, c->name);
      flag.loc = flag.flag.loc;
      return flag;
    }
    auto* c = As<P::ParenConditionContext>(ctx);
    return BuildCondition(First<P::ConditionContext>(c));
  }

  ast::Param BuildParam(P::ParamDeclContext* ctx) {
    ast::Param param;
    param.loc = Loc(ctx);
    param.name = ast::Text{ctx->name->getText(), Loc(ctx->name)};
    param.type = Ident(ctx->type);
    if (auto* d = ctx->paramDefault()) {
      if (d->value() != nullptr) {
        param.default_value = BuildValue(d->value());
      } else {
        param.default_peers = BuildPeerList(d->peerList());
      }
    }
    return param;
  }

  ast::Flag BuildFlag(P::FlagDeclContext* ctx) {
    ast::Flag flag;
    flag.loc = Loc(ctx);
    flag.name = Ident(ctx->name);
    if (ctx->boolLit() != nullptr) {
      flag.default_value = ctx->boolLit()->getText() == "true";
    }
    if (ctx->block != nullptr) {
      for (auto* p : ctx->block->property()) {
        flag.properties.push_back(BuildProperty(p));
      }
    }
    return flag;
  }

  ast::Instance BuildInstance(P::InstanceDeclContext* ctx) {
    ast::Instance instance;
    instance.loc = Loc(ctx);
    for (P::InstanceItemContext* item : ctx->instanceItem()) {
      if (item->value() != nullptr && item->key == nullptr) {
        instance.namespaces.push_back(BuildValue(item->value()));
      } else if (item->labelMap() != nullptr) {
        instance.labels.push_back(BuildLabelMap(item->labelMap()));
      } else if (item->key != nullptr) {
        instance.settings.push_back({Ident(item->key), BuildValue(item->value())});
      }
    }
    return instance;
  }

  ast::Dns BuildDns(P::DnsDeclContext* ctx) {
    ast::Dns dns;
    dns.loc = Loc(ctx);
    if (As<P::DnsOffContext>(ctx)) {
      dns.off = true;
    } else if (auto* c = As<P::DnsRuleContext>(ctx)) {
      dns.ports = BuildPorts(First<P::PortListContext>(c));
      dns.peers = BuildPeerList(First<P::PeerListContext>(c));
    }
    return dns;
  }

  // `ctx`: an ingressRule or egressRule.
  ast::Rule BuildRule(ast::Direction direction, antlr4::ParserRuleContext* ctx) {
    ast::Rule rule;
    rule.direction = direction;
    rule.loc = Loc(ctx->getStart());
    for (antlr4::tree::ParseTree* child : ctx->children) {
      if (auto* ports = As<P::PortListContext>(child)) {
        rule.ports = BuildPorts(ports);
      } else if (auto* peers = As<P::PeerListContext>(child)) {
        rule.peers = BuildPeerList(peers);
      } else if (auto* when = As<P::ConditionContext>(child)) {
        rule.when = BuildCondition(when);
      } else if (auto* tail = As<P::RuleTailContext>(child)) {
        if (auto* block = First<P::PropertyBlockContext>(tail)) {
          for (auto* p : All<P::PropertyContext>(block)) {
            rule.properties.push_back(BuildProperty(p));
          }
        }
      }
    }
    return rule;
  }

  ast::Component BuildComponent(P::ComponentDeclContext* ctx) {
    ast::Component component;
    component.loc = Loc(ctx);
    component.name = Ident(ctx->name);
    // Its rule children: the condition, then the items (of componentItem's
    // labelled classes), the rules first as the most frequent.
    for (antlr4::ParserRuleContext* item : RuleChildren(ctx)) {
      if (As<P::IngressRuleContext>(item) != nullptr) {
        component.rules.push_back(BuildRule(ast::Direction::kIngress, item));
      } else if (As<P::EgressRuleContext>(item) != nullptr) {
        component.rules.push_back(BuildRule(ast::Direction::kEgress, item));
      } else if (auto* when = As<P::ConditionContext>(item)) {
        component.when = BuildCondition(when);
      } else if (auto* c = As<P::ComponentLabelsContext>(item)) {
        ast::LabelMap map = BuildLabelMap(c->labelMap());
        if (component.labels.has_value()) {
          component.extra_labels.push_back(std::move(map));
        } else {
          component.labels = std::move(map);
        }
      } else if (auto* c = As<P::ComponentLabelsAnyContext>(item)) {
        component.labels_any.push_back(Loc(c));
      } else if (auto* c = As<P::ComponentScopeContext>(item)) {
        component.scope = c->scopeCluster != nullptr
                              ? ast::Component::Scope::kCluster
                              : ast::Component::Scope::kInstance;
        if (c->scopeNamespace != nullptr) component.scope = ast::Component::Scope::kNamespace;
        component.scope_loc = Loc(c);
      } else if (auto* c = As<P::ComponentNamespaceContext>(item)) {
        component.namespaces.push_back(BuildValue(c->value()));
      } else if (auto* c = As<P::ComponentNoteContext>(item)) {
        ast::Note note;
        note.direction = c->noteEgress != nullptr ? ast::Direction::kEgress
                                                  : ast::Direction::kIngress;
        note.text = String(c->STRING());
        note.loc = Loc(c);
        component.notes.push_back(std::move(note));
      } else if (auto* c = As<P::ComponentPropertyContext>(item)) {
        component.properties.push_back(BuildProperty(c->property()));
      } else if (auto* c = As<P::ComponentPolicyContext>(item)) {
        ast::Component::PolicyItem policy;
        if (c->value() != nullptr) policy.name = BuildValue(c->value());
        if (c->condition() != nullptr) policy.when = BuildCondition(c->condition());
        policy.loc = Loc(c->getStart());
        component.policies.push_back(std::move(policy));
      } else if (auto* c = As<P::ComponentIsolateContext>(item)) {
        ast::Component::Isolate isolate;
        isolate.direction = c->isolateEgress != nullptr ? ast::Direction::kEgress
                                                        : ast::Direction::kIngress;
        if (c->condition() != nullptr) isolate.when = BuildCondition(c->condition());
        isolate.loc = Loc(c->getStart());
        component.isolates.push_back(std::move(isolate));
      }
    }
    return component;
  }

  uint32_t file_;
  Diagnostics& diagnostics_;
};

// What a token type means to the checks on tokens. The table is computed
// once from the grammar's vocabulary, so the check costs no string work per
// token.
enum class Role : int8_t {
  kNone,
  kOpen,       // ( { [
  kClose,      // ) } ]
  kSeparator,  // , between the items of a list
  kListEnd,    // ; and the words that start another item: no list goes past them
};

Role RoleOf(size_t type, const antlr4::dfa::Vocabulary& vocab) {
  static const std::vector<Role> table = [&vocab] {
    std::vector<Role> t(vocab.getMaxTokenType() + 1, Role::kNone);
    for (size_t i = 0; i < t.size(); ++i) {
      std::string literal = vocab.getLiteralName(i);
      if (literal == "'('" || literal == "'{'" || literal == "'['") t[i] = Role::kOpen;
      if (literal == "')'" || literal == "'}'" || literal == "']'") t[i] = Role::kClose;
      if (literal == "','") t[i] = Role::kSeparator;
      for (const char* end : {"';'", "'ingress'", "'egress'", "'component'", "'param'",
                              "'flag'", "'dns'", "'note'", "'scope'", "'labels'", "'when'"}) {
        if (literal == end) t[i] = Role::kListEnd;
      }
    }
    return t;
  }();
  return type < table.size() ? table[type] : Role::kNone;
}

// Reports control characters (U+0000-U+001F but tab, U+007F-U+009F) written
// as they are inside a string literal: they may only appear as escapes.
bool CheckStringCharacters(const antlr4::Token* token, uint32_t file,
                           Diagnostics& diagnostics) {
  std::string text = token->getText();
  uint32_t column = static_cast<uint32_t>(token->getCharPositionInLine()) + 1;
  bool ok = true;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    uint32_t code = UINT32_MAX;
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      code = c;
    } else if (c == 0xc2 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      code = static_cast<unsigned char>(text[i + 1]);
    }
    if (code != UINT32_MAX) {
      diagnostics.Emit(DiagnosticKind::kControlCharacter,
                       SourceLoc{file, static_cast<uint32_t>(token->getLine()), column, 1},
                       code);
      ok = false;
    }
    if ((c & 0xC0) != 0x80) ++column;
  }
  return ok;
}

// Lexes the input in blocks and reports lexical problems, excessive nesting
// (the parser recurses on nesting), overlong lists and too many tokens
// before the parser runs. Stops lexing at the first limit passed.
// `too_many` is the diagnostic for more than kMaxTokens tokens (a piece's
// limit is reported as its own).
bool CheckTokens(BoundedTokenStream& tokens, uint32_t file,
                 Diagnostics& diagnostics, std::optional<Bracket>& unclosed,
                 DiagnosticKind too_many = DiagnosticKind::kTooManyTokens) {
  const antlr4::dfa::Vocabulary& vocab =
      static_cast<NetpolLexer*>(tokens.getTokenSource())->getVocabulary();
  bool ok = true;
  int depth = 0;
  std::vector<Bracket> open;  // at most kMaxNesting entries
  // Per bracket depth, the separators seen since the list began.
  std::vector<size_t> separators(1, 0);
  constexpr size_t kBlock = 4096;
  size_t checked = 0;
  bool at_end = false;
  while (!at_end) {
    at_end = tokens.FetchMore(kBlock) < kBlock;
    // (getTokens() would copy the whole buffer: tokens are read one by one.)
    const size_t fetched = tokens.size();
    if (fetched > kMaxTokens) {
      diagnostics.Emit(too_many, LocOf(file, tokens.get(kMaxTokens)), kMaxTokens);
      return false;
    }
    for (; checked < fetched; ++checked) {
      antlr4::Token* token = tokens.get(checked);
      switch (token->getType()) {
        case NetpolLexer::UNEXPECTED_CHAR:
          diagnostics.Emit(DiagnosticKind::kUnexpectedCharacter,
                           LocOf(file, token), token->getText());
          ok = false;
          break;
        case NetpolLexer::UNTERMINATED_STRING:
          diagnostics.Emit(DiagnosticKind::kUnterminatedString,
                           SourceLoc{file, static_cast<uint32_t>(token->getLine()),
                                     static_cast<uint32_t>(token->getCharPositionInLine()) + 1, 1});
          CheckStringCharacters(token, file, diagnostics);
          ok = false;
          break;
        case NetpolLexer::STRING:
          if (!CheckStringCharacters(token, file, diagnostics)) ok = false;
          break;
        case NetpolLexer::UNTERMINATED_COMMENT:
          diagnostics.Emit(DiagnosticKind::kUnterminatedComment,
                           SourceLoc{file, static_cast<uint32_t>(token->getLine()),
                                     static_cast<uint32_t>(token->getCharPositionInLine()) + 1, 2});
          ok = false;
          break;
        default: {
          Role role = RoleOf(token->getType(), vocab);
          if (role == Role::kOpen) {
            if (++depth > kMaxNesting) {
              diagnostics.Emit(DiagnosticKind::kNestingTooDeep,
                               LocOf(file, token), kMaxNesting);
              return false;
            }
            open.push_back({LocOf(file, token), token->getText()});
            separators.push_back(0);
          } else if (role == Role::kClose) {
            if (depth > 0) --depth;
            if (!open.empty()) open.pop_back();
            if (separators.size() > 1) separators.pop_back();
          } else if (role == Role::kSeparator) {
            if (++separators.back() >= kMaxListItems) {
              diagnostics.Emit(DiagnosticKind::kListTooLong, LocOf(file, token), kMaxListItems);
              return false;
            }
          } else if (role == Role::kListEnd) {
            separators.back() = 0;
          }
        }
      }
    }
  }
  if (!open.empty()) unclosed = open.back();
  return ok;
}

template <typename ParseFn, typename BuildFn>
auto ParseText(uint32_t file_id, std::string_view text, const SourcePiece& at, bool piece,
               Diagnostics& diagnostics, ParseFn parse, BuildFn build)
    -> std::optional<decltype(build(std::declval<Builder&>(),
                                    parse(std::declval<P&>())))>;

// Parses with `parse` (a parser entry point), then builds the AST with
// `build` only when the input had no errors.
template <typename ParseFn, typename BuildFn>
auto Parse(const SourceManager& sources, uint32_t file_id,
           Diagnostics& diagnostics, ParseFn parse, BuildFn build)
    -> std::optional<decltype(build(std::declval<Builder&>(),
                                    parse(std::declval<P&>())))> {
  if (ReportInvalidText(sources, file_id, kMaxSourceBytes, diagnostics)) return std::nullopt;
  return ParseText(file_id, sources.file(file_id).text, SourcePiece{}, /*piece=*/false,
                   diagnostics, parse, build);
}

// Parses `text` (valid UTF-8), which starts at `at.line` and `at.column` of
// the file `file_id`, as Parse does; `piece` when it is a piece of the file
// (the limit on tokens then holds for the piece).
template <typename ParseFn, typename BuildFn>
auto ParseText(uint32_t file_id, std::string_view text, const SourcePiece& at, bool piece,
               Diagnostics& diagnostics, ParseFn parse, BuildFn build)
    -> std::optional<decltype(build(std::declval<Builder&>(),
                                    parse(std::declval<P&>())))> {
  Utf8CharStream input(text);
  // Hidden tokens kept: the limit on tokens counts them.
  RulesLexer lexer(&input, /*keep_hidden=*/true);
  lexer.removeErrorListeners();
  lexer.setLine(at.line);
  lexer.setCharPositionInLine(at.column - 1);
  BoundedTokenStream tokens(&lexer);
  std::optional<Bracket> unclosed;
  if (!CheckTokens(tokens, file_id, diagnostics, unclosed,
                   piece ? DiagnosticKind::kTooManyTokensInDeclaration
                         : DiagnosticKind::kTooManyTokens)) {
    return std::nullopt;
  }

  RulesParser parser(&tokens);
  parser.removeErrorListeners();

  // Two-stage parsing: the fast SLL mode first; on failure, the full LL mode
  // with error reporting and recovery.
  parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
      antlr4::atn::PredictionMode::SLL);
  parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
  decltype(parse(parser)) tree = nullptr;
  try {
    tree = parse(parser);
  } catch (const antlr4::ParseCancellationException&) {
    tokens.seek(0);
    parser.reset();
    parser.setErrorHandler(std::make_shared<antlr4::DefaultErrorStrategy>());
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()
        ->setPredictionMode(antlr4::atn::PredictionMode::LL);
    ErrorListener listener(file_id, diagnostics, unclosed);
    parser.addErrorListener(&listener);
    tree = parse(parser);
    parser.removeErrorListeners();
    if (listener.count() > 0) return std::nullopt;
  }
  Builder builder(file_id, diagnostics);
  return build(builder, tree);
}

// The text of `piece` of `file`.
std::string_view PieceText(const SourceFile& file, const SourcePiece& piece) {
  return std::string_view(file.text).substr(piece.begin, piece.end - piece.begin);
}

// One piece of a file lexed on its own, from the piece's line and column so
// that positions are those of the file; the lexer's own error listener
// removed (CheckTokens reports what it meets).
struct PieceLexer {
  PieceLexer(const SourceFile& file, const SourcePiece& piece, bool keep_hidden)
      : PieceLexer(PieceText(file, piece), piece, keep_hidden) {}
  // `text` is the piece's own text.
  PieceLexer(std::string_view text, const SourcePiece& piece, bool keep_hidden)
      : input(text),
        lexer(&input, keep_hidden),
        tokens(&lexer) {
    lexer.removeErrorListeners();
    lexer.setLine(piece.line);
    lexer.setCharPositionInLine(piece.column - 1);
  }
  // Lexes the whole piece; false on any lexical problem or diagnostic.
  bool Lex(uint32_t file_id) {
    Diagnostics diagnostics;
    std::optional<Bracket> unclosed;
    return CheckTokens(tokens, file_id, diagnostics, unclosed) && diagnostics.all().empty();
  }

  Utf8CharStream input;
  RulesLexer lexer;
  BoundedTokenStream tokens;
};

// Parses one piece of a file (parse_pieces.h) that is known to be valid
// UTF-8 and not too large. Returns nullopt on any problem, reporting nothing:
// the whole file is then parsed again to report it.
// Adds the piece's tokens, hidden ones and not its EOF, to `token_count`.
// `text` is the piece's own text.
std::optional<ast::File> ParsePiece(std::string_view text, uint32_t file_id,
                                    const SourcePiece& piece, std::atomic<size_t>& token_count) {
  try {
    // Beside other pieces (see "Threads" in parse_runtime.h).
    PieceLexer lexed(text, piece, /*keep_hidden=*/false);
    if (!lexed.Lex(file_id)) return std::nullopt;
    // Past the limit on tokens, this and every later piece fail: the whole
    // file is then lexed, up to the limit, to report it.
    if ((token_count += lexed.tokens.size() - 1 + lexed.lexer.skipped()) + 1 > kMaxTokens) {
      return std::nullopt;
    }
    RulesParser parser(&lexed.tokens);
    parser.removeErrorListeners();
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
        antlr4::atn::PredictionMode::SLL);
    parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
    P::FileContext* tree = parser.file();
    Diagnostics diagnostics;
    Builder builder(file_id, diagnostics);
    ast::File ast = builder.BuildFile(tree);
    if (!diagnostics.all().empty()) return std::nullopt;
    return ast;
  } catch (...) {
    // A syntax error (the bail strategy throws) or anything unexpected.
    return std::nullopt;
  }
}

// Appends the tokens of `tokens` (filled) to `out`, with the final EOF token
// when `with_eof`.
void AppendLexedTokens(antlr4::CommonTokenStream& tokens, bool with_eof,
                       std::vector<LexedToken>& out) {
  using Kind = LexedToken::Kind;
  // (getTokens() would copy the token list: tokens are read one by one.)
  for (size_t i = 0; i < tokens.size(); ++i) {
    antlr4::Token* token = tokens.get(i);
    if (token->getType() == antlr4::Token::EOF && !with_eof) break;
    LexedToken t;
    t.line = static_cast<uint32_t>(token->getLine());
    t.column = static_cast<uint32_t>(token->getCharPositionInLine()) + 1;
    t.channel = token->getChannel() == antlr4::Token::DEFAULT_CHANNEL
                    ? LexedToken::Channel::kDefault
                    : LexedToken::Channel::kHidden;
    switch (token->getType()) {
      case antlr4::Token::EOF:
        t.kind = Kind::kEof;
        break;
      case NetpolLexer::IDENT:
        t.kind = Kind::kIdent;
        break;
      case NetpolLexer::PARAM:
        t.kind = Kind::kParam;
        break;
      case NetpolLexer::INT:
        t.kind = Kind::kInt;
        break;
      case NetpolLexer::STRING:
        t.kind = Kind::kString;
        break;
      case NetpolLexer::LINE_COMMENT:
        t.kind = Kind::kLineComment;
        break;
      case NetpolLexer::BLOCK_COMMENT:
        t.kind = Kind::kBlockComment;
        break;
      case NetpolLexer::WS:
        t.kind = Kind::kWhitespace;
        break;
      default:
        // The literal tokens of the grammar: reserved words and punctuation
        // (told apart below, from the text).
        t.kind = Kind::kPunctuation;
        break;
    }
    // The text exactly as in the file (Utf8CharStream gives the bytes, lone
    // CRs included, though the lexer saw LFs in their place).
    if (t.kind != Kind::kEof) t.text = token->getText();
    if (t.kind == Kind::kPunctuation && !t.text.empty() &&
        std::isalpha(static_cast<unsigned char>(t.text[0]))) {
      t.kind = Kind::kKeyword;
    }
    out.push_back(std::move(t));
  }
}

// Lexes one piece of a file (parse_split.h), whitespace and comments
// included; nullopt on any problem (the whole file is then lexed again to
// report it).
std::optional<std::vector<LexedToken>> LexPiece(const SourceFile& file, uint32_t file_id,
                                                const SourcePiece& piece, bool last) {
  try {
    // Beside other pieces, as in ParsePiece.
    PieceLexer lexed(file, piece, /*keep_hidden=*/true);
    if (!lexed.Lex(file_id)) return std::nullopt;
    std::vector<LexedToken> out;
    out.reserve(lexed.tokens.size());
    AppendLexedTokens(lexed.tokens, last, out);
    return out;
  } catch (...) {
    return std::nullopt;
  }
}

// Lexes the file piece by piece on the thread pool, a few pieces at a time
// so that only those pieces' ANTLR tokens exist at once; nullopt when a piece
// has a problem.
std::optional<std::vector<LexedToken>> LexByPieces(const SourceFile& file, uint32_t file_id) {
  size_t piece_bytes = PieceBytes();
  if (piece_bytes == 0) return std::nullopt;
  std::vector<SourcePiece> pieces = SplitDeclarations(file.text, piece_bytes);
  std::vector<LexedToken> out;
  const size_t batch = 2 * ThreadCount();
  std::vector<std::optional<std::vector<LexedToken>>> lexed;
  size_t count = 0;
  for (size_t first = 0; first < pieces.size(); first += count) {
    // The first piece alone, as in ParseByPieces: ANTLR's shared DFA caches
    // are then filled mostly by one thread.
    count = first == 0 ? 1 : std::min(batch, pieces.size() - first);
    lexed.assign(count, std::nullopt);
    ParallelFor(count, [&](size_t i) {
      lexed[i] = LexPiece(file, file_id, pieces[first + i], first + i + 1 == pieces.size());
    });
    for (std::optional<std::vector<LexedToken>>& piece : lexed) {
      if (!piece) return std::nullopt;
      out.insert(out.end(), std::make_move_iterator(piece->begin()),
                 std::make_move_iterator(piece->end()));
    }
    // Over the limit on tokens, the whole file is lexed to report it.
    if (out.size() > kMaxTokens) return std::nullopt;
  }
  return out;
}

}  // namespace

std::optional<ast::File> ParseFile(const SourceManager& sources,
                                   uint32_t file_id, Diagnostics& diagnostics) {
  const SourceFile& source = sources.file(file_id);
  if (source.text.size() <= kMaxSourceBytes &&
      FindInvalidUtf8(source.text) == std::string_view::npos) {
    // Declaration by declaration, in parallel; a file with any problem is
    // parsed again as a whole below, which reports it.
    std::atomic<size_t> token_count{0};
    std::optional<ast::File> file =
        ParseByPieces(source.text, file_id, [&](const SourcePiece& piece) {
          return ParsePiece(PieceText(source, piece), file_id, piece, token_count);
        });
    // Over the limit on tokens (counted with the EOF), the whole file is
    // parsed to report it.
    if (file && token_count.load() + 1 <= kMaxTokens) return file;
  }
  size_t errors_before = diagnostics.error_count();
  auto file = Parse(
      sources, file_id, diagnostics, [](P& parser) { return parser.file(); },
      [](Builder& builder, P::FileContext* tree) {
        return builder.BuildFile(tree);
      });
  if (diagnostics.error_count() > errors_before) return std::nullopt;
  return file;
}

bool ParsableInPieces(const SourceManager& sources, uint32_t file_id, size_t max_bytes) {
  const SourceFile& source = sources.file(file_id);
  return source.text.size() <= max_bytes &&
         FindInvalidUtf8(source.text) == std::string_view::npos;
}

std::optional<ast::File> ParseFilePiece(const SourceManager& sources, uint32_t file_id,
                                        const SourcePiece& piece,
                                        std::atomic<size_t>& token_count) {
  return ParsePiece(PieceText(sources.file(file_id), piece), file_id, piece, token_count);
}

bool IsValidUtf8(std::string_view text) { return FindInvalidUtf8(text) == std::string_view::npos; }

std::optional<ast::File> ParseTextPiece(std::string_view text, uint32_t file_id,
                                        const SourcePiece& piece,
                                        std::atomic<size_t>& token_count) {
  return ParsePiece(text, file_id, piece, token_count);
}

bool ReportInvalidText(const SourceManager& sources, uint32_t file_id, size_t max_bytes,
                       Diagnostics& diagnostics) {
  const SourceFile& file = sources.file(file_id);
  if (file.text.size() > max_bytes) {
    diagnostics.Emit(DiagnosticKind::kFileTooLarge, SourceLoc{file_id, 1, 1, 1}, max_bytes);
    return true;
  }
  if (size_t bad = FindInvalidUtf8(file.text); bad != std::string_view::npos) {
    diagnostics.Emit(DiagnosticKind::kInvalidUtf8, LocOfOffset(file_id, file.text, bad));
    return true;
  }
  return false;
}

std::optional<ast::File> ParseFilePieceReporting(const SourceManager& sources, uint32_t file_id,
                                                 const SourcePiece& piece,
                                                 Diagnostics& diagnostics) {
  const SourceFile& source = sources.file(file_id);
  if (piece.begin > piece.end || piece.end > source.text.size()) return std::nullopt;
  size_t errors_before = diagnostics.error_count();
  auto file = ParseText(
      file_id, PieceText(source, piece), piece, /*piece=*/true, diagnostics, [](P& parser) { return parser.file(); },
      [](Builder& builder, P::FileContext* tree) { return builder.BuildFile(tree); });
  if (diagnostics.error_count() > errors_before) return std::nullopt;
  return file;
}

std::optional<std::vector<LexedToken>> LexFilePiece(const SourceManager& sources, uint32_t file_id,
                                                    const SourcePiece& piece, bool last) {
  return LexPiece(sources.file(file_id), file_id, piece, last);
}

std::optional<std::vector<ast::Peer>> ParsePeerList(
    const SourceManager& sources, uint32_t file_id, Diagnostics& diagnostics) {
  size_t errors_before = diagnostics.error_count();
  auto peers = Parse(
      sources, file_id, diagnostics,
      [](P& parser) { return parser.peerListOnly(); },
      [](Builder& builder, P::PeerListOnlyContext* tree) {
        return builder.BuildPeerList(tree->peerList());
      });
  if (diagnostics.error_count() > errors_before) return std::nullopt;
  return peers;
}


std::optional<std::vector<LexedToken>> LexFile(const SourceManager& sources, uint32_t file_id,
                                               Diagnostics& diagnostics) {
  if (ReportInvalidText(sources, file_id, kMaxSourceBytes, diagnostics)) return std::nullopt;
  const SourceFile& file = sources.file(file_id);
  if (std::optional<std::vector<LexedToken>> pieces = LexByPieces(file, file_id)) return pieces;
  Utf8CharStream input(file.text);
  RulesLexer lexer(&input, /*keep_hidden=*/true);
  lexer.removeErrorListeners();
  BoundedTokenStream tokens(&lexer);
  std::optional<Bracket> unclosed;
  if (!CheckTokens(tokens, file_id, diagnostics, unclosed)) return std::nullopt;

  std::vector<LexedToken> out;
  out.reserve(tokens.size());
  AppendLexedTokens(tokens, /*with_eof=*/true, out);
  return out;
}

}  // namespace netpolc
