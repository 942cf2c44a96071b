"""README's two set-up commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_exactly_the_readme_commands():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)\n```", readme, flags=re.S)
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert len(blocks) >= 2
    assert blocks[0].strip() in ci
    assert blocks[1].strip() in ci
    assert blocks[1].strip().endswith("pytest")
