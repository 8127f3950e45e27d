"""The HTML report and the contact sheet: self-contained, escaped, linked, drawn."""

from __future__ import annotations

import base64
import dataclasses
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import cv2
import numpy as np
import pytest

from drift_audit.report.common import THUMB_PX
from drift_audit.report.contact_sheet import render_contact_sheet
from drift_audit.report.html import render_html
from drift_audit.report.html_parts import cell_id
from drift_audit.types import (
    Appearance,
    Character,
    ClipResult,
    EmbedderInfo,
    Evidence,
    Finding,
    Glitch,
    Report,
    Shot,
    VideoInfo,
)

FPS = 25.0
EVIL = "/tmp/<script>alert(1)</script>.mp4"
DATA_URI = re.compile(r"data:image/(?:png|jpeg);base64,[A-Za-z0-9+/=]+")
VOID = {"meta", "img", "br", "line", "circle", "polyline"}


def face(colour: tuple[int, int, int]) -> np.ndarray:
    """A (224, 224, 3) uint8 RGB crop: a flat background with a face-like disc."""
    img = np.full((224, 224, 3), colour, np.uint8)
    cv2.circle(img, (112, 112), 70, (230, 190, 160), -1)
    cv2.circle(img, (85, 95), 8, (40, 30, 20), -1)
    cv2.circle(img, (139, 95), 8, (40, 30, 20), -1)
    return img


def ok_clip(index: int, shots: int = 2, glitches: tuple[int, ...] = ()) -> ClipResult:
    n = 50 * shots
    bounds = [(k * 50, k * 50 + 49) for k in range(shots)]
    return ClipResult(
        index=index,
        path=f"/clips/clip{index}.mp4",
        info=VideoInfo(f"/clips/clip{index}.mp4", FPS, n, 64, 48, "h264", "decord"),
        frames_read=n,
        shots=[Shot(k + 1, a, b, a / FPS, (b + 1) / FPS) for k, (a, b) in enumerate(bounds)],
        glitches=[Glitch(g, g / FPS) for g in glitches],
        times={i: i / FPS for i in range(n)},
    )


def character(
    cid: str,
    name: str | None,
    sims: dict[int, float],
    anchor: bool = True,
    colour: tuple[int, int, int] = (60, 90, 200),
) -> Character:
    return Character(
        id=cid,
        name=name,
        track_ids=[],
        anchor=np.zeros(4, np.float32),
        appearances=[Appearance(c, 1, 0.0, 1.0, 3, s) for c, s in sims.items()],
        clip_similarity=dict(sims),
        previous_similarity={c: s for c, s in sims.items() if c > min(sims)},
        spread={c: 0.05 for c in sims},
        coherence_horizon=next((c for c, s in sims.items() if s < 0.4), None),
        drift_slope=-0.2,
        thumbnails={c: face(colour) for c in sims},
        anchor_image=face(colour) if anchor else None,
    )


def sample_report() -> Report:
    """Three readable clips and one unreadable one with a hostile path; two characters,
    one named with markup, one absent from two clips and without an anchor image."""
    clips = [
        ok_clip(1, glitches=(20,)),
        ok_clip(2, shots=3),
        ok_clip(3),
        ClipResult(4, EVIL, "error", f"{EVIL}: no such file"),
    ]
    chars = [
        character("C1", "ann & <bob>", {1: 1.0, 2: 0.43, 3: -0.2}),
        character("C2", None, {2: 0.9}, anchor=False, colour=(200, 60, 60)),
    ]
    findings = [
        Finding("glitch_frame", "warn", None, 1, "clip 1: frame 20 differs", frame=20),
        Finding("uncertain_identity", "warn", "C1", 2, "C1 clip 2: similarity 0.43"),
        Finding("identity_drift", "fail", "C1", 3, "C1 clip 3: similarity -0.20 <low>"),
        Finding("missing_character", "warn", None, 4, "cast member bob is not found in clip 4"),
        Finding("identity_swap", "fail", "C2", 1, "C2 is absent from clip 1"),
    ]
    emb = EmbedderInfo("dlib", "0" * 64, 0.4, 0.06, "auto")
    return Report(clips, chars, findings, emb)


class Page(HTMLParser):
    """Collects ids, links, images and the classes of elements by id; checks nesting."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.classes: dict[str, str] = {}
        self.stack: list[str] = []
        self.cells: list[str] = []  # ids of the td elements open
        self.frames: list[str] = []  # for each evidence frame, the id of its cell
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            assert a["id"] not in self.ids, f"duplicate id {a['id']}"
            self.ids.add(a["id"] or "")
            self.classes[a["id"] or ""] = a.get("class") or ""
        if tag == "a":
            self.hrefs.append(a.get("href") or "")
        if tag == "img":
            self.srcs.append(a.get("src") or "")
            if a.get("class") == "frame":
                self.frames.append(self.cells[-1] if self.cells else "")
        if tag == "td":
            self.cells.append(a.get("id") or "")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID:
            assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
            self.stack.pop()
        if tag == "td":
            self.cells.pop()


def test_page_is_well_formed() -> None:
    page = Page(render_html(sample_report()))
    assert page.stack == []


def test_no_external_urls() -> None:
    text = DATA_URI.sub("", render_html(sample_report()))
    for bad in (
        "http://",
        "https://",
        'src="//',
        'href="//',
        "url(",
        "@import",
        "<link",
        "<script",
    ):
        assert bad not in text


def test_images_are_embedded_and_counted() -> None:
    report = sample_report()
    page = Page(render_html(report))
    ok = {c.index for c in report.clips if c.status == "ok"}
    expected = sum(
        (ch.anchor_image is not None) + sum(c in ok for c in ch.thumbnails)
        for ch in report.characters
    )
    assert len(page.srcs) == expected == 5
    for src in page.srcs:
        assert DATA_URI.fullmatch(src)
        raw = np.frombuffer(base64.b64decode(src.split(",", 1)[1]), np.uint8)
        img = cv2.imdecode(raw, cv2.IMREAD_COLOR)
        assert img is not None and img.shape == (THUMB_PX, THUMB_PX, 3)


def test_finding_links_resolve() -> None:
    page = Page(render_html(sample_report()))
    local = [h[1:] for h in page.hrefs if h.startswith("#")]
    assert len(local) == len(page.hrefs)
    assert set(local) <= page.ids
    # character + readable clip -> the cell; unreadable clip -> its timeline
    assert {"C1-clip3", "C1-clip2", "clip4", "clip1", "C2-clip1"} <= set(local)
    assert "absent" in page.classes["C2-clip1"]


def test_text_is_escaped() -> None:
    text = render_html(sample_report())
    assert "<script>" not in text and "<bob>" not in text and "<low>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.mp4: no such file" in text
    assert "cast: ann &amp; &lt;bob&gt;" in text


def test_cells_coloured_by_threshold() -> None:
    page = Page(render_html(sample_report()))
    assert "t-ok" in page.classes[cell_id("C1", 1)]
    assert "t-unsure" in page.classes[cell_id("C1", 2)]  # 0.43 < 0.40 + 0.06
    assert "t-bad" in page.classes[cell_id("C1", 3)]
    assert "t-ok" in page.classes[cell_id("C2", 2)]
    assert "absent" in page.classes[cell_id("C2", 3)]


def test_weak_evidence_below_threshold_is_uncertain_not_red() -> None:
    report = sample_report()
    report.characters[0].evidence = {3: 0.1}  # a tiny or blurred face in clip 3
    text = render_html(report)
    assert "t-unsure" in Page(text).classes[cell_id("C1", 3)]
    assert "weak face evidence" in text


def test_timelines_show_shots_glitches_and_errors() -> None:
    text = render_html(sample_report())
    assert text.count('class="shot"') == 2 + 3 + 2
    assert text.count('class="glitch"') == 1
    assert 'class="glitch" style="left:20.000%"' in text  # frame 20 of clip 1's 100
    assert 'id="clip4"' in text and 'class="error"' in text


def test_plot_clamps_and_draws_threshold() -> None:
    text = render_html(sample_report())
    svgs = re.findall(r"<svg.*?</svg>", text)
    assert len(svgs) == 2
    for svg in svgs:
        assert 'class="thr"' in svg and "threshold 0.40" in svg
    cys = [float(y) for y in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', svgs[0])]
    assert len(cys) == 3 and max(cys) <= 110  # -0.2 is drawn at 0, inside the plot
    assert cys[2] == pytest.approx(110 - 22)
    assert "<polyline" in svgs[0] and "<polyline" not in svgs[1]


@pytest.mark.parametrize(
    "report",
    [
        Report([], [], [], None),
        Report([ClipResult(1, EVIL, "error", "unreadable <x>")], [], [], None),
        Report([ok_clip(1)], [], [], EmbedderInfo("dlib", "0" * 64, 0.4, 0.06, "auto")),
    ],
)
def test_empty_reports(report: Report) -> None:
    text = render_html(report)
    assert Page(text).stack == [] and "<x>" not in text
    img = cv2.imdecode(np.frombuffer(render_contact_sheet(report), np.uint8), cv2.IMREAD_COLOR)
    assert img is not None and 0 < img.shape[0] < 200


def sheet_of(report: Report) -> np.ndarray:
    png = render_contact_sheet(report)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None
    return img


def test_contact_sheet_grows_with_grid() -> None:
    emb = EmbedderInfo("dlib", "0" * 64, 0.4, 0.06, "auto")

    def make(n_chars: int, n_clips: int) -> Report:
        sims = {c: 0.9 for c in range(1, n_clips + 1)}
        chars = [character(f"C{k + 1}", None, sims) for k in range(n_chars)]
        return Report([ok_clip(c) for c in sims], chars, [], emb)

    h1, w1 = sheet_of(make(1, 3)).shape[:2]
    h3, w3 = sheet_of(make(3, 3)).shape[:2]
    h5, w5 = sheet_of(make(3, 6)).shape[:2]
    assert h3 > h1 and w3 == w1
    assert h5 == h3 and w5 > w3


def test_contact_sheet_shows_present_thumbnails_only() -> None:
    report = sample_report()
    magenta, cyan = (255, 0, 255), (0, 255, 255)
    c1, c2 = report.characters
    c1.thumbnails = {1: np.full((224, 224, 3), magenta, np.uint8)}
    c2.thumbnails = {2: np.full((50, 80, 3), cyan, np.uint8)}  # any size is fitted
    img = sheet_of(report)[:, :, ::-1]  # RGB
    assert (img == magenta).all(axis=2).sum() == THUMB_PX * THUMB_PX
    assert (img == cyan).all(axis=2).sum() == THUMB_PX * THUMB_PX


CHROMIUM = shutil.which("chromium")
ONLOAD = (
    "<script>addEventListener('load', () => { document.body.dataset.broken = "
    "[...document.images].filter(i => !i.complete || i.naturalWidth === 0).length; "
    "document.body.dataset.outlined = [...document.querySelectorAll('td')].filter("
    "td => getComputedStyle(td).outlineStyle !== 'none' && "
    "parseFloat(getComputedStyle(td).outlineWidth) >= 2).map(td => td.id).join(' '); });"
    "</script></body>"
)


def chromium(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    cmd = [
        CHROMIUM or "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp / 'profile'}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_renders_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(sample_report()).replace("</body>", ONLOAD), "utf-8")
    shot = tmp_path / "shot.png"
    chromium(f"--screenshot={shot}", "--window-size=1280,900", page.as_uri(), tmp=tmp_path)
    img = cv2.imread(str(shot))
    assert img is not None and img.shape == (900, 1280, 3)
    assert img.std() > 20 and len(np.unique(img.reshape(-1, 3), axis=0)) > 1000

    dom = chromium("--dump-dom", "--virtual-time-budget=5000", page.as_uri(), tmp=tmp_path)
    assert 'data-broken="0"' in dom.stdout, dom.stderr[-2000:]
    assert dom.stdout.count("<img") == 5
    # the cells findings are about are drawn outlined, and only those: C1's drift in
    # clip 3, C2's swap in clip 1 (a cell without its face), C1's uncertainty in clip 2
    outlined = re.search(r'data-outlined="([^"]*)"', dom.stdout)
    assert outlined is not None, dom.stdout[-2000:]
    assert sorted(outlined[1].split()) == ["C1-clip2", "C1-clip3", "C2-clip1"]


# --- cells that point at the failure ------------------------------------------------


def clip_file(path: Path, colours: list[tuple[int, int, int]]) -> Path:
    """A small MJPEG AVI whose frame k is flat colours[k] (RGB), 160 x 120."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (160, 120))
    for rgb in colours:
        writer.write(np.full((120, 160, 3), rgb[::-1], np.uint8))
    writer.release()
    return path


def with_evidence(report: Report, ev: Evidence | None) -> Report:
    report.findings = [
        dataclasses.replace(f, evidence=ev) if f.kind == "identity_drift" else f
        for f in report.findings
    ]
    return report


def test_evidence_frame_is_the_frame_asked_for_with_its_box(tmp_path: Path) -> None:
    from drift_audit.report.frames import BOX_RGB, evidence_frame

    colours = [(0, 0, 40 * k) for k in range(6)]
    path = clip_file(tmp_path / "c.avi", colours)
    ev = Evidence(str(path), 1, 0.0, 0.2, 0, 5, 4, (40.0, 30.0, 120.0, 90.0))
    img = evidence_frame(ev)
    assert img is not None and img.shape == (180, 240, 3)  # longer side 240, aspect kept
    assert np.abs(img[5, 5].astype(int) - colours[4]).max() <= 8  # frame 4, not frame 0
    box_px = (img.astype(int) - BOX_RGB).__abs__().max(axis=2) <= 30
    assert box_px[45:135, 60].all() and not box_px[5, 5]  # left edge of the box, x 40 * 1.5


def test_no_or_unreadable_evidence_gives_no_frame(tmp_path: Path) -> None:
    from drift_audit.report.frames import evidence_frame

    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video" * 100)
    assert evidence_frame(None) is None
    assert evidence_frame(Evidence(str(junk), 1, 0.0, 1.0, 0, 9, 3, (0, 0, 4, 4))) is None
    missing = Evidence(str(tmp_path / "gone.mp4"), 1, 0.0, 1.0, 0, 9, 3, None)
    assert evidence_frame(missing) is None
    assert evidence_frame(dataclasses.replace(missing, frame=None)) is None
    html = render_html(with_evidence(sample_report(), missing))  # still a page
    assert 'class="frame"' not in html and "gone.mp4 shot 1" in html


def test_a_failing_cell_is_outlined_and_shows_its_evidence_frame(tmp_path: Path) -> None:
    path = clip_file(tmp_path / "c.avi", [(200, 200, 200)] * 5)
    ev = Evidence(str(path), 2, 0.0, 0.2, 0, 4, 2, (10.0, 10.0, 50.0, 50.0))
    page = Page(render_html(with_evidence(sample_report(), ev)))
    classes = {key: value.split() for key, value in page.classes.items()}
    assert "flag-bad" in classes[cell_id("C1", 3)]
    assert "flag-bad" in classes[cell_id("C2", 1)]  # a swap, in a cell without a face
    assert "flag-unsure" in classes[cell_id("C1", 2)]
    assert not {"flag-bad", "flag-unsure", "flag-warn"} & set(classes[cell_id("C1", 1)])
    assert page.frames == [cell_id("C1", 3)]  # the frame is inside the failing cell


def test_attribute_drift_shows_both_swatches_with_names_and_delta() -> None:
    report = sample_report()
    c1 = report.characters[0]
    hair = {1: (26.0, 23.0, 27.0), 2: (72.0, 4.0, 30.0)}  # auburn -> blond
    c1.attributes = {
        c: np.array([[*lab, 1.0], *[[0.0] * 4] * 3], np.float32) for c, lab in hair.items()
    }
    report.findings.append(Finding("attribute_drift", "warn", "C1", 2, "C1 clip 2: hair"))
    html = render_html(report)
    sw = r'<span class="sw" style="background:(#[0-9a-f]{6})"></span> ([a-z ]+?)'
    shown = re.findall(rf'{sw} → {sw} <span class="muted">ΔE (\d+)</span>', html)
    assert len(shown) == 2  # in the cell and in the list of findings
    before, before_name, after, after_name, delta = shown[0]
    assert before != after and after_name == "blond" and before_name != "blond"
    assert int(delta) >= 30


# --- the contact sheet --------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "magic"), [("PNG", b"\x89PNG"), ("JPEG", b"\xff\xd8\xff"), ("WEBP", b"RIFF")]
)
def test_contact_sheet_writes_the_format_asked_for_deterministically(
    fmt: str, magic: bytes
) -> None:
    data = render_contact_sheet(sample_report(), fmt)
    assert data.startswith(magic)
    assert data == render_contact_sheet(sample_report(), fmt)
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) is not None


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("s.png", "PNG"), ("s.JPG", "JPEG"), ("s.jpeg", "JPEG"), ("s.webp", "WEBP")],
)
def test_contact_sheet_format_follows_the_extension(name: str, fmt: str) -> None:
    from drift_audit.report.formats import image_format

    assert image_format(Path(name)) == fmt


@pytest.mark.parametrize("name", ["sheet.gif", "sheet", "sheet.png.bak"])
def test_contact_sheet_refuses_a_format_it_cannot_write(name: str) -> None:
    from drift_audit.errors import ConfigError
    from drift_audit.report.formats import image_format

    with pytest.raises(ConfigError, match=r"^--contact-sheet .*: .* name a .png, .jpg"):
        image_format(Path(name))


def test_contact_sheet_draws_non_ascii_names() -> None:
    from drift_audit.report.sheet_text import font

    face = font(14)
    masks = {c: bytes(face.getmask(c)) for c in "éëłŁ?"}
    assert len(set(masks.values())) == len(masks)  # real glyphs, not one "missing" box
    sheets = []
    for name in ("Zoë Łukasz", "Zoe Lukasz", "Zo? ?ukasz"):
        report = sample_report()
        report.characters[0].name = name
        sheets.append(sheet_of(report))
    assert not np.array_equal(sheets[0], sheets[1])
    assert not np.array_equal(sheets[0], sheets[2])


def test_contact_sheet_marks_failing_cells_and_lists_the_findings() -> None:
    from drift_audit.report.contact_sheet import _CELL_W, _HEAD_H, _LABEL_W, _TITLE_H

    report = sample_report()
    quiet = sample_report()
    quiet.findings = []
    img, plain = sheet_of(report)[:, :, ::-1], sheet_of(quiet)[:, :, ::-1]
    assert img.shape[0] > plain.shape[0] + 5 * 15  # a line per finding under the grid
    red = (198, 40, 40)
    y = _TITLE_H + _HEAD_H + 40  # C1's row, beside the thumbnails
    left = {clip: _LABEL_W + _CELL_W * clip for clip in (1, 2, 3)}  # cell left edges
    assert tuple(img[y, left[3] + 1]) == red  # clip 3: identity_drift, outlined red
    assert tuple(img[y, left[1] + 1]) != red  # clip 1: nothing to say
    assert tuple(plain[y, left[3] + 1]) == red  # a "different" verdict fails on its own


def test_contact_sheet_shows_each_clips_provenance() -> None:
    from drift_audit.provenance import GENERATIVE_SOURCES, Action, Provenance
    from drift_audit.report.contact_sheet import _CELL_W, _LABEL_W, _TITLE_H
    from drift_audit.report.provenance_view import sheet_label

    source = sorted(GENERATIVE_SOURCES)[0]
    sora = Provenance(
        "untrusted", "signed", "OpenAI Sora 1.0", actions=(Action("c2pa.created", "Sora", source),)
    )
    report = sample_report()
    report.clips[0].provenance = sora
    report.clips[1].provenance = Provenance("invalid", "assertion.bmffHash.mismatch")
    report.clips[2].provenance = Provenance("absent", "no C2PA manifest")
    labels = [sheet_label(c) for c in report.clips]
    assert [lab[0] if lab else None for lab in labels] == [
        "C2PA signed · Sora",
        "C2PA INVALID",
        "no C2PA",
        None,  # the unreadable clip: not read
    ]
    img = sheet_of(report)[:, :, ::-1]
    band = img[_TITLE_H + 40 : _TITLE_H + 56]  # the header's provenance line
    clip2 = band[:, _LABEL_W + _CELL_W * 2 : _LABEL_W + _CELL_W * 3]
    assert (np.abs(clip2.astype(int) - (198, 40, 40)).sum(axis=2) < 60).any()  # red: invalid
    plain = sample_report()
    assert sheet_of(plain).shape == sheet_of(report).shape  # the header has room for it
