"""`--junit PATH`: the audit as JUnit XML, the test report format Jenkins (junit
step), GitLab (artifacts:reports:junit) and most CI dashboards read.

One <testsuite> per clip, named "clip N: FILE"; in it one <testcase> per character
in that clip (classname "drift-audit.clipN", name the character), and one named
"clip" for what concerns the clip itself (glitches, damage, provenance). A finding that
fails the run (at or above --fail-on, or its kind's rule from the config file's
[fail_on]) is a <failure> of its testcase (type = the finding's kind); the others go
to the testcase's <system-out>. An unreadable clip is an
<error>. Findings about no clip go to a last suite, "story". No times or
timestamps: the same audit gives the same bytes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from drift_audit.report.json import printable as _printable
from drift_audit.types import ClipResult, Finding, Report

_CLIP_CASE = "clip"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def printable(text: str) -> str:
    """Text XML 1.0 can hold: undecodable bytes and control characters as \\xNN."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", _printable(text))


def render_junit(report: Report) -> str:
    """The report as JUnit XML text (UTF-8, with an XML declaration).

    Args:
        report: the audit.

    Returns:
        <testsuites> with counts (tests, failures, errors, skipped) on it and on
        every <testsuite>.
    """
    names = {ch.id: ch.name for ch in report.characters}
    order = {ch.id: k for k, ch in enumerate(report.characters)}
    by_case: dict[tuple[int | None, str], list[Finding]] = {}
    for f in report.findings:
        by_case.setdefault((f.clip, f.character or _CLIP_CASE), []).append(f)

    root = ET.Element("testsuites", name="drift-audit")
    totals = [0, 0, 0]  # tests, failures, errors
    for clip in report.clips:
        present = {ch.id for ch in report.characters if clip.index in ch.clip_similarity}
        cases = present | {who for (c, who) in by_case if c == clip.index}
        cases.discard(_CLIP_CASE)
        suite = _suite(root, f"clip {clip.index}: {printable(Path(clip.path).name)}")
        _properties(suite, clip)
        ordered = [_CLIP_CASE, *sorted(cases, key=lambda c: (order.get(c, len(order)), c))]
        counts = [0, 0, 0]
        for who in ordered:
            label = who if who == _CLIP_CASE or not names.get(who) else f"{who} {names[who]}"
            case = ET.SubElement(
                suite, "testcase", classname=f"drift-audit.clip{clip.index}", name=label, time="0"
            )
            counts[0] += 1
            if who == _CLIP_CASE and clip.status != "ok":
                error = ET.SubElement(case, "error", type="unreadable_clip")
                error.set("message", printable(clip.error or "unreadable"))
                counts[2] += 1
            counts[1] += _findings(case, by_case.get((clip.index, who), []), report)
        _counts(suite, counts)
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
    story = sorted({who for (c, who) in by_case if c is None})
    if story:
        suite = _suite(root, "story")
        counts = [0, 0, 0]
        for who in story:
            case = ET.SubElement(suite, "testcase", classname="drift-audit.story", name=who)
            case.set("time", "0")
            counts[0] += 1
            counts[1] += _findings(case, by_case[(None, who)], report)
        _counts(suite, counts)
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
    _counts(root, totals)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _suite(root: ET.Element, name: str) -> ET.Element:
    return ET.SubElement(root, "testsuite", name=name)


def _properties(suite: ET.Element, clip: ClipResult) -> None:
    """The clip's path and C2PA provenance as the suite's <properties>."""
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="path", value=printable(clip.path))
    p = clip.provenance
    if p is None:
        return
    ET.SubElement(props, "property", name="provenance", value=p.state)
    if p.claim_generator:
        ET.SubElement(props, "property", name="claim_generator", value=printable(p.claim_generator))
    if p.generators:
        ET.SubElement(
            props, "property", name="generators", value=printable(", ".join(p.generators))
        )


def _counts(element: ET.Element, counts: list[int]) -> None:
    element.set("tests", str(counts[0]))
    element.set("failures", str(counts[1]))
    element.set("errors", str(counts[2]))
    element.set("skipped", "0")
    element.set("time", "0")


def _findings(case: ET.Element, found: list[Finding], report: Report) -> int:
    """One <failure> for the failing findings (Jenkins shows one per testcase), the
    others in <system-out>; returns 1 when the case failed."""
    # The run's own rule: --fail-on, or the kind's rule from the config file.
    fails = [f for f in found if report.fails(f)]
    others = [f for f in found if not report.fails(f)]
    if fails:
        kinds = list(dict.fromkeys(f.kind for f in fails))
        failure = ET.SubElement(case, "failure", type=kinds[0])
        failure.set("message", printable(" ".join(fails[0].message.split())))
        failure.text = "\n".join(f"{f.severity} {f.kind}: {printable(f.message)}" for f in fails)
    if others:
        out = ET.SubElement(case, "system-out")
        out.text = "\n".join(f"{f.severity} {f.kind}: {printable(f.message)}" for f in others)
    return 1 if fails else 0
