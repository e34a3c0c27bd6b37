"""The repository documents itself: every file its documents name is in the repository."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PATH = re.compile(r"^(?:\.ci|app|bench|docs|scripts|static|templates|tests)/[\w./*<>-]*$|^[\w-]+\.(?:md|toml|txt|json)$|^Makefile$|^Procfile$")


def named_files(doc: Path) -> list[str]:
    """Markdown link targets (not URLs) and `code` spans that are paths in the repository."""
    text = doc.read_text()
    links = [t for t in re.findall(r"\]\(([^)#\s]+)", text) if not re.match(r"\w+:", t)]
    spans = [t for t in re.findall(r"`([^`\s]+)`", text) if PATH.match(t)]
    return [str((doc.parent / t).resolve().relative_to(ROOT)) for t in links] + spans


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_every_file_a_document_names_exists(doc):
    names = named_files(doc)
    assert names, f"{doc.name} names no file: the check would pass vacuously"
    missing = [n for n in names if not any(ROOT.glob(re.sub(r"<[^>]*>", "*", n).rstrip("/") or "."))]
    assert missing == [], f"{doc.name} names files that are not in the repository: {missing}"


def test_the_architecture_document_lists_every_route_module_and_view():
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    for name in ("app/views.py", "app/routes/<view>.py", "templates/<view>.html", "tests/web/test_xss.py"):
        assert name in text
