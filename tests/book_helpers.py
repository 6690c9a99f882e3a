"""Load a chapter's teaching code for the tests, without running its experiments."""

import ast

import jupytext


def chapter_namespace(chapter_path, classes=False):
    """Run the chapter's import cell and every function definition of the page; return their namespace.

    Only the ``def`` statements of the other cells are run (picked with ``ast``), not the experiments; with
    ``classes=True``, the ``class`` statements too.
    """
    cells = [c for c in jupytext.read(chapter_path).cells if c.cell_type == "code"]
    namespace = {}
    exec(cells[0].source, namespace)
    for cell in cells[1:]:
        kinds = (ast.FunctionDef, ast.ClassDef) if classes else (ast.FunctionDef,)
        definitions = [node for node in ast.parse(cell.source).body if isinstance(node, kinds)]
        exec(compile(ast.Module(body=definitions, type_ignores=[]), str(chapter_path), "exec"), namespace)
    return namespace
