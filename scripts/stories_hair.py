"""Hair stories for `make eval`: long hair recoloured between clips, with controls.

The photos in ../shared/media are of men with short hair, so long hair is painted
onto their head sprites (`stories.cut_sprite`): a cap over the skull and two
curtains that frame the face and fall over the shoulders onto the coat, textured
with strands, the face itself left as photographed. A generator drifting between
clips recolours such hair (auburn to near-black, brown to blond); the controls keep
the hair and change what must not count as a hair change: the light on the whole
frame, the backdrop seen around the hair, the coat under it.

Imported at the end of scripts/stories.py, which registers these builders in STORIES;
so this module reaches scripts.stories only when a story is built (`_st`), never
while it is imported. Every story's truth marks attribute_drift as labelled
(`labelled`): there, an attribute_drift that is not expected is a false finding, not
an allowed one.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

Filter = Callable[[np.ndarray], np.ndarray]

AUBURN = (27.0, 24.0, 28.0)  # Lab: long red-brown hair (the 26, 23, 27)
NEAR_BLACK = (26.0, 3.0, 5.0)  # Lab: the same hair dyed near-black (28, 4, 6)
BROWN = (32.0, 7.0, 14.0)  # Lab: mid brown hair
BLOND = (70.0, 5.0, 30.0)  # Lab: golden blond
PERSON = "faces/biden/biden2.jpg"  # a frontal, evenly lit face
WHO = "biden"


def _st() -> ModuleType:
    from scripts import stories

    return stories


@functools.cache
def _truth_class() -> type[Any]:
    @dataclass
    class HairTruth(_st().Truth):  # type: ignore[misc, name-defined]
        """A story's truth in which attribute_drift is labelled: expected where it is
        expected, false anywhere else."""

        def to_json(self) -> dict[str, Any]:
            return super().to_json() | {"labelled": ["attribute_drift"]}  # type: ignore[no-any-return]

    return HairTruth


def hair_truth(name: str, tests: str, notes: str) -> Any:
    """A Truth (verdict pass: attribute drift warns) with attribute_drift labelled."""
    return _truth_class()(name, tests, notes, "pass")


def long_hair(sprite: Any, lab: tuple[float, float, float], seed: int = 7) -> Any:
    """The head sprite with long hair painted on (attribute_edits.long_hair_mask: a cap
    over the skull, curtains beside the face down over the shoulders), streaked along
    its length; the canvas grows to hold it. The face stays as photographed."""
    from scripts.attribute_edits import hair_texture, long_hair_mask

    fx0, fy0, fx1, fy1 = sprite.face
    w, h = fx1 - fx0, fy1 - fy0
    cx = (fx0 + fx1) / 2
    height, width = sprite.rgba.shape[:2]
    left = min(0, math.floor(cx - 1.2 * w))
    right = max(width, math.ceil(cx + 1.2 * w))
    bottom = max(height, math.ceil(fy1 + 1.45 * h))
    rgba = np.zeros((bottom, right - left, 4), np.float32)
    rgba[:height, -left : -left + width] = sprite.rgba
    face = np.array([fx0 - left, fy0, fx1 - left, fy1], np.float64)
    hair = long_hair_mask(rgba.shape[:2], face)
    rgb = hair_texture(rgba.shape[:2], np.array(lab), seed)
    m = hair[..., None]
    rgba[..., :3] = rgba[..., :3] * (1 - m) + rgb * m
    rgba[..., 3] = np.maximum(rgba[..., 3], hair)
    return _st().Sprite(rgba, face)


def relight(gains: tuple[float, float, float]) -> Filter:
    """A filter: the whole frame under another light (attribute_edits.relight)."""
    from scripts.attribute_edits import relight as relit

    return lambda rgb: relit(rgb, gains)


WARM_DIM = relight((0.75, 0.6, 0.42))  # tungsten, a stop darker (as attribute_edits)
COOL_BRIGHT = relight((1.1, 1.25, 1.5))  # shade light, brighter


def _hair_story(
    out: Path,
    truth: Any,
    hair: list[tuple[float, float, float]],
    costume: list[tuple[int, int, int]] | None = None,
    backdrops: list[tuple[tuple[int, int, int], tuple[int, int, int]]] | None = None,
    styles: list[Filter | None] | None = None,
) -> Any:
    """Three clips of the same person standing in a composed shot, clip k with hair
    colour hair[k], coat costume[k], backdrop backdrops[k] and filter styles[k]."""
    st = _st()
    _, sprite = st.photo_sprite(PERSON)
    for k in range(3):
        actor = st.still(
            WHO,
            long_hair(sprite, hair[k]),
            320,
            130,
            110,
            (costume or [st.GREY] * 3)[k],
            phase=0.1 * k,
        )
        top, bottom = (backdrops or [((150, 160, 170), (200, 195, 185))] * 3)[k]
        scene = st.Scene([actor], 2.0, top, bottom)
        style = (styles or [None] * 3)[k]
        st.scene_clip(out / f"clip{k + 1}.mp4", [scene], truth, k + 1, seed=900 + k, style=style)
    return truth


def story_hair_red_black(out: Path) -> Any:
    t = hair_truth(
        "hair_red_black",
        "long auburn hair turns near-black in clip 3",
        "Biden with long auburn hair over the shoulders in clips 1-2; in clip 3 the same "
        "hair is near-black (ΔE2000 about 16, under the plain hair threshold): "
        "attribute_drift on clip 3, for the hair, not for the coat the hair lies on.",
    )
    t.expect("attribute_drift", 3, WHO)
    return _hair_story(out, t, [AUBURN, AUBURN, NEAR_BLACK])


def story_hair_red_relit(out: Path) -> Any:
    t = hair_truth(
        "hair_red_relit",
        "control: the same auburn hair in clip 3 under warm, dimmer light",
        "Nothing about the person changes; clip 3 is lit by tungsten a stop darker. "
        "The hair reads darker and its hue turns with the skin's: no attribute_drift.",
    )
    return _hair_story(out, t, [AUBURN] * 3, styles=[None, None, WARM_DIM])


def story_hair_brown_blond(out: Path) -> Any:
    t = hair_truth(
        "hair_brown_blond",
        "long brown hair turns blond in clip 3",
        "Biden with long brown hair in clips 1-2, blond in clip 3: attribute_drift on clip 3.",
    )
    t.expect("attribute_drift", 3, WHO)
    return _hair_story(out, t, [BROWN, BROWN, BLOND])


def story_hair_brown_relit(out: Path) -> Any:
    t = hair_truth(
        "hair_brown_relit",
        "control: the same brown hair in clip 3 under cool, brighter light",
        "Nothing about the person changes; clip 3 is in bluish shade light, brighter: "
        "no attribute_drift.",
    )
    return _hair_story(out, t, [BROWN] * 3, styles=[None, None, COOL_BRIGHT])


def story_long_hair_coat(out: Path) -> Any:
    t = hair_truth(
        "long_hair_coat",
        "long auburn hair over a coat that turns from grey to red in clip 3",
        "The hair stays; the coat under it changes colour in clip 3: attribute_drift on "
        "clip 3 (upper clothing).",
    )
    t.expect("attribute_drift", 3, WHO)
    grey, red = _st().GREY, _st().RED
    return _hair_story(out, t, [AUBURN] * 3, costume=[grey, grey, red])


def story_long_hair_backdrop(out: Path) -> Any:
    t = hair_truth(
        "long_hair_backdrop",
        "control: long auburn hair in front of a backdrop that turns from navy to green",
        "Only the painted backdrop around the head changes in clip 3; what shows "
        "through and around the hair is not hair: no attribute_drift.",
    )
    navy, green = ((40, 50, 110), (70, 80, 130)), ((40, 110, 60), (90, 140, 90))
    return _hair_story(out, t, [AUBURN] * 3, backdrops=[navy, navy, green])


STORIES: dict[str, Callable[[Path], Any]] = {
    "hair_red_black": story_hair_red_black,
    "hair_red_relit": story_hair_red_relit,
    "hair_brown_blond": story_hair_brown_blond,
    "hair_brown_relit": story_hair_brown_relit,
    "long_hair_coat": story_long_hair_coat,
    "long_hair_backdrop": story_long_hair_backdrop,
}
