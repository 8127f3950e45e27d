"""`--script FILE`: which cast members each clip is expected to show.

A script maps clips, named by their 1-based index, their file name or a glob over the
file name (a pattern with a `/` is matched against the whole path as given), to the
`--cast` names expected in them. Three spellings of the same content:

    # script.csv: a clip, then its cast (one name a cell, or several split by ';')
    clip,cast
    1,obama;biden
    scene2_*.mp4,biden
    4,

    # script.json                      # script.yaml (needs PyYAML)
    {"1": ["obama", "biden"],          1: [obama, biden]
     "scene2_*.mp4": "biden",          scene2_*.mp4: biden
     "4": []}                          4: []

A clip no entry names is not checked against the script; one that several name
expects all their names. Every problem is a ScriptError whose message names the
file, the line and what is wrong.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path, PurePath
from typing import Any

from drift_audit.errors import ConfigError

FORMATS = {".csv": "csv", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}
_NAME = re.compile(r"^[^\s;,]+$")


class ScriptError(ConfigError):
    """A script file that cannot be read or says something impossible (exit code 2)."""


@dataclass(frozen=True)
class ScriptEntry:
    """One line of a script: a clip selector and the cast names expected there."""

    selector: str  # "3", "clip3.mp4" or a glob such as "scene2_*.mp4"
    names: tuple[str, ...]
    line: int  # 1-based line of the file it comes from

    def matches(self, index: int, path: str) -> bool:
        """Whether the entry names clip `index` (1-based) at `path`."""
        if self.selector.isdigit():
            return int(self.selector) == index
        target = PurePath(path).as_posix() if "/" in self.selector else PurePath(path).name
        return fnmatchcase(target, self.selector)


@dataclass(frozen=True)
class Script:
    """A parsed script file."""

    path: str
    entries: tuple[ScriptEntry, ...]

    def where(self, entry: ScriptEntry) -> str:
        """How messages cite an entry: "script.csv line 3"."""
        return f"{self.path} line {entry.line}"

    def expected(self, index: int, path: str) -> tuple[frozenset[str], list[ScriptEntry]] | None:
        """(the names expected in clip `index` at `path`, the entries that say so), or
        None when no entry names the clip."""
        hits = [e for e in self.entries if e.matches(index, path)]
        if not hits:
            return None
        return frozenset(n for e in hits for n in e.names), hits

    @property
    def names(self) -> dict[str, ScriptEntry]:
        """Each cast name the script uses -> the first entry that uses it."""
        out: dict[str, ScriptEntry] = {}
        for entry in self.entries:
            for name in entry.names:
                out.setdefault(name, entry)
        return out

    def check_clips(self, paths: list[str]) -> None:
        """Every entry must name at least one of the clips given (in story order).

        Raises:
            ScriptError: an entry names no clip (a typo would silently check nothing).
        """
        for entry in self.entries:
            if not any(entry.matches(i, p) for i, p in enumerate(paths, start=1)):
                what = (
                    f"clip {entry.selector} does not exist ({len(paths)} clip(s) given)"
                    if entry.selector.isdigit()
                    else f"{entry.selector!r} matches none of the {len(paths)} clip(s) given"
                )
                raise ScriptError(f"{self.where(entry)}: {what}")


def load_script(path: Path) -> Script:
    """Read and check a script file (see the module's docstring for the format).

    Raises:
        ScriptError: the file is missing, unreadable, of an unknown format, or its
            content is not a script (the message names the file and the line).
    """
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ScriptError(
            f"--script {path}: unknown format {path.suffix or '(no extension)'!r}; "
            "use .csv, .json or .yaml"
        )
    try:
        text = path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ScriptError(f"--script {path}: cannot read ({reason})") from None
    raw = {"csv": _csv_rows, "json": _json_rows, "yaml": _yaml_rows}[kind](text, str(path))
    entries = tuple(_entry(str(path), line, sel, names) for line, sel, names in raw)
    if not entries:
        raise ScriptError(f"{path}: lists no clip")
    seen: dict[str, int] = {}
    for entry in entries:
        if entry.selector in seen:
            raise ScriptError(
                f"{path} line {entry.line}: clip {entry.selector!r} is already listed on "
                f"line {seen[entry.selector]}"
            )
        seen[entry.selector] = entry.line
    return Script(str(path), entries)


Row = tuple[int, Any, Any]  # (line, selector, names) as the file spells them


def _entry(path: str, line: int, selector: Any, names: Any) -> ScriptEntry:
    """One checked entry: a selector (an index >= 1, a name or a glob) and names."""
    where = f"{path} line {line}"
    if isinstance(selector, bool) or not isinstance(selector, int | str):
        raise ScriptError(f"{where}: a clip is an index, a file name or a glob, got {selector!r}")
    sel = str(selector).strip()
    if not sel:
        raise ScriptError(f"{where}: the clip is empty")
    if sel.isdigit() and int(sel) < 1:
        raise ScriptError(f"{where}: clip indices start at 1, got {sel}")
    if names is None:
        names = []
    if isinstance(names, str):
        names = [n for n in re.split(r"[;\s]+", names) if n]
    if not isinstance(names, list):
        raise ScriptError(f"{where}: the cast of clip {sel} must be a list of names")
    out: list[str] = []
    for name in names:
        if not isinstance(name, str) or not _NAME.match(name.strip()):
            raise ScriptError(f"{where}: {name!r} is not a cast name")
        if name.strip() not in out:
            out.append(name.strip())
    return ScriptEntry(sel, tuple(out), line)


def _csv_rows(text: str, path: str) -> list[Row]:
    """CSV: a clip, then names (one a cell, or several in a cell split by ';'). Blank
    lines and lines starting with '#' are skipped; so is a first row "clip,..."."""
    rows: list[Row] = []
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            (cells,) = list(csv.reader(io.StringIO(line), strict=True))
        except (csv.Error, ValueError) as exc:
            raise ScriptError(f"{path} line {number}: not a CSV row ({exc})") from None
        cells = [c.strip() for c in cells]
        if not rows and cells[0].lower() == "clip":
            continue  # the header
        names = [n for cell in cells[1:] for n in cell.split(";") if n.strip()]
        rows.append((number, cells[0], names))
    return rows


def _json_rows(text: str, path: str) -> list[Row]:
    """JSON: one object, clip -> a list of names (or one name)."""
    try:
        data = json.loads(text, object_pairs_hook=_pairs)
    except json.JSONDecodeError as exc:
        raise ScriptError(f"{path} line {exc.lineno}: not JSON ({exc.msg})") from None
    if not isinstance(data, _Pairs):
        raise ScriptError(f"{path} line 1: a script is one object, clip -> cast names")
    count: dict[str, int] = {}
    rows: list[Row] = []
    for key, value in data.items:
        count[key] = count.get(key, 0) + 1
        rows.append((_line_of(text, key, count[key]), key, value))
    return rows


class _Pairs:
    """A JSON object's pairs in file order (duplicates kept, to be reported)."""

    def __init__(self, items: list[tuple[str, Any]]) -> None:
        self.items = items


def _pairs(items: list[tuple[str, Any]]) -> _Pairs:
    return _Pairs(items)


def _line_of(text: str, key: str, nth: int) -> int:
    """The line of the nth `"key":` in the JSON text (1 when not found)."""
    found = list(re.finditer(re.escape(json.dumps(key, ensure_ascii=False)) + r"\s*:", text))
    if len(found) < nth:
        return 1
    return text.count("\n", 0, found[nth - 1].start()) + 1


def _yaml_rows(text: str, path: str) -> list[Row]:
    """YAML: one mapping, clip -> a list of names (or one name); needs PyYAML."""
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        raise ScriptError(
            f"--script {path}: a YAML script needs PyYAML, which is not installed "
            "(pip install pyyaml); or write the script as .csv or .json"
        ) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise ScriptError(
            f"{path} line {line}: not YAML ({getattr(exc, 'problem', exc)})"
        ) from None
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode):
        raise ScriptError(
            f"{path} line {root.start_mark.line + 1}: a script is one mapping, clip -> cast names"
        )
    rows: list[Row] = []
    for key, value in root.value:
        line = key.start_mark.line + 1
        if not isinstance(key, yaml.ScalarNode):
            raise ScriptError(f"{path} line {line}: a clip is an index, a file name or a glob")
        if isinstance(value, yaml.SequenceNode):
            names: Any = [_yaml_scalar(v, path) for v in value.value]
        elif isinstance(value, yaml.ScalarNode):
            names = None if value.tag.endswith(":null") else value.value
        else:
            raise ScriptError(f"{path} line {line}: the cast of clip {key.value} must be a list")
        rows.append((line, key.value, names))
    return rows


def _yaml_scalar(node: Any, path: str) -> Any:
    import yaml

    if not isinstance(node, yaml.ScalarNode):
        raise ScriptError(f"{path} line {node.start_mark.line + 1}: a cast name must be a word")
    return node.value
