// What a value of a step becomes, checked for that before any action uses
// it: a template renders text, and an alert label is written by whoever can
// fire an alert, so "4294967296" must not reach a replica count, "a,b=c" a
// label selector, or "*" a Redis key pattern. Validation checks the literal
// values of a Runbook with these rules; the engine checks the rendered values
// of every step with checkRenderedAction before the step reads or changes
// anything.
//
// Also here: which kinds each action accepts as a target (never a Secret),
// where a value embedded in a PromQL query or a JSON body must be escaped,
// and where a runJob's pod template may take a templated value.
#pragma once

#include "api/field_path.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace remedy::api {

// ---- names ----

// metadata.name of most kinds: a DNS-1123 subdomain, at most 253 characters.
bool isObjectName(const std::string& s);
// A namespace name: a DNS-1123 label, at most 63 characters.
bool isNamespaceName(const std::string& s);
// A label key: an optional DNS subdomain prefix and "/", then a name of at
// most 63 characters (k8s.io/apimachinery validation.IsQualifiedName).
bool isLabelKey(const std::string& s);
// A label value: empty, or at most 63 characters of [A-Za-z0-9-_.],
// starting and ending with a letter or digit (validation.IsValidLabelValue).
bool isLabelValue(const std::string& s);

// ---- target kinds ----

// True for core/v1 Secret: no action ever reads or writes one through a
// target (Secrets are read only through an explicit secretKeyRef, in the
// Runbook's own namespace).
bool isSecretKind(const std::string& group, const std::string& kind);

// The kinds `action` accepts as `target`, as "group/Kind" ("" group for
// core); empty when the action takes any kind but a Secret (waitFor) or its
// kinds come from an operator allow-list (patch, apply).
const std::vector<std::pair<std::string, std::string>>& targetKinds(const std::string& action);

// Why `action` may not target a `kind` of `apiVersion`, or nullopt.
std::optional<std::string> targetKindRefusal(const std::string& action,
                                             const std::string& apiVersion,
                                             const std::string& kind);

// ---- values ----

// True when a Redis glob (SCAN MATCH, stringmatchlen) has no literal
// character, and so matches every key whatever its spelling: "*", "**",
// "?*", "[a-z]*", "[^x]*"... An escaped character ("\*") is literal.
bool redisPatternMatchesEverything(const std::string& pattern);

// Every problem with the rendered parameters of a step's `action` (its
// action field with every template rendered), naming the field under
// `path` and what it should be. `source` is the field as written, so a
// replica count's sign can be told from the template's own text.
std::vector<ValidationError> checkRenderedAction(const std::string& action,
                                                 const nlohmann::json& source,
                                                 const nlohmann::json& rendered,
                                                 const FieldPath& path);

// ---- where templates may go ----

enum class Embedding { kPromqlQuery, kJsonBody, kRedisGlob };

// Why each expression of `text` (a template embedded in PromQL, JSON or a
// Redis key pattern) is unsafe there: in PromQL and JSON it must sit inside
// a double-quoted string and end with `| promql` or `| json`; in a key
// pattern it must end with `| glob`. Literal expressions ({{ "x" }}) are
// exempt.
std::vector<std::string> embeddingErrors(const std::string& text, Embedding embedding);

// Templated values reach a runJob container only as environment values or
// as argv entries (command and args elements), never as the program itself
// or the script of a shell's -c: one error per misplaced template in
// `podTemplate` (the runJob's `template`).
std::vector<ValidationError> runJobTemplateErrors(const nlohmann::json& podTemplate,
                                                  const FieldPath& path);

}  // namespace remedy::api
