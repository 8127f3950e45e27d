"""`drift-audit.toml`: option defaults, the cast and fail-on per finding kind, read
from the current folder or from `--config PATH`. Flags on the command line win.

```
sample-fps = 2            # any long option, without its dashes (- or _ alike)
json = "reports/audit.json"
no-cache = true
fail_on = "warn"          # the --fail-on default; or a table:

[cast]                    # NAME = IMAGE, merged with --cast (a flag wins by name)
officer = "ref/officer.png"

[fail_on]                 # finding kind -> fail, warn or never: the --fail-on rule
default = "fail"          #   for that kind's findings; `default` is --fail-on's default
attribute_drift = "warn"
uncertain_identity = "never"
```

Relative paths are relative to the file's folder. An unknown key, a value of the wrong
type, an unknown finding kind: a ConfigError that names the file and the key.
"""

from __future__ import annotations

import difflib
import enum
import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from drift_audit.errors import ConfigError

CONFIG_NAME = "drift-audit.toml"
FAIL_ON = ("fail", "warn", "never")


@dataclass(frozen=True)
class Option:
    """A command-line option a config key sets.

    Attributes:
        name: the command's parameter name (the key of click's default_map).
        kind: bool, int, float, str, Path or an Enum class; None takes any number or
            string and leaves the check to the command line's own conversion.
        multiple: the option repeats: the value is a list.
        path: a file or folder: a relative one is taken from the config's folder.
    """

    name: str
    kind: type | None
    multiple: bool = False
    path: bool = False


@dataclass(frozen=True)
class FileConfig:
    """What a config file holds, checked.

    Attributes:
        path: the file.
        defaults: option parameter name -> default (click's default_map).
        cast: (name, image) pairs from `[cast]`.
        fail_on_kind: (finding kind, fail / warn / never) pairs from `[fail_on]`.
    """

    path: Path
    defaults: dict[str, Any]
    cast: tuple[tuple[str, Path], ...] = ()
    fail_on_kind: tuple[tuple[str, str], ...] = ()


def find(given: Path | None, folder: Path | None = None) -> Path | None:
    """The config file in force: `given` (--config), else drift-audit.toml in `folder`
    (the current folder) when there is one.

    Raises:
        ConfigError: `given` is not a file.
    """
    if given is not None:
        if not given.is_file():
            what = "is a folder" if given.is_dir() else "no such file"
            raise ConfigError(f"--config {given}: {what}")
        return given
    candidate = (folder or Path(".")) / CONFIG_NAME
    return candidate if candidate.is_file() else None


def load(
    path: Path, options: Mapping[str, Option], kinds: Iterable[str] | None = None
) -> FileConfig:
    """Read and check a config file.

    Args:
        options: config key -> the option it sets (`keys_for` builds both spellings).
        kinds: the finding kinds `[fail_on]` may name (default: `finding_kinds()`).
    Raises:
        ConfigError: the file cannot be read, is not TOML, or holds an unknown key or
            a value of the wrong type; the message names the file and the key.
    """
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    base = path.parent
    defaults: dict[str, Any] = {}
    cast: tuple[tuple[str, Path], ...] = ()
    fail_on_kind: tuple[tuple[str, str], ...] = ()
    for key, value in data.items():
        if key == "cast":
            cast = _cast(path, value, base)
        elif key in ("fail_on", "fail-on") and isinstance(value, dict):
            fail_on_kind, default = _fail_on_table(path, value, kinds)
            if default is not None:
                defaults["fail_on"] = default
        elif key in options:
            option = options[key]
            defaults[option.name] = _value(path, key, value, option, base)
        else:
            raise ConfigError(f"{path}: unknown key {key!r}{_did_you_mean(key, options)}")
    return FileConfig(path, defaults, cast, fail_on_kind)


def keys_for(long_options: Iterable[str], option: Option) -> dict[str, Option]:
    """Config keys for an option's long names ("--sample-fps" -> "sample-fps" and
    "sample_fps")."""
    keys = {}
    for opt in long_options:
        if opt.startswith("--"):
            keys[opt[2:]] = option
            keys[opt[2:].replace("-", "_")] = option
    return keys


def finding_kinds() -> tuple[str, ...]:
    """Every finding kind a report can hold: the JSON schema's list, and duplicate_clip
    (inputs.py)."""
    from drift_audit.inputs import DUPLICATE_CLIP

    schema = json.loads(
        resources.files("drift_audit").joinpath("report/schema.json").read_text("utf-8")
    )
    kinds = schema["properties"]["findings"]["items"]["properties"]["kind"]["enum"]
    return tuple(sorted({*kinds, DUPLICATE_CLIP}))


def _value(path: Path, key: str, value: Any, option: Option, base: Path) -> Any:
    if option.multiple:
        if not isinstance(value, list):
            raise ConfigError(f"{path}: {key} = {value!r}: expected a list")
        return [_scalar(path, key, item, option, base) for item in value]
    return _scalar(path, key, value, option, base)


def _scalar(path: Path, key: str, value: Any, option: Option, base: Path) -> Any:
    kind = option.kind
    wrong = f"{path}: {key} = {value!r}: expected "
    if isinstance(value, dict | list):
        raise ConfigError(f"{path}: {key}: expected a single value, got a {_toml_type(value)}")
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(wrong + "true or false")
        return value
    if isinstance(value, bool):
        raise ConfigError(wrong + ("a number" if kind in (int, float) else "a string"))
    if kind is int:
        if not isinstance(value, int):
            raise ConfigError(wrong + "a whole number")
        return value
    if kind is float:
        if not isinstance(value, int | float):
            raise ConfigError(wrong + "a number")
        return float(value)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        choices = [str(member.value) for member in kind]
        if value not in choices:
            raise ConfigError(wrong + "one of " + ", ".join(choices))
        return value
    if isinstance(value, str) and "\0" in value:
        raise ConfigError(f"{path}: {key}: a value cannot hold a NUL byte")
    if kind in (str, Path) or option.path:
        if not isinstance(value, str):
            raise ConfigError(wrong + ("a path, as a string" if option.path else "a string"))
        if option.path and value != "-":
            return str(_relative_to(base, value))
        return value
    if not isinstance(value, str | int | float):
        raise ConfigError(wrong + "a number or a string")
    return value


def _cast(path: Path, value: Any, base: Path) -> tuple[tuple[str, Path], ...]:
    if not isinstance(value, dict):
        raise ConfigError(f'{path}: cast: expected a [cast] table of NAME = "IMAGE"')
    members = []
    for name, image in value.items():
        if not isinstance(image, str) or not image.strip() or not name.strip() or "\0" in image:
            raise ConfigError(f"{path}: [cast] {name}: expected the path of an image, as a string")
        members.append((name.strip(), _relative_to(base, image.strip())))
    return tuple(members)


def _fail_on_table(
    path: Path, table: dict[str, Any], kinds: Iterable[str] | None
) -> tuple[tuple[tuple[str, str], ...], str | None]:
    known = tuple(kinds) if kinds is not None else finding_kinds()
    rules: list[tuple[str, str]] = []
    default = None
    for kind, rule in table.items():
        if rule not in FAIL_ON:
            raise ConfigError(
                f"{path}: [fail_on] {kind} = {rule!r}: expected one of {', '.join(FAIL_ON)}"
            )
        if kind == "default":
            default = rule
        elif kind in known:
            rules.append((kind, rule))
        else:
            hint = difflib.get_close_matches(kind, known, n=1)
            said = f" (did you mean {hint[0]!r}?)" if hint else f" (known: {', '.join(known)})"
            raise ConfigError(f"{path}: [fail_on] {kind}: unknown finding kind{said}")
    return tuple(sorted(rules)), default


def _relative_to(base: Path, value: str) -> Path:
    given = Path(value).expanduser()
    return given if given.is_absolute() else base / given


def _did_you_mean(key: str, options: Mapping[str, Option]) -> str:
    names = [*options, "cast", "fail_on"]
    hint = difflib.get_close_matches(key, names, n=1)
    return f" (did you mean {hint[0]!r}?)" if hint else ""


def _toml_type(value: Any) -> str:
    return "table" if isinstance(value, dict) else "list"
