"""identity_swap, and what is not one: a character absent from a clip and a newcomer
there are paired; a newcomer in the absent one's role (`roles`) whose face does not
match, on good evidence, is a swap; one in a role of its own is a change of cast.

Pure functions over characters, tracks and clips: no models, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.optimize import linear_sum_assignment

from drift_audit.identity import evidence as ev
from drift_audit.identity.characters import WEAK_EVIDENCE, Metric, label_of, tracks_of
from drift_audit.identity.roles import Role, role, where
from drift_audit.script import Script, ScriptEntry
from drift_audit.types import Character, ClipResult, Finding, Track


@dataclass(frozen=True)
class Gone:
    """A role without its face in a clip: a character seen before and absent now, or
    a cast member the script expects there and no character matches."""

    label: str  # how messages name it: "C1 (obama)", or "obama"
    character: Character | None  # None: a cast member never found
    face: np.ndarray  # (d,) what its face is: its tracks' centroid, or its reference
    seen: str  # e.g. "seen in clip 1, 2", or "not found in any clip"
    slot: str | None = None  # the script's slot phrase when the script expects it here
    name: str | None = None  # its cast name


@dataclass
class Swaps:
    """The swap findings, and what they account for (so no other finding repeats them)."""

    findings: list[Finding] = field(default_factory=list)
    slots: set[tuple[int, str]] = field(default_factory=set)  # (clip, cast name) filled
    fillers: set[tuple[int, str]] = field(default_factory=set)  # (clip, character id)


def swaps(
    leads: list[Character],
    tracks: list[Track],
    clips: dict[int, ClipResult],
    metric: Metric,
    cast: dict[str, np.ndarray],
    script: Script | None = None,
) -> Swaps:
    """identity_swap (fail), uncertain_identity (warn) and cast_change (info) findings.

    In each clip, the roles without their face (`Gone`: leads seen in earlier clips
    and absent here; in a clip the script names, only the cast members it expects
    here and no character matches, since the script says who belongs) are paired with
    the newcomers (leads first seen here; for a script's slot, any lead here that is
    no cast member) by one assignment that prefers role evidence, then similarity.

    Args:
        leads: the characters that take part (extras do not, unless --extras-fail).
        tracks: every track (the flat list Character.track_ids index).
        clips: the readable clips by index.
        metric: the embedder's similarity and thresholds.
        cast: name -> reference embedding.
        script: expected cast per clip, or None.
    """
    out = Swaps()
    first = {ch.id: min(ch.clip_similarity) for ch in leads}
    for k in sorted(clips):
        here = [ch for ch in leads if k in ch.clip_similarity]
        expected = script.expected(k, clips[k].path) if script else None
        gone = _gone(leads, tracks, metric, cast, k, first, here, expected, script)
        if not gone:
            continue
        new = [ch for ch in here if first[ch.id] == k or (expected and ch.name is None)]
        for g, came, role_of in _pairs(gone, new, first, tracks, clips, metric, k):
            sim = metric.sim(g.face, metric.centroid_of(_in_clip(came, tracks, k)))
            found = _verdict(g, came, role_of, sim, metric, k)
            found = _with_evidence(found, _in_clip(came, tracks, k), clips[k])
            out.findings.append(found)
            if g.slot and g.name and found.kind != "cast_change":
                out.slots.add((k, g.name))
                out.fillers.add((k, came.id))
    return out


def _gone(
    leads: list[Character],
    tracks: list[Track],
    metric: Metric,
    cast: dict[str, np.ndarray],
    k: int,
    first: dict[str, int],
    here: list[Character],
    expected: tuple[frozenset[str], list[ScriptEntry]] | None,
    script: Script | None,
) -> list[Gone]:
    """The roles without their face in clip k."""
    if expected is None:
        absent = [ch for ch in leads if first[ch.id] < k and k not in ch.clip_similarity]
        return [_gone_character(ch, tracks, metric, k) for ch in absent]
    names, entries = expected
    present = {ch.name for ch in here if ch.name}
    assert script is not None
    lines = " and ".join(script.where(e) for e in entries)
    by_name = {ch.name: ch for ch in leads if ch.name}
    out = []
    for name in sorted(names - present):
        slot = f"the script's slot: {lines} expects {name} here"
        ch = by_name.get(name)
        if ch is not None:
            g = _gone_character(ch, tracks, metric, k)
            out.append(Gone(g.label, ch, g.face, g.seen, slot, name))
        elif name in cast:
            out.append(Gone(name, None, cast[name], "not found in any clip", slot, name))
    return out


def _gone_character(ch: Character, tracks: list[Track], metric: Metric, k: int) -> Gone:
    seen = sorted(ch.clip_similarity)
    return Gone(
        label_of(ch),
        ch,
        metric.centroid_of(tracks_of(ch, tracks)),
        f"seen in clip {', '.join(map(str, seen))}",
        name=ch.name,
    )


def _in_clip(ch: Character, tracks: list[Track], k: int) -> list[Track]:
    return [t for t in tracks_of(ch, tracks) if t.clip == k]


def _pairs(
    gone: list[Gone],
    new: list[Character],
    first: dict[str, int],
    tracks: list[Track],
    clips: dict[int, ClipResult],
    metric: Metric,
    k: int,
) -> list[tuple[Gone, Character, Role]]:
    """One newcomer per role at most: the assignment that maximises role evidence
    first (2 per pair that has it), then face similarity."""
    if not new:
        return []
    roles: list[list[Role | None]] = []
    score = np.full((len(gone), len(new)), -1e6)
    for r, g in enumerate(gone):
        row: list[Role | None] = []
        for c, came in enumerate(new):
            if g.slot is None and first[came.id] != k:
                row.append(None)  # only a script's slot takes a lead seen before
                continue
            if g.slot is not None and came.name is not None:
                row.append(None)  # a cast member is itself, not another's face
                continue
            row.append(_role(g, came, tracks, clips, k))
            face = metric.centroid_of(_in_clip(came, tracks, k))
            score[r, c] = 2.0 * bool(row[-1] and row[-1].taken) + metric.sim(g.face, face)
        roles.append(row)
    rows, cols = linear_sum_assignment(-score)
    out = []
    for r, c in zip(rows, cols, strict=True):
        found = roles[r][c]
        if found is not None:
            out.append((gone[r], new[c], found))
    return out


def _role(
    g: Gone, came: Character, tracks: list[Track], clips: dict[int, ClipResult], k: int
) -> Role:
    """Role evidence between a role without its face and a newcomer in clip k, from
    where and how the role was last seen before k."""
    came_at = where(_in_clip(came, tracks, k), clips[k])
    gone_at = gone_looks = None
    if g.character is not None:
        before = [c for c in g.character.clip_similarity if c < k and c in clips]
        if before:
            last = max(before)
            gone_at = where(_in_clip(g.character, tracks, last), clips[last])
            gone_looks = g.character.attributes.get(last)
    return role(gone_at, came_at, gone_looks, came.attributes.get(k), g.slot)


def _verdict(g: Gone, came: Character, found: Role, sim: float, metric: Metric, k: int) -> Finding:
    """The finding about one pair: a swap (fail) only in the role, below the bar for
    "different", on good evidence; else uncertain (warn) or a change of cast (info)."""
    thin = [
        f"{who}'s best face has quality {q:.2f}"
        for who, q in (
            (came.id, came.evidence.get(k, 1.0)),
            (g.label, max(g.character.evidence.values()) if g.character else 1.0),
        )
        if q < WEAK_EVIDENCE
    ]
    bar = metric.different_below
    where = f"{g.label} ({g.seen}) is absent from clip {k}"
    character = g.character.id if g.character else None
    if found.taken and sim < bar and not thin:
        v, t = ev.two(sim, bar)
        message = (
            f"{where}, and {label_of(came)} takes its role there ({found.reasons}) with another "
            f"face: similarity {v} to {g.label}, below {t} (the threshold "
            f"{metric.threshold:.2f} less the margin {metric.lower_margin:.2f})"
        )
        return Finding("identity_swap", "fail", character, k, message, value=sim, threshold=bar)
    if found.taken or sim >= bar:
        threshold = bar if thin and sim < bar else metric.threshold
        v, t = ev.two(sim, threshold)
        why = (
            f"the evidence is thin ({'; '.join(thin)}; similarity {v}, below {t})"
            if threshold == bar
            else f"its face may be the same person (similarity {v}, threshold {t})"
        )
        role_text = f"takes its role there ({found.reasons})" if found.taken else "appears there"
        message = (
            f"{where}, and {label_of(came)} {role_text}, but {why}: a swap, or one face the "
            "embedder reads apart"
        )
        return Finding(
            "uncertain_identity",
            "warn",
            character,
            k,
            message,
            value=sim,
            threshold=threshold,
        )
    v, t = ev.two(sim, bar)
    message = (
        f"{where}, and a new identity {label_of(came)} appears there in a role of its own "
        f"({found.against or 'no role evidence: another place, or unknown clothes'}): a "
        f"change of cast, not a swap (similarity {v}, below {t})"
    )
    return Finding("cast_change", "info", character, k, message, value=sim, threshold=bar)


def _with_evidence(f: Finding, tracks: list[Track], clip: ClipResult) -> Finding:
    return replace(f, evidence=ev.of_tracks(tracks, clip))
