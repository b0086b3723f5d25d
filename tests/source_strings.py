"""The string constants of a module's source that a user may read: for the tests that hold shown
text to a rule (no CLI command in core, no CLI flag in a screen)."""

from __future__ import annotations

import ast


def shown_strings(tree: ast.AST) -> list[ast.Constant]:
    """The string constants that are not docstrings (f-string parts included)."""
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docs.add(id(first.value))
    return [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and id(n) not in docs]
