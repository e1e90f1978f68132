"""Reports in a real headless chromium: they load without a console error, exception or missing file,
and their screenshots (desktop, phone width) and printed PDF are kept under ``artifacts/reports/``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from report_browser import Browser, chromium
from report_helpers import shared_numeric_root
from wndchrm_helpers import run_through_kind

from services.kinds import JobContext
from services.kinds.wndchrm import WNDCHRM

ARTIFACTS = Path(os.environ.get("REPORT_ARTIFACTS", Path(__file__).parents[2] / "artifacts" / "reports"))

pytestmark = pytest.mark.skipif(chromium() is None, reason="chromium is not installed (scripts/setup.sh installs it)")


@pytest.fixture(scope="module")
def reports(examples_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The bundled textures (two splits) and a 10-class dataset with numeric labels (``-p#``)."""
    run_through_kind(WNDCHRM, JobContext(examples_root), ["wndchrm", "test", "-n2", "-i6", "-j4", "ex/textures",
                                                          "browser/textures.html"])
    numeric = shared_numeric_root(tmp_path_factory.getbasetemp())
    run_through_kind(WNDCHRM, JobContext(numeric), ["wndchrm", "test", "-r0.5", "-p#", "numeric",
                                                    "browser/numeric.html"])
    return {"textures": examples_root / "browser" / "textures.html", "numeric": numeric / "browser" / "numeric.html"}


@pytest.mark.parametrize("name", ["textures", "numeric"])
def test_report_loads_without_errors_and_is_captured(reports: dict[str, Path], name: str) -> None:
    with Browser() as browser:
        loaded = browser.load(reports[name])
        assert loaded.errors == []
        browser.screenshot(ARTIFACTS / f"{name}.png", 1200, 900)
        browser.screenshot(ARTIFACTS / f"{name}-phone.png", 390, 844, mobile=True)
        width = browser.call("Runtime.evaluate", expression="document.documentElement.scrollWidth")
        browser.pdf(ARTIFACTS / f"{name}.pdf")
        opened = browser.call("Runtime.evaluate", expression="[...document.querySelectorAll('details')]"
                              ".every(d => d.open)", returnByValue=True)
    assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000
    assert (ARTIFACTS / f"{name}.pdf").read_bytes().startswith(b"%PDF")
    assert width["result"]["value"] <= 1200  # tables scroll in their own boxes, the page does not widen
    assert opened["result"]["value"] is True  # printing unfolded every split's details


def test_the_error_check_is_real(tmp_path: Path) -> None:
    """A page with a console error, an exception and a missing image reports all three."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head><body>'
                    '<img src="missing.png"><script>console.error("boom"); undefinedFunction();</script></body></html>')
    with Browser() as browser:
        errors = browser.load(page).errors
    assert len(errors) == 3 and any("boom" in e for e in errors) and any("missing.png" in e for e in errors)
