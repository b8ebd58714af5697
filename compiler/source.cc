#include "compiler/source.h"

#include <cstring>

namespace netpolc {

SourceFile::SourceFile(std::string path_in, std::string text_in) : path(std::move(path_in)) {
  SetText(std::move(text_in));
}

void SourceFile::SetText(std::string text_in) {
  text = std::move(text_in);
  line_starts.assign(1, 0);
  if (text.find('\r') == std::string::npos) {
    // Lines end at LF only: found with memchr.
    const char* base = text.data();
    const char* end = base + text.size();
    for (const char* at = base; at < end;) {
      const void* lf = std::memchr(at, '\n', static_cast<size_t>(end - at));
      if (lf == nullptr) break;
      at = static_cast<const char*>(lf) + 1;
      line_starts.push_back(static_cast<uint32_t>(at - base));
    }
    return;
  }
  for (uint32_t i = 0; i < text.size(); ++i) {
    if (IsLineEnd(text, i)) line_starts.push_back(i + 1);
  }
}

std::string LoneCrToLf(std::string text) {
  for (size_t i = text.find('\r'); i != std::string::npos; i = text.find('\r', i + 1)) {
    if (i + 1 == text.size() || text[i + 1] != '\n') text[i] = '\n';
  }
  return text;
}

void SourceFile::ReadIfUnread() const {
  if (unread_ == nullptr) return;
  std::call_once(unread_->once, [this] {
    // Read once, before any line is shown, under the once flag: the text is
    // set here and never changes after.
    auto* self = const_cast<SourceFile*>(this);
    std::optional<std::string> read;
    if (unread_->read) read = unread_->read();
    if (read) {
      self->SetText(std::move(*read));
    } else {
      unread_->failed = true;
    }
  });
}

bool SourceFile::unreadable() const { return unread_ != nullptr && unread_->failed; }

std::string_view SourceFile::Line(uint32_t line) const {
  ReadIfUnread();
  if (line == 0 || line > line_starts.size()) return {};
  uint32_t begin = line_starts[line - 1];
  uint32_t end = line < line_starts.size() ? line_starts[line] - 1
                                           : static_cast<uint32_t>(text.size());
  std::string_view view(text.data() + begin, end - begin);
  if (!view.empty() && view.back() == '\r') view.remove_suffix(1);
  return view;
}

uint32_t SourceManager::Add(std::string path, std::string text) {
  files_.emplace_back(std::move(path), std::move(text));
  return static_cast<uint32_t>(files_.size() - 1);
}

uint32_t SourceManager::AddUnread(std::string path) {
  uint32_t id = Add(std::move(path), std::string());
  files_.back().unread_ = std::make_unique<SourceFile::Unread>();
  return id;
}

void SourceManager::SetReader(uint32_t id, TextReader read) {
  SourceFile& file = files_.at(id);
  if (file.unread_ != nullptr) file.unread_->read = std::move(read);
}

void SourceManager::SetText(uint32_t id, std::string text) {
  SourceFile& file = files_.at(id);
  file.unread_.reset();
  file.SetText(std::move(text));
}

}  // namespace netpolc
