"""pyproject.toml declares every package that course_lib imports, as a range; constraints.txt pins each exactly."""

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement):
    return _normalize(re.match(r"[A-Za-z0-9_.-]+", requirement).group(0))


def _imported_top_level_modules():
    modules = set()
    for path in (ROOT / "course_lib").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"course_lib", "__future__"}


def test_every_imported_package_is_declared():
    declared = {_requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    declared |= {_requirement_name(r) for r in PYPROJECT["project"]["optional-dependencies"]["postgres"]}
    distributions = packages_distributions()
    missing = {}
    for module in sorted(_imported_top_level_modules()):
        names = {_normalize(d) for d in distributions.get(module, [module])}
        if not names & declared:
            missing[module] = sorted(names)
    assert not missing, f"course_lib imports these without declaring them in pyproject.toml: {missing}"


def test_dependencies_are_ranges_and_constraints_pin_them():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[_normalize(name)] = version
    for requirement in PYPROJECT["project"]["dependencies"]:
        name = _requirement_name(requirement)
        assert "==" not in requirement, f"{requirement}: pin exact versions in constraints.txt, not in pyproject.toml"
        assert name in pins, f"{name} is not pinned in constraints.txt"


def test_the_build_backend_can_read_the_licence_expression():
    # license = "MIT" (a PEP 639 expression) needs setuptools 77 or newer
    requires = PYPROJECT["build-system"]["requires"]
    floor = next(int(re.search(r">=(\d+)", r).group(1)) for r in requires if r.startswith("setuptools"))
    assert floor >= 77
