"""The CI variant of the lecture-hall load test: 50 students for 60 s against 2 workers."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.lecture_hall import run  # noqa: E402


def test_fifty_students_for_a_minute():
    r = run(users=50, seconds=60, workers=2)
    assert r["requests"] > 300  # they really worked
    assert r["failure_ratio"] < 0.01, r
    assert r["p95_ms"] < 300, r
