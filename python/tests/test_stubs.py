# SPDX-License-Identifier: Apache-2.0
"""The type stubs (merutable/__init__.pyi) match the module, and every
public object of the module has a docstring."""
import ast
import inspect
import os
import unittest

import merutable

STUBS = os.path.join(os.path.dirname(merutable.__file__), "__init__.pyi")
PUBLIC_TYPES = ("DB", "Snapshot", "Batch", "ScanIterator", "ChangesIterator")


def stub_tree():
    with open(STUBS) as f:
        return ast.parse(f.read())


def public(names):
    return {n for n in names if not n.startswith("_")} | (
        {"__enter__", "__exit__", "__len__", "__iter__", "__next__"} &
        set(names))


class StubsTest(unittest.TestCase):
    def test_module_level_names_match(self):
        tree = stub_tree()
        stubbed = set()
        for node in tree.body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                stubbed.add(node.name)
            elif isinstance(node, ast.AnnAssign):
                stubbed.add(node.target.id)
        aliases = {"Value", "Row", "Key"}  # typing helpers of the stubs
        module = {n for n in dir(merutable) if not n.startswith("_")}
        self.assertEqual(stubbed - aliases - {"__version__"},
                         module)
        for node in tree.body:
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    self.assertIn(t.id, aliases)

    def test_class_members_match(self):
        for node in stub_tree().body:
            if not isinstance(node, ast.ClassDef):
                continue
            cls = getattr(merutable, node.name)
            stubbed = {n.name for n in node.body
                       if isinstance(n, ast.FunctionDef)}
            stubbed |= {n.target.id for n in node.body
                        if isinstance(n, ast.AnnAssign)}
            if issubclass(cls, BaseException):
                self.assertLessEqual(stubbed, {"code"}, node.name)
                continue
            own = public(vars(cls))
            if node.name in ("ScanIterator", "ChangesIterator"):
                own |= {"__iter__", "__next__"}
            self.assertEqual(stubbed, own, node.name)

    def test_open_signature_matches(self):
        fn = next(n for n in stub_tree().body
                  if isinstance(n, ast.FunctionDef) and n.name == "open")
        stub_args = [a.arg for a in fn.args.args]
        stub_kw = [a.arg for a in fn.args.kwonlyargs]
        doc = merutable.open.__doc__
        sig = doc.split("->")[0]
        for name in stub_args + stub_kw:
            self.assertIn(name, sig)
        self.assertEqual(stub_args, ["path", "schema", "primary_key"])

    def test_everything_has_a_docstring(self):
        self.assertTrue(merutable.__doc__)
        self.assertTrue(merutable.open.__doc__)
        for tname in PUBLIC_TYPES:
            t = getattr(merutable, tname)
            self.assertTrue(t.__doc__, tname)
            for name, member in vars(t).items():
                if name.startswith("_") and name not in ("__enter__",
                                                         "__exit__"):
                    continue
                if inspect.ismethoddescriptor(member) or \
                        inspect.isdatadescriptor(member):
                    self.assertTrue(member.__doc__, tname + "." + name)


if __name__ == "__main__":
    unittest.main()
