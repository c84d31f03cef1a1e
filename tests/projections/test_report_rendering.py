"""The report as people see it: rendered by headless Chromium, on screen and in print.

The test command installs Debian's chromium; the screenshot is compared with the page's
known layout (charts drawn, red 72-hour line, text on a white page), not pixel for pixel,
since fonts differ between machines.
"""

from __future__ import annotations

import re

import pytest
from PIL import Image

from adapters.services.accountability_report import build_report, render_html
from tests.chromium import chromium
from tests.projections.history import COLLEGE, TOWN
from tests.projections.test_report import YEAR

# All on one worker (pytest -n, --dist loadgroup): its history is recorded once per database.
pytestmark = pytest.mark.xdist_group(__name__)

RED = (0xB3, 0x26, 0x1E)  # late, and the 72-hour line
GREEN = (0x1B, 0x6E, 0x3A)  # on time
BLUE = (0x15, 0x42, 0x73)  # section rules


def colour_share(image: Image.Image, colour: tuple[int, int, int]) -> float:
    rgb = image.convert("RGB")
    counts = rgb.getcolors(rgb.width * rgb.height) or []
    near = sum(
        n for n, c in counts if all(abs(a - b) <= 12 for a, b in zip(c, colour, strict=True))
    )
    return near / (rgb.width * rgb.height)


@pytest.fixture(scope="module")
def page(recorded, tmp_path_factory):
    history, _ = recorded
    report = build_report(history.app, TOWN, COLLEGE, YEAR, sign=history.sign)
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_html(report), encoding="utf-8")
    return path


def test_the_rendered_page_shows_the_charts_and_the_72_hour_line(page, tmp_path):
    shot = tmp_path / "report.png"
    chromium("--window-size=1100,2200", f"--screenshot={shot}", page.as_uri(), tmp_path=tmp_path)
    image = Image.open(shot)
    assert image.size == (1100, 2200)
    white = colour_share(image, (255, 255, 255))
    assert 0.6 < white < 0.98  # a page with content, not blank and not an error screen
    assert colour_share(image, RED) > 0.0005  # B's late bar and the dashed line
    assert colour_share(image, GREEN) > 0.0005  # R3 decided on time
    assert colour_share(image, BLUE) > 0.0002
    # The top of the page is the title and the checkpoint, above the first chart.
    top = image.crop((0, 0, 1100, 250))
    assert colour_share(top, (255, 255, 255)) > 0.8


def test_the_page_prints_to_a4(page, tmp_path):
    pdf = tmp_path / "report.pdf"
    chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri(), tmp_path=tmp_path)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    boxes = {
        (round(float(w)), round(float(h)))
        for w, h in re.findall(rb"/MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]", data)
    }
    assert boxes == {(595, 842)}  # A4 in points, from @page
    assert len(re.findall(rb"/Type /Page\b", data)) >= 2
