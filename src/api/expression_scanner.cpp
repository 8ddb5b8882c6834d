#include "api/expression_scanner.h"

namespace remedy::api {

bool isIdentifierStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool isSegmentChar(char c) { return isIdentifierStart(c) || (c >= '0' && c <= '9') || c == '-'; }

void ExpressionScanner::skipSpace() {
  while (!atEnd() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) {
    ++pos_;
  }
}

bool ExpressionScanner::consume(std::string_view token) {
  if (text_.substr(pos_, token.size()) != token) return false;
  pos_ += token.size();
  return true;
}

bool ExpressionScanner::consumeKeyword(std::string_view word) {
  if (text_.substr(pos_, word.size()) != word) return false;
  char next = pos_ + word.size() < text_.size() ? text_[pos_ + word.size()] : '\0';
  if (isSegmentChar(next)) return false;
  pos_ += word.size();
  return true;
}

bool ExpressionScanner::startsReference() const { return isIdentifierStart(peek()); }

bool ExpressionScanner::startsNumber() const {
  char c = peek();
  if (c >= '0' && c <= '9') return true;
  char d = peek(1);
  return c == '-' && d >= '0' && d <= '9';
}

std::string ExpressionScanner::readIdentifier() {
  size_t start = pos_;
  while (!atEnd() && (isIdentifierStart(peek()) || (peek() >= '0' && peek() <= '9'))) ++pos_;
  return std::string(text_.substr(start, pos_ - start));
}

Result<Reference> ExpressionScanner::readReference() {
  Reference ref;
  if (!startsReference()) return Error{"expected a name at column " + std::to_string(pos_ + 1)};
  ref.path.push_back(readIdentifier());
  while (true) {
    if (peek() == '.') {
      ++pos_;
      size_t start = pos_;
      while (!atEnd() && isSegmentChar(peek())) ++pos_;
      if (pos_ == start) {
        return Error{"expected a name after \".\" at column " + std::to_string(start + 1)};
      }
      ref.path.emplace_back(text_.substr(start, pos_ - start));
    } else if (peek() == '[') {
      ++pos_;
      if (!startsString()) {
        return Error{"expected a quoted key after \"[\" at column " + std::to_string(pos_ + 1)};
      }
      Result<std::string> key = readString();
      if (!key.ok()) return Error{key.error()};
      if (peek() != ']') return Error{"expected \"]\" at column " + std::to_string(pos_ + 1)};
      ++pos_;
      ref.path.push_back(key.value());
    } else {
      return ref;
    }
  }
}

Result<std::string> ExpressionScanner::readString() {
  char quote = peek();
  size_t start = pos_;
  ++pos_;
  std::string out;
  while (!atEnd()) {
    char c = peek();
    ++pos_;
    if (c == quote) return out;
    if (c != '\\') {
      out += c;
      continue;
    }
    if (atEnd()) break;
    char e = peek();
    ++pos_;
    switch (e) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case '\\':
        out += '\\';
        break;
      case '"':
        out += '"';
        break;
      case '\'':
        out += '\'';
        break;
      default:
        return Error{"unknown escape \"\\" + std::string(1, e) + "\" at column " +
                     std::to_string(pos_ - 1)};
    }
  }
  return Error{"the string starting at column " + std::to_string(start + 1) + " is not closed"};
}

Result<std::string> ExpressionScanner::readNumberText() {
  size_t start = pos_;
  if (peek() == '-') ++pos_;
  // Digits, a fraction and unit letters: "5", "0.5", "5m", "1h30m", "250ms".
  while (!atEnd() &&
         ((peek() >= '0' && peek() <= '9') || peek() == '.' || (peek() >= 'a' && peek() <= 'z'))) {
    ++pos_;
  }
  return std::string(text_.substr(start, pos_ - start));
}

}  // namespace remedy::api
