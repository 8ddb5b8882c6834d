#!/usr/bin/env python3
"""Checks that `remedyctl validate` printed the API server's own schema
messages for a manifest the server refused.

usage: schema_messages.py SERVER_OUTPUT_FILE REMEDYCTL_OUTPUT_FILE

SERVER_OUTPUT_FILE holds what `kubectl apply` printed: a 422 ("The Runbook
"x" is invalid: field: message", or one "* field: message" line per cause)
or a strict decoding error ("unknown field \"spec.x\""). Every cause must
appear in remedyctl's output as "field: message", character for character.
Two exceptions, where remedyctl's semantic checks explain the same value
better and print that instead (never another schema message):
- a failed oneOf: kube-openapi reports it as `<nil>: Invalid value: "":
  "spec.steps[0]" must validate one and only one schema (oneOf). ...` plus
  the errors of one alternative below that value; remedyctl may print its
  own explanation at that value ("spec.steps[0]: has no action; ...");
- any other cause at a field where remedyctl prints its own explanation
  ("spec.steps[0].timeout: \"5 min\" is not a duration such as ..."), or for
  a duplicate item of a list-type map at its key ("spec.steps[2].name:
  duplicate step name ...").
Prints one line per cause and exits 1 if any is missing.
"""
import re
import sys


def causes(server: str) -> list:
    unknown = re.findall(r'unknown field "([^"]+)"', server)
    if unknown:
        return [f'{f}: unknown field "{f}"' for f in unknown]
    listed = [line[2:].strip() for line in server.splitlines() if line.startswith("* ")]
    if listed:
        return listed
    m = re.search(r" is invalid: (.*)$", server, re.M)
    return [m.group(1).strip()] if m and m.group(1).strip() else []


def main() -> int:
    server = open(sys.argv[1], encoding="utf-8").read()
    ours = open(sys.argv[2], encoding="utf-8").read()
    found = causes(server)
    if not found:
        print(f"no causes in the server's answer: {server!r}")
        return 1
    # Values whose oneOf failed, and which remedyctl explains itself.
    explained = []
    for cause in found:
        m = re.match(r'<nil>: Invalid value: "": "([^"]+)" must validate one and only one', cause)
        if m and f" {m.group(1)}: " in ours:
            explained.append(m.group(1))
    # Fields remedyctl explains with a message of its own (not a schema one).
    schema_prefixes = ("Invalid value", "Required value", "Unsupported value", "Too long",
                       "Too many", "Duplicate value", "Forbidden", "unknown field")
    own_fields = set()
    for line in ours.splitlines():
        # file:line: path: message
        parts = line.split(": ", 2)
        if len(parts) == 3 and not parts[2].startswith(schema_prefixes):
            own_fields.add(parts[1])
    missing = 0
    for cause in found:
        field = cause.split(": ", 1)[0]
        own = re.match(r'<nil>: Invalid value: "": "([^"]+)" must validate one and only one', cause)
        if f" {cause}" in ours:
            print(f"ok: {cause}")
        elif (own and own.group(1) in explained) or any(
            field.startswith(p + ".") for p in explained
        ):
            print(f"explained by remedyctl at its oneOf: {cause}")
        elif field in own_fields or (
            "Duplicate value: " in cause and any(f.startswith(field + ".") for f in own_fields)
        ):
            print(f"explained by remedyctl at that field: {cause}")
        else:
            print(f"MISSING from remedyctl validate: {cause}")
            missing += 1
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
