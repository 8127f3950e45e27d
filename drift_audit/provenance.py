"""C2PA content credentials of a clip or still: is a manifest there, does it hold, who
made the file and from what.

Read once per input file on the driver side (`pipeline.audit`), never inside the
cached per-clip analysis: provenance changes no cache key, and a cache hit still
gets it read afresh. c2pa-python is imported only here, only when a file is read;
without it every file's provenance is "unavailable" with the reason, not a crash.

The state is decided from c2pa's validation results:

- "valid": the manifest validates and its signer is on a trust list c2pa was given
  (c2pa's "Trusted"; `--trust-anchors PEM`). drift-audit ships no trust list, so
  without one files read here are at best "untrusted";
- "untrusted": the manifest validates (signature, hashes of the media data), but the
  signing certificate is not on a trust list (c2pa's "Valid" whose only failures
  are `signingCredential.untrusted`): real generator files and the C2PA test
  certificate read this way;
- "invalid": any other failure (c2pa's "Invalid", e.g. `assertion.bmffHash.mismatch`
  after one byte of the media data changed), or a manifest c2pa cannot parse;
- "absent": no manifest, or a format that cannot carry one (MKV, WebM);
- "unavailable": c2pa-python is not installed, or the file could not be read.

Reading is offline: no remote manifest is fetched and no OCSP responder asked, so the
same file always gives the same answer (and the same report bytes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drift_audit import interrupts
from drift_audit.errors import ConfigError
from drift_audit.progress import ProgressHook, no_progress
from drift_audit.types import ClipResult, Finding

STATES = ("valid", "untrusted", "invalid", "absent", "unavailable")
UNTRUSTED_CODES = frozenset({"signingCredential.untrusted"})
"""Validation failures that only say the signer is not on a trust list."""
GENERATIVE_SOURCES = frozenset({"trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"})
"""IPTC digital source types that mark content made (or partly made) by a generative
model: what the EU AI Act's article 50 asks to be machine-readable."""
_SETTINGS = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}


@dataclass(frozen=True)
class Action:
    """One action of the active manifest, e.g. c2pa.created by Sora."""

    action: str
    software_agent: str | None = None
    digital_source_type: str | None = None  # the IPTC term, e.g. "trainedAlgorithmicMedia"

    @property
    def generative(self) -> bool:
        return self.digital_source_type in GENERATIVE_SOURCES


@dataclass(frozen=True)
class Ingredient:
    """A file the active manifest says this one was made or edited from."""

    title: str | None
    format: str | None
    relationship: str | None  # "parentOf", "componentOf" or "inputTo"
    signed: bool  # the ingredient carried a manifest of its own


@dataclass(frozen=True)
class Provenance:
    """What a file's C2PA manifest says, and whether it holds.

    Attributes:
        state: one of STATES (see the module docstring).
        reason: one line on why the state is what it is.
        claim_generator: the tool that wrote the manifest, e.g. "OpenAI Sora 1.0".
        signer: the signing certificate's issuer and common name.
        signed_at: the signing time (ISO 8601) when a timestamp authority vouched
            for one, else None.
        actions: the active manifest's actions, in order.
        ingredients: what the file was made or edited from.
        failures: c2pa's validation failure codes, sorted.
    """

    state: str
    reason: str
    claim_generator: str | None = None
    signer: str | None = None
    signed_at: str | None = None
    actions: tuple[Action, ...] = ()
    ingredients: tuple[Ingredient, ...] = ()
    failures: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}, got {self.state!r}")

    @property
    def generative(self) -> bool:
        """True when an action marks the content as made by a generative model."""
        return any(a.generative for a in self.actions)

    @property
    def generators(self) -> tuple[str, ...]:
        """The software agents of the generative actions, in order, each once."""
        agents = [a.software_agent for a in self.actions if a.generative and a.software_agent]
        return tuple(dict.fromkeys(agents))


def available() -> str | None:
    """None when c2pa-python can be imported, else why not (one line)."""
    try:
        import c2pa  # noqa: F401
    except ImportError as exc:
        return f"c2pa-python is not installed ({exc}); pip install c2pa-python"
    return None


def read(path: Path, trust_anchors: str | None = None) -> Provenance:
    """The provenance of one file. Never raises for a bad or unsigned file.

    Args:
        path: a clip or still.
        trust_anchors: PEM certificates of the authorities whose signers are trusted
            (e.g. the C2PA trust list); None: no signer is trusted.

    Returns:
        Its Provenance; "unavailable" when c2pa-python is missing or the file
        cannot be opened.
    """
    missing = available()
    if missing is not None:
        return Provenance("unavailable", missing)
    import c2pa

    try:
        fh = path.open("rb")
    except OSError as exc:
        return Provenance("unavailable", f"cannot read the file ({exc.strerror or exc})")
    try:
        settings: dict[str, Any] = dict(_SETTINGS)
        if trust_anchors is not None:
            settings["trust"] = {"trust_anchors": trust_anchors}
        context = c2pa.Context(c2pa.Settings.from_json(json.dumps(settings)))
        # The format is read from the bytes, not the name: a renamed file still reads.
        with c2pa.Reader(None, fh, None, context) as reader:
            store = json.loads(reader.json())
    except c2pa.C2paError.ManifestNotFound:
        return Provenance("absent", "no C2PA manifest")
    except c2pa.C2paError.NotSupported:
        return Provenance("absent", "no C2PA manifest (c2pa does not read this format)")
    except c2pa.C2paError as exc:
        return Provenance("invalid", f"the C2PA manifest cannot be read ({_line(exc)})")
    except OSError as exc:
        return Provenance("unavailable", f"cannot read the file ({exc.strerror or exc})")
    finally:
        fh.close()
    try:
        return from_store(store, trust_anchors is not None)
    except (AttributeError, TypeError, ValueError) as exc:  # a crafted manifest store
        return Provenance("invalid", f"the C2PA manifest has an odd structure ({_line(exc)})")


def load_trust_anchors(path: Path) -> str:
    """The PEM text of a --trust-anchors file.

    Raises:
        ConfigError: it cannot be read, or holds no PEM certificate.
    """
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigError(f"--trust-anchors {path}: cannot read it ({reason})") from None
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise ConfigError(f"--trust-anchors {path}: holds no PEM certificate")
    return text


def _is_file(path: str) -> bool:
    """Whether `path` is a regular file; False for a name the system refuses (too long,
    a NUL byte): such a clip is already reported unreadable."""
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False


def attach(
    clips: list[ClipResult], hook: ProgressHook = no_progress, trust_anchors: Path | None = None
) -> None:
    """Set every clip's `provenance` from its file, in place; a path that is not a
    regular file (missing) keeps None.

    Raises:
        ConfigError: `trust_anchors` cannot be read (load_trust_anchors).
    """
    anchors = load_trust_anchors(trust_anchors) if trust_anchors is not None else None
    files = [c for c in clips if _is_file(c.path)]
    for done, clip in enumerate(files):
        interrupts.check()  # a signal between two files ends the run here
        hook("provenance", done, len(files))
        clip.provenance = read(Path(clip.path), anchors)
    if files:
        hook("provenance", len(files), len(files))


def from_store(store: dict[str, Any], trust_list: bool = False) -> Provenance:
    """A Provenance from c2pa's manifest store JSON (`Reader.json()`); `trust_list`:
    c2pa was given trust anchors (only the reason's wording depends on it)."""
    manifests = store.get("manifests") or {}
    active = manifests.get(store.get("active_manifest") or "")
    if not isinstance(active, dict):
        return Provenance("invalid", "a manifest store without an active manifest")
    failures = _failures(store)
    said = store.get("validation_state")
    if said == "Trusted" and not failures:
        state, reason = "valid", "signed; the signer is trusted"
    elif said in ("Valid", "Trusted") and set(failures) <= UNTRUSTED_CODES:
        state = "untrusted"
        reason = (
            "the manifest validates, but the signer is not on the trust list given"
            if trust_list
            else "the manifest validates, but the signer is on no trust list given"
        )
    else:
        state = "invalid"
        shown = [f for f in failures if f not in UNTRUSTED_CODES] or [str(said)]
        reason = f"the manifest does not validate: {', '.join(shown)}"
    sig = active.get("signature_info") or {}
    signer = " / ".join(str(sig[k]) for k in ("issuer", "common_name") if sig.get(k)) or None
    return Provenance(
        state=state,
        reason=reason,
        claim_generator=_claim_generator(active),
        signer=signer,
        signed_at=str(sig["time"]) if sig.get("time") else None,
        actions=_actions(active),
        ingredients=tuple(
            Ingredient(
                _str(i.get("title")),
                _str(i.get("format")),
                _str(i.get("relationship")),
                bool(i.get("active_manifest")),
            )
            for i in active.get("ingredients") or ()
            if isinstance(i, dict)
        ),
        failures=tuple(failures),
    )


def _failures(store: dict[str, Any]) -> list[str]:
    """Every failure code in the store's validation results (the active manifest's and
    its ingredients' deltas), sorted and each once."""
    codes: set[str] = set()
    results = store.get("validation_results")
    if isinstance(results, dict):
        blocks = [results.get("activeManifest") or {}]
        blocks += [d.get("validationDeltas") or {} for d in results.get("ingredientDeltas") or ()]
        for block in blocks:
            codes.update(str(s.get("code")) for s in block.get("failure") or () if s.get("code"))
    else:  # older stores: one flat list, failures only
        codes.update(str(s.get("code")) for s in store.get("validation_status") or ())
    return sorted(codes)


def _claim_generator(manifest: dict[str, Any]) -> str | None:
    if manifest.get("claim_generator"):
        return str(manifest["claim_generator"])
    infos = manifest.get("claim_generator_info") or ()
    names = [_agent(i) for i in infos]
    return ", ".join(n for n in names if n) or None


def _actions(manifest: dict[str, Any]) -> tuple[Action, ...]:
    out: list[Action] = []
    for assertion in manifest.get("assertions") or ():
        label = str(assertion.get("label", ""))
        if label not in ("c2pa.actions", "c2pa.actions.v2"):
            continue
        for a in (assertion.get("data") or {}).get("actions") or ():
            source = _str(a.get("digitalSourceType"))
            out.append(
                Action(
                    str(a.get("action", "")),
                    _agent(a.get("softwareAgent")),
                    source.rsplit("/", 1)[-1] if source else None,
                )
            )
    return tuple(out)


def _agent(value: Any) -> str | None:
    """A softwareAgent or claim_generator_info entry ("Sora" or {"name", "version"})."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict) and value.get("name"):
        version = value.get("version")
        return f"{value['name']} {version}" if version else str(value["name"])
    return None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]


def findings(clips: list[ClipResult], required: bool) -> list[Finding]:
    """Provenance findings, one per clip at most, in clip order.

    An invalid manifest (the file changed after signing) always warns; with
    `required` (--require-provenance) it fails, and so does a missing or unreadable
    one. An untrusted signer is not a finding: drift-audit ships no trust list.

    Args:
        clips: the report's ClipResults (their `provenance` is read already).
        required: --require-provenance.
    """
    out: list[Finding] = []
    for clip in clips:
        p = clip.provenance
        if p is None or p.state in ("valid", "untrusted"):
            continue
        if p.state == "invalid":
            severity = "fail" if required else "warn"
        elif required:
            severity = "fail"
        else:
            continue
        # Undecodable bytes of a file name as \\xNN: the message must encode as UTF-8.
        raw = Path(clip.path).name.encode("utf-8", "surrogateescape")
        name = raw.decode("utf-8", "backslashreplace")
        message = f"clip {clip.index} ({name}): provenance {p.state}: {p.reason}"
        out.append(Finding("provenance", severity, None, clip.index, message))
    return out
