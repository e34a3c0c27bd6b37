"""app/core is pure: numpy and the standard library only, so it is testable without HTTP or plotting."""
import ast
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "app" / "core"
ALLOWED = set(sys.stdlib_module_names) | {"numpy", "app"}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
            if node.module.split(".")[0] == "app" and not node.module.startswith("app.core"):
                names.add(node.module)  # app.core may import only app.core
    return names


def test_core_imports_only_numpy_and_stdlib():
    files = sorted(CORE.rglob("*.py"))
    assert len(files) >= 8
    bad = {str(f.relative_to(CORE)): sorted(imported_modules(f) - ALLOWED) for f in files}
    assert {f: m for f, m in bad.items() if m} == {}


def test_the_check_catches_a_web_import(tmp_path):
    f = tmp_path / "x.py"
    f.write_text("import fastapi\nfrom app.api import router\nimport numpy as np\n")
    assert imported_modules(f) - ALLOWED == {"fastapi", "app.api"}
