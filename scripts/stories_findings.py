#!/usr/bin/env python3
"""The stories of `make eval` that test what a finding means (issue 12, items 1-2):
a change of cast between scenes is not a swap, a new face in a continuing costume is,
and a script says who belongs in which clip.

Registered into `scripts.stories.STORIES` by the last lines of scripts/stories.py.
The helpers are imported from it when a story is built (not when this module is
imported: stories.py imports this module at its end).

A story's truth may carry "options": the audit's cast ({name: image under
../shared/media}) and script (a file in the story folder); scripts/eval.py passes
them to the audit.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any


def story_cast_change_scenes(out: Path) -> Any:
    from scripts import stories as s

    t = s.Truth(
        "cast_change_scenes",
        "a cut to another scene with another cast standing where the first one stood",
        "Clip 1: Obama (navy, left) and Biden (red, right) in a grey room. Clip 2, "
        "another scene (a warm backdrop): Alex Lacamoire (green) at the left and "
        "Lin-Manuel Miranda (ochre) at the right, where Obama and Biden stood, at the "
        "same size. Clip 3: back to the first scene and its cast. Same places, other "
        "clothes, other faces: a change of cast (cast_change, info) for Obama's and "
        "Biden's characters in clip 2, no swap, no fail.",
        "pass",
    )
    _, o1 = s.photo_sprite("faces/obama/obama1.jpg")
    _, o2 = s.photo_sprite("faces/obama/obama2.jpg")
    _, b1 = s.photo_sprite("faces/biden/biden1.jpg")
    _, b2 = s.photo_sprite("faces/biden/biden2.jpg")
    _, a2 = s.photo_sprite("faces/alex_lacamoire/alex2.jpg")
    _, m1 = s.photo_sprite("faces/lin_manuel_miranda/lmm1.png")
    room = (70, 80, 95), (150, 140, 120)
    scenes = [
        s.Scene(
            [
                s.still("obama", o1, 200, 150, 100, s.NAVY, phase=0.1),
                s.still("biden", b1, 440, 150, 100, s.RED, phase=0.5),
            ],
            2.5,
            *room,
        ),
        s.Scene(
            [
                s.still("alex_lacamoire", a2, 200, 150, 100, s.GREEN, phase=0.2),
                s.still("lin_manuel_miranda", m1, 440, 150, 100, s.OCHRE, phase=0.6),
            ],
            2.5,
            (120, 80, 50),
            (200, 170, 120),
        ),
        s.Scene(
            [
                s.still("obama", o2, 200, 150, 100, s.NAVY, phase=0.3),
                s.still("biden", b2, 440, 150, 100, s.RED, phase=0.7),
            ],
            2.5,
            *room,
        ),
    ]
    for k, scene in enumerate(scenes, start=1):
        s.scene_clip(out / f"clip{k}.mp4", [scene], t, k, seed=1300 + k)
    t.expect("cast_change", 2, "obama")
    t.expect("cast_change", 2, "biden")
    return t


def story_swap_clothing(out: Path) -> Any:
    from scripts import stories as s

    t = s.Truth(
        "swap_clothing",
        "a new face in the navy costume, standing elsewhere: the clothes carry the role",
        "Clips 1-2: Obama (navy, left) and Biden (red, right). Clip 3 is another shot: "
        "Biden moves to the left, and the navy costume comes back on the right on "
        "Lin-Manuel Miranda. Obama's place is not kept, his clothes are: "
        "identity_swap on clip 3 (Obama's character); nothing on Biden.",
        "fail",
    )
    _, o1 = s.photo_sprite("faces/obama/obama1.jpg")
    _, o2 = s.photo_sprite("faces/obama/obama2.jpg")
    _, b1 = s.photo_sprite("faces/biden/biden1.jpg")
    _, b2 = s.photo_sprite("faces/biden/biden2.jpg")
    _, m1 = s.photo_sprite("faces/lin_manuel_miranda/lmm1.png")
    scenes = [
        s.Scene(
            [
                s.still("obama", o1, 200, 150, 100, s.NAVY, phase=0.1),
                s.still("biden", b1, 440, 150, 100, s.RED, phase=0.5),
            ],
            2.5,
        ),
        s.Scene(
            [
                s.still("obama", o2, 210, 155, 100, s.NAVY, phase=0.2),
                s.still("biden", b2, 440, 150, 100, s.RED, phase=0.6),
            ],
            2.5,
        ),
        s.Scene(
            [
                s.still("biden", b1, 180, 150, 100, s.RED, phase=0.4),
                s.still("lin_manuel_miranda", m1, 470, 165, 100, s.NAVY, phase=0.7),
            ],
            2.5,
            (60, 70, 60),
            (140, 150, 120),
        ),
    ]
    for k, scene in enumerate(scenes, start=1):
        s.scene_clip(out / f"clip{k}.mp4", [scene], t, k, seed=1400 + k)
    t.expect("identity_swap", 3, "obama")
    t.allow("identity_drift", 3, "obama")
    t.allow("uncertain_identity", 3, "obama")
    return t


SCRIPT = """clip,cast
# who belongs where: clip 2 is Biden's alone, clip 3 Obama's
1,obama
clip2.mp4,biden
3,obama
clip4*.mp4,obama
"""


def story_script_cast(out: Path) -> Any:
    from scripts import stories as s

    t = s.Truth(
        "script_cast",
        "a script of expected casts: Obama in clips 1, 3, 4; Biden in clip 2 only",
        "With --cast obama=obama3.jpg --cast biden=biden1.jpg and script.csv: clip 1 "
        "shows Obama; clip 2 Biden (Obama is not expected there: no "
        "missing_character); clip 3 Obama and, unscripted, Biden (unexpected_character); "
        "clip 4 puts Alex Lacamoire in Obama's navy suit and place, where the script "
        "expects Obama: identity_swap on clip 4 (Obama's character).",
        "fail",
    )
    _, o1 = s.photo_sprite("faces/obama/obama1.jpg")
    _, o2 = s.photo_sprite("faces/obama/obama2.jpg")
    _, b2 = s.photo_sprite("faces/biden/biden2.jpg")
    _, a2 = s.photo_sprite("faces/alex_lacamoire/alex2.jpg")
    scenes = [
        s.Scene([s.still("obama", o1, 320, 150, 110, s.NAVY, phase=0.1)], 2.5),
        s.Scene([s.still("biden", b2, 320, 150, 110, s.RED, phase=0.3)], 2.5),
        s.Scene(
            [
                s.still("obama", o2, 200, 150, 100, s.NAVY, phase=0.2),
                s.still("biden", b2, 440, 150, 100, s.RED, phase=0.6),
            ],
            2.5,
        ),
        s.Scene([s.still("alex_lacamoire", a2, 320, 150, 110, s.NAVY, phase=0.4)], 2.5),
    ]
    for k, scene in enumerate(scenes, start=1):
        s.scene_clip(out / f"clip{k}.mp4", [scene], t, k, seed=1500 + k)
    (out / "script.csv").write_text(SCRIPT)
    t.expect("unexpected_character", 3, "biden")
    t.expect("identity_swap", 4, "obama")
    t.allow("uncertain_identity", 4, "obama")
    t.allow("missing_character", 4, None)  # the swap's slot: allowed, not needed
    cast = {"obama": "faces/obama/obama3.jpg", "biden": "faces/biden/biden1.jpg"}
    return _with_options(t, {"cast": cast, "script": "script.csv"})


def _with_options(t: Any, options: dict[str, Any]) -> Any:
    """The truth, whose JSON also carries the audit's options."""
    to_json = t.to_json
    t.to_json = lambda: to_json() | {"options": options}
    return t


STORIES_FINDINGS: dict[str, Callable[[Path], Any]] = {
    "cast_change_scenes": story_cast_change_scenes,
    "swap_clothing": story_swap_clothing,
    "script_cast": story_script_cast,
}
