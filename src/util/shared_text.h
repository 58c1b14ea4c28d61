// Text that many owners hold alike, kept once: the working directory that
// every job of a manifest usually shares. Immutable, so sharing is safe.
#pragma once

#include <memory>
#include <string>
#include <utility>

namespace wp {

class SharedText {
 public:
  SharedText() = default;
  // Implicit: it stands for the text.
  SharedText(std::string text) : text_(std::make_shared<const std::string>(std::move(text))) {}
  SharedText(const char* text) : SharedText(std::string(text)) {}

  const std::string& str() const { return text_ ? *text_ : empty(); }
  operator const std::string&() const { return str(); }

 private:
  static const std::string& empty() {
    static const std::string none;
    return none;
  }
  std::shared_ptr<const std::string> text_;
};

}  // namespace wp
