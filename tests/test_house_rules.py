"""The house's measurable rules, checked on the source: no module over 900 lines,
no function over 100, and imports one way (reviews -> notifications -> incidents
-> incidentops). Each failure names the offenders.

Excepted from the sizes: migrations (generated), the demo data and the seeds that
load it (``incidents/demo/``, ``*/seed.py``, ``*/seed_templates.py``: long lists of
example content by nature). Excepted from the import direction: the root URL map
(``incidentops/urls.py``), where the project puts every app's routes together, as
``INSTALLED_APPS`` names every app.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Lowest layer first: an app may import only from its own layer and those below.
LAYERS = ("incidentops", "incidents", "notifications", "reviews")
MAX_MODULE_LINES = 900
MAX_FUNCTION_LINES = 100
COMPOSITION_ROOTS = {"incidentops/urls.py"}


def is_seed(relative: str) -> bool:
    name = relative.rsplit("/", 1)[-1]
    return (
        name in ("seed.py", "seed_templates.py")
        or relative.startswith("incidents/demo/")
        or "/seed/" in relative
    )


def modules():
    """(path relative to the repository, parsed tree, line count) of every
    Python module of the four apps, migrations left out."""
    for app in LAYERS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative:
                continue
            text = path.read_text(encoding="utf-8")
            yield relative, ast.parse(text, filename=relative), len(text.splitlines())


def test_no_module_is_over_900_lines():
    offenders = [
        f"{relative}: {lines} lines"
        for relative, _tree, lines in modules()
        if lines > MAX_MODULE_LINES and not is_seed(relative)
    ]
    assert not offenders, "split these modules by concern:\n" + "\n".join(offenders)


def test_no_function_is_over_100_lines():
    offenders = []
    for relative, tree, _lines in modules():
        if is_seed(relative):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    offenders.append(f"{relative}:{node.lineno} {node.name}: {length}")
    assert not offenders, "extract well-named helpers from:\n" + "\n".join(offenders)


def imported_modules(tree: ast.AST):
    """(line, dotted name) of every absolute import, also inside functions."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def test_imports_run_one_way():
    offenders = []
    for relative, tree, _lines in modules():
        if relative in COMPOSITION_ROOTS:
            continue
        layer = LAYERS.index(relative.split("/", 1)[0])
        for line, name in imported_modules(tree):
            top = name.split(".", 1)[0]
            if top in LAYERS and LAYERS.index(top) > layer:
                offenders.append(f"{relative}:{line} imports {name}")
    assert not offenders, "imports run reviews -> notifications -> incidents:\n" + (
        "\n".join(offenders)
    )


def test_the_measures_see_what_they_measure():
    # The rules above would pass on an empty tree: make sure they read the code.
    found = {relative for relative, _tree, _lines in modules()}
    assert {"incidents/models/incident.py", "reviews/seed.py"} <= found
    assert "incidents/migrations/0001_initial.py" not in found
    reviews_imports = {
        name
        for relative, tree, _lines in modules()
        if relative.startswith("reviews/")
        for _line, name in imported_modules(tree)
    }
    assert "incidents.models" in reviews_imports
