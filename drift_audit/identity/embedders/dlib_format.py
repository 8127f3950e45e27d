"""dlib's ResNet face descriptor (`dlib_face_recognition_resnet_model_v1.dat`) in PyTorch.

The weights are read straight from dlib's own serialization with numpy (no dlib C++
involved), into a torch module that reproduces dlib's `anet_type` network from
examples/dnn_face_recognition_ex.cpp layer for layer:

    input_rgb_image_sized<150>     (x - avg_rgb) / 256, planes in R, G, B order
    con 7x7/2 (32), affine, relu, max_pool 3x3/2
    alevel4..alevel0               ares / ares_down residual units (3x3 cons, affine)
    avg_pool_everything, fc_no_bias 128   (loss_metric leaves the output as is)

Only the network moves to torch. The 150x150 face chip is still cut by dlib itself,
with `dlib.get_face_chip(img, shape, 150, 0.25)`: the same `get_face_chip_details(shape,
150, 0.25)` + `extract_image_chip` that `compute_face_descriptor(img, shape)` runs.

Details of dlib's behaviour this reproduces (from dlib/dnn/layers.h, cpu_dlib.cpp):
  * conv and pooling output sizes are 1 + (n + 2*pad - window) // stride, with the
    padding stored in the file (0 for every strided layer here, 1 for 3x3/1 cons);
  * `affine` is y = x * gamma + beta per channel (inference-time batch norm);
  * `add_prev` adds two tensors of different shapes by zero-padding the smaller one at
    the end of each dimension (channels, rows, columns): in `ares_down` the avg-pooled
    shortcut has half the channels, and at 8x8 -> 3x3 vs 4x4 (and 4x4 -> 1x1 vs 2x2)
    the strided 3x3 con is smaller than the 2x2 avg-pooled shortcut;
  * pooling windows are clipped to the image (average over the pixels inside).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CHIP_SIZE = 150


CHIP_PADDING = 0.25


class DlibFormatError(ValueError):
    """The file is not the dlib network this module knows how to read."""


class _Reader:
    """Reads dlib's serialized primitives from a byte buffer."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise DlibFormatError(f"unexpected end of file at byte {self.pos}")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def read_int(self) -> int:
        """A control byte (low 4 bits: byte count, 0x80: negative), then LE bytes."""
        ctrl = self._take(1)[0]
        size = ctrl & 0x0F
        if size > 8 or ctrl & 0x70:
            raise DlibFormatError(f"bad integer control byte {ctrl:#x} at {self.pos - 1}")
        value = int.from_bytes(self._take(size), "little")
        return -value if ctrl & 0x80 else value

    def read_float(self) -> float:
        """dlib's float_details: int64 mantissa and int16 exponent, value = m * 2**e."""
        if self.data[self.pos] & 0x70:
            raise DlibFormatError(f"old ASCII float encoding at {self.pos}; unsupported")
        mantissa, exponent = self.read_int(), self.read_int()
        special = {32000: math.inf, 32001: -math.inf, 32002: math.nan}
        if exponent in special:
            return special[exponent]
        return math.ldexp(mantissa, exponent)

    def read_bool(self) -> bool:
        ch = self._take(1)
        if ch not in (b"0", b"1"):
            raise DlibFormatError(f"bad bool {ch!r} at {self.pos - 1}")
        return ch == b"1"

    def read_str(self) -> str:
        return self._take(self.read_int()).decode("latin-1")

    def peek_str(self, prefix: bytes) -> bool:
        """Whether a string starting with `prefix` comes next (without consuming it)."""
        saved = self.pos
        try:
            return self._take(self.read_int()).startswith(prefix)
        except DlibFormatError:
            return False
        finally:
            self.pos = saved

    def read_tensor(self) -> np.ndarray:
        """resizable_tensor, version 2: n, k, nr, nc, then raw little-endian float32."""
        version = self.read_int()
        if version != 2:
            raise DlibFormatError(f"tensor version {version} at {self.pos}; expected 2")
        shape = tuple(self.read_int() for _ in range(4))
        count = int(np.prod(shape))
        raw = self._take(4 * count)
        return np.frombuffer(raw, dtype="<f4").reshape(shape).astype(np.float32)

    def read_alias_tensor(self) -> tuple[int, int, int, int]:
        version = self.read_int()
        if version != 1:
            raise DlibFormatError(f"alias_tensor version {version}; expected 1")
        return (self.read_int(), self.read_int(), self.read_int(), self.read_int())


@dataclass
class DlibLayer:
    """One computational layer as stored in the file (bottom of the network first)."""

    kind: str  # con, affine, relu, max_pool, avg_pool, add_prev, fc
    attrs: dict[str, int] = field(default_factory=dict)
    params: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class DlibNet:
    """What the file holds: the input layer's means and the layers, input side first."""

    input_mean: tuple[float, float, float]  # avg_red, avg_green, avg_blue
    input_size: tuple[int, int]
    layers: list[DlibLayer]
    wrapper_versions: list[int]  # add_layer / tag / skip versions, outermost first
    loss: dict[str, float]


def _read_layer(r: _Reader) -> DlibLayer:
    """The layer details of one add_layer (layers.h `serialize(const xxx_&)`)."""
    name = r.read_str()
    if name == "con_4":
        params = r.read_tensor().reshape(-1)
        a = {k: r.read_int() for k in ("filters", "nr", "nc", "stride_y", "stride_x")}
        a |= {k: r.read_int() for k in ("pad_y", "pad_x")}
        filt, bias = r.read_alias_tensor(), r.read_alias_tensor()
        for _ in range(4):  # learning-rate and weight-decay multipliers
            r.read_float()
        nf = int(np.prod(filt))
        if filt[0] != a["filters"] or filt[2:] != (a["nr"], a["nc"]):
            raise DlibFormatError(f"con_4 filter alias {filt} does not match {a}")
        if params.size != nf + int(np.prod(bias)):
            raise DlibFormatError("con_4 params size does not match its aliases")
        return DlibLayer(
            "con", a, {"weight": params[:nf].reshape(filt), "bias": params[nf:].copy()}
        )
    if name == "affine_":
        params = r.read_tensor().reshape(-1)
        gamma, beta = r.read_alias_tensor(), r.read_alias_tensor()
        mode = r.read_int() if r.data[r.pos] not in b"01" else 0  # older files have no mode
        ng = int(np.prod(gamma))
        if params.size != ng + int(np.prod(beta)):
            raise DlibFormatError("affine_ params size does not match its aliases")
        return DlibLayer(
            "affine",
            {"mode": mode, "channels": ng},
            {"gamma": params[:ng].copy(), "beta": params[ng:].copy()},
        )
    if name == "relu_":
        return DlibLayer("relu")
    if name in ("max_pool_2", "avg_pool_2"):
        keys = ("nr", "nc", "stride_y", "stride_x", "pad_y", "pad_x")
        return DlibLayer(name[:-2], {k: r.read_int() for k in keys})
    if name == "add_prev_":
        return DlibLayer("add_prev")
    if name == "fc_2":
        n_out, n_in = r.read_int(), r.read_int()
        params = r.read_tensor().reshape(-1)
        weights, biases = r.read_alias_tensor(), r.read_alias_tensor()
        bias_mode = r.read_int()
        for _ in range(4):
            r.read_float()
        nw = int(np.prod(weights))
        if weights[:2] != (n_in, n_out):
            raise DlibFormatError(f"fc_2 weight alias {weights} is not ({n_in}, {n_out})")
        if params.size - nw not in (0, int(np.prod(biases))):
            raise DlibFormatError("fc_2 params size does not match its aliases")
        p = {"weight": params[:nw].reshape(n_in, n_out)}  # dlib: out = x @ W
        if params.size > nw:
            p["bias"] = params[nw:].copy()
        return DlibLayer("fc", {"outputs": n_out, "inputs": n_in, "bias_mode": bias_mode}, p)
    raise DlibFormatError(f"unsupported dlib layer {name!r} at byte {r.pos}")


def read_dlib_net(path: str | Path) -> DlibNet:
    """Parse a serialized `anet_type` (add_loss_layer<loss_metric_, ...>).

    add_layer::serialize writes its version, then its subnetwork, then its own layer
    details and state; tag/skip layers write a version and their subnetwork. So the file
    is a run of versions from the outside in, the input layer, and then one record per
    add_layer from the input side out.
    """
    r = _Reader(Path(path).read_bytes())
    if r.read_int() != 1:
        raise DlibFormatError("not an add_loss_layer (version != 1)")
    loss_name = r.read_str()
    if loss_name != "loss_metric_2":
        raise DlibFormatError(f"loss layer {loss_name!r}; expected loss_metric_2")
    loss = {"margin": r.read_float(), "distance_threshold": r.read_float()}

    wrappers: list[int] = []
    while True:
        wrappers.append(r.read_int())
        if r.peek_str(b"input_"):
            break
        if len(wrappers) > 10_000:
            raise DlibFormatError("no input layer found")
    input_version = wrappers[-1]
    if input_version not in (2, 3):
        raise DlibFormatError(f"input add_layer version {input_version}")
    if r.read_str() != "input_rgb_image_sized":
        raise DlibFormatError("input layer is not input_rgb_image_sized")
    mean = (r.read_float(), r.read_float(), r.read_float())
    size = (r.read_int(), r.read_int())

    def layer_record(first: bool) -> DlibLayer:
        layer = _read_layer(r)
        for _ in range(3):  # this_layer_setup_called, gradient_input_is_stale, disabled
            r.read_bool()
        for _ in range(3):  # x_grad, cached_output, params_grad / grad_final
            r.read_tensor()
        if first and input_version >= 3:
            r.read_int()  # _sample_expansion_factor
        return layer

    layers = [layer_record(first=True)]
    outer = wrappers[:-1]
    if any(v not in (1, 2) for v in outer):
        raise DlibFormatError(f"unexpected wrapper versions {sorted(set(outer))}")
    layers += [layer_record(first=False) for v in outer if v == 2]
    if r.pos != len(r.data):
        raise DlibFormatError(f"{len(r.data) - r.pos} trailing bytes after the network")
    return DlibNet(mean, size, layers, wrappers, loss)


# (filters, units, first unit downsamples) for alevel4 .. alevel0, input side first
LEVELS: tuple[tuple[int, int, bool], ...] = (
    (32, 3, False),
    (64, 4, True),
    (128, 3, True),
    (256, 3, True),
    (256, 1, True),
)


def expected_layout() -> tuple[list[str], list[int]]:
    """(layer kinds input side first, wrapper versions outermost first) of anet_type.

    Tags and skips are layers without records (version 1 wrappers); add_layers are 2.
    The versions leave out the innermost add_layer (the first con, over the input).
    """
    seq: list[str] = ["con", "affine", "relu", "max_pool"]
    for _, units, down in LEVELS:
        for i in range(units):
            seq += ["tag1", "con", "affine", "relu", "con", "affine"]
            if down and i == 0:
                seq += ["tag2", "skip1", "avg_pool"]
            seq += ["add_prev", "relu"]
    seq += ["avg_pool", "fc"]
    kinds = [k for k in seq if k[:3] not in ("tag", "ski")]
    versions = [1 if k[:3] in ("tag", "ski") else 2 for k in reversed(seq[1:])]
    return kinds, versions
