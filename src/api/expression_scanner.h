// A character scanner shared by the template and `when` parsers: both read
// references (alert.labels.x, steps.kill-queries.outputs["a.b"]), string
// literals ("x" or 'x' with \" \' \\ \n \t escapes) and numbers.
#pragma once

#include "api/reference.h"
#include "api/result.h"

#include <optional>
#include <string>
#include <string_view>

namespace remedy::api {

class ExpressionScanner {
 public:
  ExpressionScanner(std::string_view text, size_t start) : text_(text), pos_(start) {}

  size_t pos() const { return pos_; }
  void setPos(size_t pos) { pos_ = pos; }
  bool atEnd() const { return pos_ >= text_.size(); }
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void skipSpace();
  // Consumes `token` if the text continues with it.
  bool consume(std::string_view token);
  // Consumes a keyword (`and`, `in`, ...) only when not followed by a name character.
  bool consumeKeyword(std::string_view word);
  bool startsReference() const;
  bool startsString() const { return peek() == '"' || peek() == '\''; }
  bool startsNumber() const;

  Result<Reference> readReference();
  Result<std::string> readString();
  // The text of a number or duration literal ("5", "-0.5", "1h30m"); the caller
  // decides which it must be.
  Result<std::string> readNumberText();
  // The text of an identifier (a filter name, a keyword).
  std::string readIdentifier();

 private:
  std::string_view text_;
  size_t pos_;
};

bool isIdentifierStart(char c);
bool isSegmentChar(char c);

}  // namespace remedy::api
