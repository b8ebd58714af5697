// The lints of `netpolc check`: what in a rules file breaks clusters or is
// dead weight, each found symbolically (over conditions, never by
// enumerating configurations) and reported at the rule with the
// configurations in which it holds. See docs/analysis.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/analysis/model.h"
#include "compiler/diagnostics.h"

namespace netpolc::analysis {

struct Finding {
  struct Note {
    SourceLoc loc;
    std::string message;
  };
  DiagnosticKind kind;
  SourceLoc loc;
  std::string message;
  // The configurations in which it holds, in the compact form ("internal_tls",
  // "not a and b", "always"); empty for findings about the text itself.
  std::string condition;
  std::vector<Note> notes;
};

// `model` has the flags as configured (those fixed by --set or --values are
// constants); `open` has every flag open. Both are of the same module and
// configuration. Returns the findings sorted by location.
std::vector<Finding> Check(Model& model, Model& open);

// Findings packed for memory (a report may hold hundreds of thousands):
// the texts of many in one block rather than strings of each.
class FindingList {
 public:
  void Add(const Finding& finding);
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  DiagnosticKind kind(size_t i) const { return entries_[i].kind; }
  Finding Get(size_t i) const;
  // Finding i without copies: its location and message, and fn(loc, message)
  // for each of its notes (views into the list).
  SourceLoc loc(size_t i) const { return entries_[i].loc; }
  std::string_view message(size_t i) const { return Message(entries_[i]); }
  template <typename Fn>
  void ForEachNote(size_t i, Fn fn) const {
    const Entry& e = entries_[i];
    std::string_view text = std::string_view(blocks_[e.block]).substr(e.offset);
    size_t at = size_t{e.message_size} + e.condition_size;
    for (uint32_t n = e.first_note; n < e.first_note + e.note_count; ++n) {
      fn(notes_[n].loc, text.substr(at, notes_[n].size));
      at += notes_[n].size;
    }
  }
  // Keeps the findings of the kinds for which keep(kind) is true.
  void Filter(const std::function<bool(DiagnosticKind)>& keep);
  // Sorted by location, then kind and message; stable.
  void Sort();
  // Adds `other`'s findings to these, both sorted, in that order (those
  // already here first among equals).
  void Merge(FindingList other);
  // The findings of sorted lists in one sorted list: as if they were
  // appended in order and sorted (those of earlier lists first among equals).
  static FindingList MergeSorted(std::vector<FindingList> runs);

 private:
  struct Entry {
    SourceLoc loc;
    DiagnosticKind kind;
    uint32_t block, offset;  // where its texts start: message, condition, notes
    uint32_t message_size, condition_size;
    uint32_t first_note, note_count;  // into notes_
    uint32_t seq = 0;                 // Sort's: the position before sorting
  };
  struct NoteEntry {
    SourceLoc loc;
    uint32_t size;
  };
  std::string_view Message(const Entry& e) const {
    return std::string_view(blocks_[e.block]).substr(e.offset, e.message_size);
  }
  // By location, then kind, then message: <0, 0 or >0.
  int Compare(const Entry& a, const Entry& b) const;

  std::vector<Entry> entries_;
  std::vector<NoteEntry> notes_;
  std::vector<std::string> blocks_;
};

// Check in two parts, for a caller that frees in between what the second
// does not need. The lints of unused declarations (flags, parameters,
// components) read only the module and the configuration, its rules' peers
// included; the others read the models, and of the module not the rules'
// peers (a Model reads those when it is built). Each returns its findings
// sorted; CheckModel(...) merged with CheckDeclarations(...) is Check.
FindingList CheckDeclarations(const ir::Module& module, const ir::Config& config);
//
// The lints of blocked connections run on parts of `components_per_part`
// components in parallel (ParallelFor), each with a fork of the model's BDD;
// the findings are the same whatever the size of the parts (tests compare
// sizes) and the number of threads.
inline constexpr size_t kComponentsPerPart = 256;
FindingList CheckModel(Model& model, Model& open, size_t components_per_part = kComponentsPerPart);
// CheckModel's findings as sorted lists, for a caller that frees the models
// before it merges them (FindingList::MergeSorted, in this order).
std::vector<FindingList> CheckModelRuns(Model& model, Model& open,
                                        size_t components_per_part = kComponentsPerPart);

}  // namespace netpolc::analysis
