// The netpolc rules language. See docs/language.md for the reference.
//
// Only this package and the parse library (compiler/frontend/parse.cc, parse_stream.*,
// parse_runtime.*) see ANTLR types: parse.cc walks the
// tree produced here and builds the AST (compiler/frontend/ast.h).
grammar Netpol;

// The generated parser derives from RulesParserBase (rules_parser_base.h),
// which makes the runtime calls of its rule functions cheaper.
options { superClass = RulesParserBase; }
@parser::header { #include "grammar/rules_parser_base.h" }

file : decl* EOF ;

decl
    : paramDecl
    | flagDecl
    | instanceDecl
    | dnsDecl
    | componentDecl
    | importDecl
    | entityDecl
    ;

// param NAME: TYPE = VALUE;   (referred to as $NAME, so keywords are fine names)
paramDecl : 'param' name=paramName ':' type=IDENT ('=' paramDefault)? ';' ;
paramName
    : IDENT | 'any' | 'anywhere' | 'cidr' | 'cluster' | 'component' | 'dns'
    | 'egress' | 'except' | 'external' | 'flag' | 'from' | 'in' | 'ingress'
    | 'instance' | 'labels' | 'namespace' | 'namespaces' | 'note' | 'off'
    | 'param' | 'pods' | 'scope' | 'sctp' | 'tcp' | 'to' | 'udp' | 'when'
    | 'import' | 'isolate' | 'kube_apiserver' | 'nodes' | 'policy' | 'as'
    ;
paramDefault : value | peerList ;

// flag NAME = true|false { doc "..."; link "..."; enabled "..."; disabled "..."; }
flagDecl : 'flag' name=IDENT ('=' boolLit)? (block=propertyBlock | ';') ;

// instance { namespace $namespace; prefix $instance; labels {...}; name "..."; }
instanceDecl : 'instance' '{' instanceItem* '}' ;
instanceItem
    : 'namespace' value ';'
    | 'labels' labelMap ';'?
    | key=IDENT value ';'
    ;

// dns off;   or   dns udp 53, tcp 53 to pods {...} in namespace "kube-system";
dnsDecl
    : 'dns' 'off' ';'                     # dnsOff
    | 'dns' portList 'to' peerList ';'     # dnsRule
    ;

// component NAME [when COND] { ... }
componentDecl : 'component' name=IDENT ('when' condition)? '{' componentItem* '}' ;
componentItem
    : 'labels' labelMap ';'?                            # componentLabels
    | 'scope' (scopeInstance='instance' | scopeCluster='cluster' | scopeNamespace='namespace') ';'  # componentScope
    | 'namespace' value ';'                             # componentNamespace
    | 'note' (noteIngress='ingress' | noteEgress='egress') STRING ';'  # componentNote
    | 'ingress' portList 'from' peerList ('when' condition)? ruleTail  # ingressRule
    | 'egress' portList 'to' peerList ('when' condition)? ruleTail     # egressRule
    | property                                          # componentProperty
    | 'policy' value? ('when' condition)? ';'           # componentPolicy
    | 'isolate' (isolateIngress='ingress' | isolateEgress='egress') ('when' condition)? ';'  # componentIsolate
    | 'labels' 'any' ';'                                # componentLabelsAny
    ;
ruleTail : propertyBlock | ';' ;

propertyBlock : '{' property* '}' ;
property : key=IDENT STRING ';' ;

portList : portItem (',' portItem)* ;
// A port: a number, a range, an int parameter ($p, $lo-$hi, 8000-$hi), or a
// container port's name (https, "http-metrics").
portItem
    : protocol? (first=INT | firstParam=PARAM) ('-' (last=INT | lastParam=PARAM))?
    | protocol? (portName=IDENT | portNameString=STRING)
    ;
protocol : 'tcp' | 'udp' | 'sctp' ;

peerList : peer (',' peer)* ;
peer
    : 'anywhere'                                        # anywherePeer
    | 'instance'                                        # instancePeer
    | 'external'                                        # externalPeer
    | 'cidr' STRING ('except' '[' STRING (',' STRING)* ']')?  # cidrPeer
    | 'pods' labelMap namespaceScope?                   # podsPeer
    | PARAM                                             # paramPeer
    | IDENT                                             # componentPeer
    | 'kube_apiserver'                                  # kubeApiserverPeer
    | 'nodes'                                           # nodesPeer
    | product=IDENT '.' name=IDENT                      # qualifiedComponentPeer
    | product=IDENT '.' 'instance'                      # qualifiedInstancePeer
    ;
namespaceScope
    : 'in' 'any' 'namespace'                            # anyNamespace
    | 'in' 'namespace' value                            # namedNamespace
    | 'in' 'namespaces' labelMap                        # labelledNamespaces
    ;

labelMap : '{' (labelEntry (',' labelEntry)* ','?)? '}' ;
// "key": value, or (in the selectors of peers) a requirement:
// "key": in ["a", "b"], "key": not in [...], "key": exists, "key": not exists.
labelEntry
    : key=STRING ':' value
    | key=STRING ':' notIn='not'? 'in' '[' value (',' value)* ']'
    | key=STRING ':' notExists='not'? exists=IDENT
    ;

value : STRING | INT | PARAM | boolLit ;
boolLit : 'true' | 'false' ;

condition : andCondition ('or' andCondition)* ;
andCondition : notCondition ('and' notCondition)* ;
notCondition : negated='not'? atomCondition ;
atomCondition
    : boolLit                                           # constantCondition
    | IDENT                                             # flagCondition
    | '(' condition ')'                                 # parenCondition
    | product=IDENT '.' name=IDENT                      # qualifiedFlagCondition
    ;

// import "common.netpol";   (relative to the importing file)
// import "gateway.netpol" as gw;   (another product: its names are gw.NAME)
importDecl : 'import' STRING ('as' alias=IDENT)? ';' ;

// kube_apiserver = PEERS;   nodes = PEERS;   how targets without these
// identities (k8s, calico) select them.
entityDecl : (kubeApiserver='kube_apiserver' | nodes='nodes') '=' peerList ';' ;

// Entry point for a peer list given on the command line (--set NAME=PEERS).
peerListOnly : peerList EOF ;

IDENT : [a-zA-Z_] [a-zA-Z0-9_]* ;
PARAM : '$' [a-zA-Z_] [a-zA-Z0-9_]* ;
INT : [0-9]+ ;
STRING : '"' ( '\\' ~[\r\n] | ~["\\\r\n] )* '"' ;
// (A backslash just before the end of the line or file belongs to it.)
UNTERMINATED_STRING : '"' ( '\\' ~[\r\n] | ~["\\\r\n] )* '\\'? ;

LINE_COMMENT : '//' ~[\r\n]* -> channel(HIDDEN) ;
BLOCK_COMMENT : '/*' .*? '*/' -> channel(HIDDEN) ;
// A '/*' with no '*/' after it. (Written so that it cannot match past a '*/':
// the lexer takes the longest match, and '/*' .*? EOF would swallow every
// block comment up to the end of the file.)
UNTERMINATED_COMMENT : '/*' ( ~'*' | '*'+ ~[*/] )* '*'* EOF ;
WS : [ \t\r\n]+ -> channel(HIDDEN) ;
// Anything else becomes a token of its own, so the parser reports it with a
// position instead of the lexer printing to stderr.
UNEXPECTED_CHAR : . ;
