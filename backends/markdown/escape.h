// Escaping of text from the rules file (names, notes, link addresses) so that
// it cannot change the structure of the page it is written into.
#pragma once

#include <string>
#include <string_view>

namespace netpolc::backends::markdown {

// The text on one line: every run of line breaks (\n, \r) becomes one space,
// so a name or a note cannot open a new block (a setext heading underline, a
// list item, a heading) on a line of its own.
std::string OneLine(std::string_view text);

// The text of a link, `[` and `]` escaped so the link cannot be closed early;
// on one line.
std::string LinkText(std::string_view text);

// A link destination that stays one destination: bytes that would end it or
// be read as Markdown (space, control characters, `(`, `)`, `<`, `>`, `|`,
// `\`, backtick) are percent-encoded (an address means the same encoded).
std::string LinkDestination(std::string_view address);

}  // namespace netpolc::backends::markdown
