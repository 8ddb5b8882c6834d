// Offline validation of manifest files for `remedyctl validate FILE...`:
// every document of a YAML (or JSON) stream that is a remedy.dev object is
// checked against its CRD schema and, for Runbooks, the semantic rules, and
// each error is reported with the line of the offending field. Documents of
// other API groups (a Namespace, a Secret) are skipped; `kind: List` items
// are checked one by one.
#pragma once

#include <string>
#include <vector>

namespace remedy::api {

struct FileError {
  std::string file;
  int line = 0;  // 1-based; 0 when the error concerns the whole file
  std::string path;
  std::string message;
  // A warning (valid, but probably not meant) rather than an error.
  bool warning = false;

  // "file:line: path: message" ("file:line: warning: path: message"), as
  // compilers print them.
  std::string str() const;
};

// Validates YAML text; `file` is only used in the errors. Warnings come
// with the errors, marked as such.
std::vector<FileError> validateManifestText(const std::string& text, const std::string& file);

// Reads and validates a file; an unreadable file is one error.
std::vector<FileError> validateManifestFile(const std::string& file);

}  // namespace remedy::api
