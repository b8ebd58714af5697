// The input's file name as every output may embed it: in a one-line comment
// of YAML (`#`), HTML and Markdown (`<!-- -->`), Graphviz (`//`) and Mermaid
// (`%%`), and in the IR's header. A file name is hostile input: a newline in
// it would start a new YAML document, `-->` would close an HTML comment.
#pragma once

#include <string>
#include <string_view>

namespace netpolc::backends {

// `name` with every character that could end or escape a one-line comment
// written as an escape, so that the result is one line of printable UTF-8:
//   - control characters (C0, DEL, C1), line and paragraph separators and
//     bidirectional formatting characters: \xNN or \uNNNN;
//   - bytes that are not UTF-8: \xNN;
//   - a backslash: \\ (so that escapes read back unambiguously);
//   - < > (HTML comment ends and tags), { } (Mermaid directives) and the
//     slash of */ and /* (C-style comment ends): \xNN.
// Names made of ordinary characters come out unchanged, and so does
// `<stdin>`, the name netpolc gives standard input.
std::string SourceNameForComment(std::string_view name);

}  // namespace netpolc::backends
