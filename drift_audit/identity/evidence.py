"""Where a finding can be seen: its clip's file, shot, span, and best face (`Evidence`).

Pure functions over tracks and clips: no models, no I/O.
"""

from __future__ import annotations

import numpy as np

from drift_audit.types import CROP_SCALE, CROP_SIZE, ClipResult, Evidence, Track

Box = tuple[float, float, float, float]


def best_face(track: Track) -> tuple[int, Box]:
    """(frame, xyxy box) of the detection whose crop is the track's best (`crops[0]`).

    The track keeps its best crops, not which detection each came from; a crop's
    landmarks are its detection's landmarks mapped into the crop (`faces.crop`), so
    the detection whose landmarks map closest onto the best crop's is that one. A
    track without crops gives its most confident, largest face.
    """
    faces = track.faces
    if len(track.crops) and len(faces):
        boxes = faces.xyxy.astype(np.float64)  # (n, 4)
        centre = (boxes[:, :2] + boxes[:, 2:]) / 2  # (n, 2)
        scale = CROP_SIZE / (CROP_SCALE * (boxes[:, 2:] - boxes[:, :2]).max(axis=1))  # (n,)
        mapped = (
            faces.landmarks * scale[:, None, None]
            + (CROP_SIZE / 2 - scale[:, None] * centre)[:, None, :]
        )  # (n, 5, 2) crop pixels
        error = np.abs(mapped - track.crops.landmarks[0]).max(axis=(1, 2))
        i = int(np.argmin(error))
    else:
        i = int(np.argmax(faces.score * faces.size))
    x0, y0, x1, y1 = (round(float(v), 1) for v in faces.xyxy[i])
    return int(faces.frame[i]), (x0, y0, x1, y1)


def _quality(t: Track) -> float:
    return float(t.crop_quality[0]) if len(t.crop_quality) else 0.0


def of_tracks(tracks: list[Track], clip: ClipResult) -> Evidence:
    """The best face among `tracks` (all in `clip`): its shot, the span the tracks
    cover in that shot, and its frame and box.

    Raises:
        ValueError: no tracks.
    """
    if not tracks:
        raise ValueError("evidence needs at least one track")
    best = max(tracks, key=_quality)  # the first of equals: list order
    in_shot = [t for t in tracks if t.shot == best.shot]
    start = min(t.first_frame for t in in_shot)
    end = max(t.last_frame for t in in_shot)
    frame, box = best_face(best)
    return Evidence(
        clip.path,
        best.shot,
        clip.time_of(start),
        clip.time_of(end),
        start,
        end,
        frame,
        box,
    )


def of_clip(clip: ClipResult, face: Evidence | None = None) -> Evidence:
    """The whole clip (no one shot), optionally pointing at a face elsewhere found
    (e.g. the best match to a missing cast member)."""
    end = max(clip.last_frame, 0)
    return Evidence(
        clip.path,
        None,
        clip.time_of(0),
        clip.time_of(end),
        0,
        end,
        None if face is None else face.frame,
        None if face is None else face.box,
    )


def of_frame(clip: ClipResult, frame: int) -> Evidence:
    """One frame: the shot it lies in, starting and ending there."""
    shot = next((s.index for s in clip.shots if s.start_frame <= frame <= s.end_frame), None)
    t = clip.time_of(frame)
    return Evidence(clip.path, shot, t, t, frame, frame, frame, None)


def timecode(seconds: float) -> str:
    """HH:MM:SS.mmm, rounded to the millisecond (never negative)."""
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def two(value: float, threshold: float) -> tuple[str, str]:
    """`value` and `threshold` printed so that the text says what the numbers do: two
    decimals, or as many more (up to four) as it takes for a value below the threshold
    to print below it (0.3396 against 0.34 is "0.3396" and "0.3400", not "0.34" twice)."""
    for digits in (2, 3, 4):
        v, t = f"{value:.{digits}f}", f"{threshold:.{digits}f}"
        if (value < threshold) == (float(v) < float(t)):
            return v, t
    return v, t
