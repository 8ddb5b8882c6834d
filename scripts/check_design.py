#!/usr/bin/python3
"""Checks that the source tree keeps the layering of DESIGN.md.

Each folder of src/ is one library; operator/ is the binary's. A file may
include headers of its own folder and of the folders its library may depend
on (ALLOWED below), and each such dependency must be stated in the folder's
CMakeLists.txt (target_link_libraries, directly or through a library it
links). cpprestsdk headers may appear only in src/kube's .cpp files, so the
slow-to-compile transport stays behind kube's own interfaces.

    check_design.py [ROOT]      exit 0 when the tree keeps the rules, 1 with
                                one line per breach (file:line: what and why)
"""
import os
import re
import sys

# Which folders each folder's code may include, besides its own. The
# direction is the design's: api and kube know only formats; actions act
# through kube on api's types; the engine drives actions; nothing but the
# operator and the CLI knows the engine.
ALLOWED = {
    "formats": set(),
    "http": set(),
    "api": {"formats"},
    "kube": {"formats"},
    # The sandbox is an API server of its own: it shares formats and the
    # HTTP server, never the client it is tested with.
    "sandbox": {"formats", "http"},
    "actions": {"formats", "api", "kube"},
    # The admission webhooks seal Approvals; they read Incidents with kube.
    "admission": {"formats", "http", "kube"},
    # The engine verifies the admission webhooks' seals.
    "engine": {"formats", "api", "kube", "actions", "admission"},
    "intake": {"formats", "api", "kube", "http"},
    "cli": {"formats", "api", "kube", "engine", "sandbox", "actions", "admission", "http"},
    "operator": {"formats", "api", "kube", "engine", "actions", "admission", "intake", "http"},
}

# The CMake target of each folder.
TARGET = {name: "remedy_" + name for name in ALLOWED}
TARGET["cli"] = "remedyctl"
TARGET["operator"] = "remedy_operator_lib"

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
CPPREST = re.compile(r"^(cpprest|pplx)/")
SOURCE_SUFFIXES = (".h", ".hpp", ".cpp", ".cc")


def folder_files(root):
    """(folder, path) for every C++ file of src/*/ and operator/."""
    for folder in sorted(ALLOWED):
        base = os.path.join(root, "operator" if folder == "operator" else os.path.join("src", folder))
        if not os.path.isdir(base):
            continue
        for directory, _, names in os.walk(base):
            for name in sorted(names):
                if name.endswith(SOURCE_SUFFIXES):
                    yield folder, os.path.join(directory, name)


def declared_links(root):
    """folder -> the remedy_* targets its CMakeLists.txt links (any scope),
    and the targets each CMakeLists.txt defines, so links can be followed."""
    defines, links = {}, {}
    for folder in ALLOWED:
        path = os.path.join(root, "operator" if folder == "operator" else os.path.join("src", folder),
                            "CMakeLists.txt")
        if not os.path.exists(path):
            continue
        text = open(path, encoding="utf-8").read()
        text = re.sub(r"#[^\n]*", "", text)
        for target in re.findall(r"add_(?:library|executable)\(\s*([A-Za-z0-9_-]+)", text):
            defines[target] = folder
        for target, body in re.findall(r"target_link_libraries\(\s*([A-Za-z0-9_-]+)([^)]*)\)", text):
            links.setdefault(target, set()).update(re.findall(r"\b(remedy_[a-z_]+|remedyctl)\b", body))
    return defines, links


def reachable_folders(folder, defines, links):
    """The folders whose targets the folder's own targets link, transitively."""
    seen, todo, folders = set(), [t for t, f in defines.items() if f == folder], set()
    while todo:
        target = todo.pop()
        if target in seen:
            continue
        seen.add(target)
        if target in defines:
            folders.add(defines[target])
        todo.extend(links.get(target, ()))
    folders.discard(folder)
    return folders


def check(root):
    breaches = []
    defines, links = declared_links(root)
    for folder, path in folder_files(root):
        relative = os.path.relpath(path, root)
        linked = reachable_folders(folder, defines, links)
        with open(path, encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                header = m.group(2)
                if CPPREST.match(header):
                    if folder != "kube" or not relative.endswith(".cpp"):
                        breaches.append(f"{relative}:{number}: includes <{header}>: cpprestsdk headers "
                                        "belong in src/kube's .cpp files only, behind kube's interfaces")
                    continue
                if m.group(1) != '"' or "/" not in header:
                    continue
                dependency = header.split("/", 1)[0]
                if dependency not in ALLOWED or dependency == folder:
                    continue
                if dependency not in ALLOWED[folder]:
                    allowed = ", ".join(sorted(ALLOWED[folder])) or "nothing"
                    breaches.append(f'{relative}:{number}: includes "{header}": {folder} may depend on '
                                    f"{allowed}, not on {dependency}")
                elif dependency not in linked:
                    breaches.append(f'{relative}:{number}: includes "{header}", but the CMakeLists.txt '
                                    f"of {folder} does not link {TARGET[dependency]}")
    return breaches


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    breaches = check(os.path.abspath(root))
    for breach in breaches:
        print(breach)
    if breaches:
        print(f"check_design: {len(breaches)} breach(es) of the layering in DESIGN.md", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
