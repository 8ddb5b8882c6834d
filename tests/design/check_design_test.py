#!/usr/bin/python3
"""scripts/check_design.py on the repository, and on small trees that break
each of its rules (so a checker that passes everything fails here)."""
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHECKER = os.path.join(ROOT, "scripts", "check_design.py")


def run(root):
    return subprocess.run(["/usr/bin/python3", CHECKER, root], capture_output=True, text=True, timeout=120)


class Tree:
    """A minimal source tree: folder -> {file: text}, and each folder's
    target_link_libraries."""

    def __init__(self, directory):
        self.root = directory

    def library(self, folder, links=(), files=None):
        base = os.path.join(self.root, "src", folder)
        os.makedirs(base, exist_ok=True)
        with open(os.path.join(base, "CMakeLists.txt"), "w") as f:
            f.write(f"add_library(remedy_{folder} a.cpp)\n")
            if links:
                f.write(f"target_link_libraries(remedy_{folder} PUBLIC {' '.join(links)})\n")
        for name, text in (files or {"a.cpp": ""}).items():
            with open(os.path.join(base, name), "w") as f:
                f.write(text)


class CheckDesignTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.tree = Tree(self.dir.name)
        self.tree.library("formats")

    def tearDown(self):
        self.dir.cleanup()

    def test_the_repository_keeps_the_layering(self):
        result = run(ROOT)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_a_tree_that_keeps_the_rules_passes(self):
        self.tree.library("api", ["remedy_formats"], {"a.cpp": '#include "formats/yaml_json.h"\n'})
        self.tree.library("kube", ["remedy_formats"], {"a.cpp": "#include <cpprest/http_client.h>\n"})
        self.tree.library("actions", ["remedy_kube", "remedy_api"],
                          {"a.cpp": '#include "kube/client.h"\n#include "formats/base64.h"\n'})
        result = run(self.dir.name)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_a_dependency_against_the_design_is_named_with_its_line(self):
        self.tree.library("engine")
        self.tree.library("api", ["remedy_formats", "remedy_engine"],
                          {"a.cpp": "#include <string>\n\n#include \"engine/engine.h\"\n"})
        result = run(self.dir.name)
        self.assertEqual(result.returncode, 1)
        self.assertIn('src/api/a.cpp:3: includes "engine/engine.h": api may depend on formats, not on engine',
                      result.stdout)

    def test_an_include_the_cmake_target_does_not_link_is_refused(self):
        self.tree.library("api", ["remedy_formats"])
        self.tree.library("kube", ["remedy_formats"])
        self.tree.library("actions", ["remedy_api"], {"a.cpp": '#include "kube/client.h"\n'})
        result = run(self.dir.name)
        self.assertEqual(result.returncode, 1)
        self.assertIn('src/actions/a.cpp:1: includes "kube/client.h", but the CMakeLists.txt of actions '
                      "does not link remedy_kube", result.stdout)

    def test_a_link_through_another_library_counts(self):
        self.tree.library("api", ["remedy_formats"])
        self.tree.library("kube", ["remedy_formats"])
        self.tree.library("actions", ["remedy_kube", "remedy_api"])
        self.tree.library("engine", ["remedy_actions"], {"a.cpp": '#include "kube/client.h"\n'})
        result = run(self.dir.name)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_cpprest_headers_stay_in_kube_sources(self):
        self.tree.library("kube", ["remedy_formats"],
                          {"a.cpp": "", "client.h": "#pragma once\n#include <cpprest/http_client.h>\n"})
        self.tree.library("intake", [], {"a.cpp": "#include <pplx/pplxtasks.h>\n"})
        result = run(self.dir.name)
        self.assertEqual(result.returncode, 1)
        self.assertIn("src/kube/client.h:2: includes <cpprest/http_client.h>", result.stdout)
        self.assertIn("src/intake/a.cpp:1: includes <pplx/pplxtasks.h>", result.stdout)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[1:])
