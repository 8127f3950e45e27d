"""GitHub Actions annotations: one workflow command per finding (`::error`,
`::warning` or `::notice`), which the runner shows on the run's summary page and,
for a file in the repository, beside it.

Written when GITHUB_ACTIONS=true (the runner sets it) or `--github` is given. GitHub
documents workflow commands as lines on stdout, so that is where they go, unless
stdout carries the JSON report (`--json -`): then stderr, which the runner reads for
commands too, so the JSON stays parseable.
"""

from __future__ import annotations

import os
from pathlib import Path

from drift_audit.report.json import printable
from drift_audit.report.spans import span, timecode
from drift_audit.types import Finding, Report

_COMMAND = {"fail": "error", "warn": "warning"}


def enabled(flag: bool, environ: dict[str, str] | None = None) -> bool:
    """`--github`, or a run inside GitHub Actions (GITHUB_ACTIONS=true)."""
    env = os.environ if environ is None else environ
    return flag or env.get("GITHUB_ACTIONS", "").lower() == "true"


def escape_data(text: str) -> str:
    """A command's message: %, CR and LF escaped as GitHub's toolkit does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A command's property value: also ':' and ',' (they end a property)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _file(path: str, cwd: Path) -> str:
    """The clip's path relative to the working directory (the checkout in a
    workflow) when it lies under it, so GitHub can attach the annotation to it."""
    try:
        return Path(path).resolve().relative_to(cwd.resolve()).as_posix()
    except (ValueError, OSError):
        return path


def render_annotations(report: Report, cwd: Path | None = None) -> str:
    """The findings as workflow command lines, in the report's order, plus a last
    `::notice` with the verdict; an unreadable clip is an `::error` too.

    Args:
        report: the audit.
        cwd: the folder paths are made relative to (default: the current one).
    """
    cwd = cwd or Path.cwd()
    lines = []
    for clip in report.unreadable:
        props = {
            "file": _file(clip.path, cwd),
            "title": f"drift-audit: clip {clip.index} unreadable",
        }
        lines.append(_command("error", props, clip.error or f"{clip.path}: unreadable"))
    for f in report.findings:
        lines.append(_finding(report, f, cwd))
    fails = sum(f.severity == "fail" for f in report.findings)
    verdict = "fail" if report.failed else ("incomplete" if report.unreadable else "pass")
    summary = (
        f"verdict {verdict}: {len(report.clips)} clip(s), {len(report.characters)} "
        f"character(s), {len(report.findings)} finding(s) ({fails} fail)"
    )
    lines.append(_command("notice", {"title": "drift-audit"}, summary))
    return "".join(line + "\n" for line in lines)


def _finding(report: Report, f: Finding, cwd: Path) -> str:
    where = span(report, f)
    title = f"drift-audit {f.kind}"
    if f.character:
        title += f" {f.character}"
    if f.clip is not None:
        title += f" clip {f.clip}"
    props: dict[str, str] = {}
    message = " ".join(f.message.split())
    if where.clip is not None:
        props["file"] = _file(where.clip.path, cwd)
        message += f" (at {timecode(where.start_s, where.fps)})"
    props["title"] = title
    return _command(_COMMAND.get(f.severity, "notice"), props, message)


def _command(name: str, props: dict[str, str], message: str) -> str:
    shown = ",".join(f"{k}={escape_property(printable(v))}" for k, v in props.items())
    return f"::{name} {shown}::{escape_data(printable(message))}"
