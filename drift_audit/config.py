"""Every tunable default and its range check, in one frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from drift_audit.decode.registry import DECODERS
from drift_audit.errors import ConfigError
from drift_audit.identity.embedders import registry as embedders
from drift_audit.script import Script

EMBEDDERS = embedders.CHOICES  # one table names the embedders: identity/embedders/registry.py
DEVICES = ("auto", "cpu", "cuda")
FAIL_ON = ("fail", "warn", "never")
EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class CastMember:
    """A named reference image to audit a character against."""

    name: str
    image: Path


@dataclass(frozen=True)
class AuditConfig:
    """Settings of one audit run. Validated once, on construction.

    Attributes:
        sample_fps: frames per second handed to face detection.
        shot_threshold: mean absolute CIELAB difference (8-bit units) of 32x18 thumbnails that
            counts as a cut.
        min_shot_frames: a cut closer than this to the previous one is a glitch, not a shot.
        min_face_px: smallest face side, in pixels of the original frame, that is detected.
        detect_confidence: MTCNN probability a face must reach.
        detect_max_side: the largest level of the detection pyramid is at most this long;
            on frames longer than detect_max_side * min_face_px / 12 the smallest face
            found grows in proportion, to 12 * long side / detect_max_side (a 4K
            frame, 3840 px wide, at the defaults: 48 px).
        detect_batch: frames per MTCNN full-frame call.
        redetect_s: seconds between full-frame detections inside a shot. The sampled
            frames between them look for faces only around the live tracks (MTCNN's
            last two stages, `MTCNNDetector.refine`); a new face is found at most this
            late. 0: every sampled frame gets a full-frame detection.
        faces_per_track: the best K faces of each track are embedded.
        embed_batch: faces per embedder call.
        embedder: "auto", "dlib" or "facenet".
        weights: a local facenet weights file (skips the download).
        threshold: overrides the embedder's calibrated same-person similarity.
        decoder: frame source backend.
        device: "auto", "cpu" or "cuda".
        fail_on: the lowest severity that makes the run fail ("never" disables).
        fail_on_kind: (finding kind, fail_on) pairs: the same rule for that kind's
            findings, in place of `fail_on` (the config file's `[fail_on]` table).
        extras_fail: extras (small or blurred characters) raise fail findings like
            leads, and take part in swaps.
        cast: named reference images.
        clip_timeout_s: per-clip time budget (0 = none); enforced by running clips in
            worker processes that are killed when they overrun.
        jobs: clips analysed in parallel, each in its own worker process.
        lanes: clips in flight side by side in one process (threads sharing the models:
            the next clip's decode and detection beside this one's); 1 analyses them in
            turn, the next clip's shot pass alone running ahead.
        executor: "local" (this machine: lanes, or worker processes) or "ray" (tasks on
            Ray actors: `run.ray`).
        ray_address: the Ray cluster to join ("HOST:PORT", "ray://HOST:PORT", "auto");
            None starts a local one.
        threads: torch threads per process on the CPU. One is the default: measured
            here, MTCNN with two threads is 1.6x faster on an idle 2-core machine but
            up to 10x slower, with 3-9x the memory, when another process holds a core;
            decoding runs in its own thread beside detection anyway.
        cache_dir: where per-clip analyses are cached (None: the user cache folder).
        use_cache: read and write the cache.
        sequence_fps: the frame rate of an image sequence (`--sequence`) and of a still.
        require_provenance: a clip without a valid C2PA manifest (missing, invalid,
            unreadable) is a fail finding (drift_audit.provenance).
        trust_anchors: a PEM file of the certificate authorities whose C2PA signers
            are trusted (None: none is; the state is then at best "untrusted").
        script: which cast members each clip is expected to show (`--script`); every
            name in it must be a `cast` name.
        tracks_dir: where `--tracks` writes each clip's face tracks in MOTChallenge
            text form (None: not written); an existing path must be a folder.
    """

    sample_fps: float = 5.0
    shot_threshold: float = 8.0
    min_shot_frames: int = 3
    min_face_px: int = 32
    detect_confidence: float = 0.92
    detect_max_side: int = 960
    detect_batch: int = 8
    redetect_s: float = 1.0
    faces_per_track: int = 5
    embed_batch: int = 32
    embedder: str = "auto"
    weights: Path | None = None
    threshold: float | None = None
    decoder: str = "auto"
    device: str = "auto"
    fail_on: str = "fail"
    fail_on_kind: tuple[tuple[str, str], ...] = ()
    extras_fail: bool = False
    cast: tuple[CastMember, ...] = field(default_factory=tuple)
    clip_timeout_s: float = 0.0
    jobs: int = 1
    lanes: int = 2
    executor: str = "local"
    ray_address: str | None = None
    threads: int = 1
    cache_dir: Path | None = None
    use_cache: bool = True
    sequence_fps: float = 24.0
    require_provenance: bool = False
    trust_anchors: Path | None = None
    script: Script | None = None
    tracks_dir: Path | None = None

    def __post_init__(self) -> None:
        checks: list[tuple[bool, str]] = [
            (
                0.1 <= self.sample_fps <= 120,
                f"--sample-fps must be in 0.1..120, got {self.sample_fps}",
            ),
            (
                1 <= self.shot_threshold <= 255,
                f"shot threshold must be in 1..255, got {self.shot_threshold}",
            ),
            (
                1 <= self.min_shot_frames <= 100,
                f"min shot frames must be in 1..100, got {self.min_shot_frames}",
            ),
            (
                8 <= self.min_face_px <= 2000,
                f"--min-face must be in 8..2000 px, got {self.min_face_px}",
            ),
            (
                0.5 <= self.detect_confidence < 1,
                f"--confidence must be in 0.5..1, got {self.detect_confidence}",
            ),
            (
                160 <= self.detect_max_side <= 8192,
                f"detect max side must be in 160..8192, got {self.detect_max_side}",
            ),
            (
                1 <= self.detect_batch <= 256,
                f"detect batch must be in 1..256, got {self.detect_batch}",
            ),
            (
                0 <= self.redetect_s <= 60,
                f"--redetect must be in 0..60 s, got {self.redetect_s}",
            ),
            (
                1 <= self.faces_per_track <= 100,
                f"--faces-per-track must be in 1..100, got {self.faces_per_track}",
            ),
            (
                1 <= self.embed_batch <= 1024,
                f"--batch-size must be in 1..1024, got {self.embed_batch}",
            ),
            (
                self.embedder in EMBEDDERS,
                f"--embedder must be one of {', '.join(EMBEDDERS)}, got {self.embedder!r}",
            ),
            (
                self.decoder in DECODERS,
                f"--decoder must be one of {', '.join(DECODERS)}, got {self.decoder!r}",
            ),
            (
                self.device in DEVICES,
                f"--device must be one of {', '.join(DEVICES)}, got {self.device!r}",
            ),
            (
                self.fail_on in FAIL_ON,
                f"--fail-on must be one of {', '.join(FAIL_ON)}, got {self.fail_on!r}",
            ),
            (
                self.threshold is None or -1 < self.threshold < 1,
                f"--threshold must be between -1 and 1 (exclusive), got {self.threshold}",
            ),
            (self.clip_timeout_s >= 0, f"--clip-timeout must be >= 0, got {self.clip_timeout_s}"),
            (1 <= self.jobs <= 64, f"--jobs must be in 1..64, got {self.jobs}"),
            (1 <= self.lanes <= 8, f"--lanes must be in 1..8, got {self.lanes}"),
            (
                self.executor in EXECUTORS,
                f"--executor must be one of {', '.join(EXECUTORS)}, got {self.executor!r}",
            ),
            (
                self.ray_address is None or self.executor == "ray",
                "--ray-address needs --executor ray",
            ),
            (
                self.ray_address is None or bool(self.ray_address.strip()),
                "--ray-address must not be empty",
            ),
            (1 <= self.threads <= 64, f"--threads must be in 1..64, got {self.threads}"),
            (
                0.1 <= self.sequence_fps <= 240,
                f"--fps must be in 0.1..240, got {self.sequence_fps}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        for kind, rule in self.fail_on_kind:
            if rule not in FAIL_ON:
                raise ConfigError(
                    f"fail-on for {kind} must be one of {', '.join(FAIL_ON)}, got {rule!r}"
                )
        names = [member.name for member in self.cast]
        if len(set(names)) != len(names):
            raise ConfigError("--cast names must be unique")
        if self.weights is not None and self.embedder == "dlib":
            raise ConfigError("--weights is for the facenet embedder, not dlib")
        self._check_script(set(names))
        if (
            self.tracks_dir is not None
            and self.tracks_dir.exists()
            and not self.tracks_dir.is_dir()
        ):
            raise ConfigError(f"--tracks {self.tracks_dir}: is not a folder")

    def _check_script(self, cast: set[str]) -> None:
        """Every name the script expects must be a --cast name: only cast members are
        recognised by face."""
        if self.script is None:
            return
        for name, entry in sorted(self.script.names.items()):
            if name not in cast:
                known = (
                    f"the --cast names are {', '.join(sorted(cast))}"
                    if cast
                    else ("no --cast was given")
                )
                raise ConfigError(
                    f"{self.script.where(entry)}: {name!r} is not a --cast name ({known}); "
                    "a script names cast members given with --cast NAME=IMAGE"
                )
