"""The README's pictures exist, stay small, and are ones the browser test regenerates."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_BYTES = 200_000


def test_readme_images_exist_small_and_regenerated() -> None:
    readme = (ROOT / "README.md").read_text()
    used = re.findall(r"(?:\]\(|src=\")(docs/img/[^)\"]+\.png)", readme)
    assert len(used) >= 2, "the README shows the sandbox at a phone's and a desktop's width"
    browser_test = (ROOT / "tests" / "test_sandbox_browser.py").read_text()
    for path in used:
        image = ROOT / path
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
        assert image.stat().st_size < MAX_BYTES, f"{path} is {image.stat().st_size:,} bytes"
        # AIRLOCK_README_SCREENSHOTS=1 rewrites it: the layout test names it by width.
        width = re.fullmatch(r"docs/img/sandbox-layout-(\d+)\.png", path)
        assert width is not None and f"({width.group(1)}, " in browser_test, path
    unused = {p.name for p in (ROOT / "docs" / "img").glob("*.png")} - {Path(p).name for p in used}
    assert not unused, f"pictures the README does not show: {sorted(unused)}"
