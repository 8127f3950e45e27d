#!/usr/bin/env python3
"""Sign media with C2PA content credentials offline, as generators do, for tests.

Usage:
    python scripts/make_signed.py SRC DST [--preset sora|firefly|runway|edit] [--parent P]
    python scripts/make_signed.py --tamper SIGNED COPY

The signing certificate is the public C2PA test certificate in
../shared/media/c2pa (es256_certs.pem, es256_private.key); nothing is downloaded and
no timestamp authority is asked, so files signed here read back "Valid" with an
untrusted signer. Presets mimic what generators write:

- sora: `c2pa.created` by softwareAgent {"name": "Sora"}, digitalSourceType
  trainedAlgorithmicMedia (OpenAI's Sora / Sora 2 videos);
- firefly: the same for "Adobe Firefly" (stills);
- runway: the same for "Runway Gen-3";
- edit: `c2pa.opened` of a parent ingredient (the file given with --parent), then
  `c2pa.edited` by "drift-audit test editor": what an editor writes on a cut.

`--tamper` copies a signed file and flips one byte inside its media data (the
`mdat` box of an MP4, the last scan of a JPEG): its manifest must then read Invalid.
Never commit the outputs: tests write them under tmp_path.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
CERTS_DIR = REPO_ROOT.parent / "shared" / "media" / "c2pa"
TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"

PRESETS: dict[str, dict[str, Any]] = {
    "sora": {"generator": "OpenAI Sora", "agent": {"name": "Sora"}, "title": "sora clip"},
    "firefly": {
        "generator": "Adobe Firefly",
        "agent": {"name": "Adobe Firefly", "version": "3.0"},
        "title": "firefly still",
    },
    "runway": {"generator": "Runway", "agent": {"name": "Runway Gen-3"}, "title": "gen-3 clip"},
}


def manifest(preset: str, title: str | None = None) -> dict[str, Any]:
    """The manifest definition a generator of `preset` writes (see the module doc)."""
    if preset == "edit":
        return {
            "claim_generator_info": [{"name": "drift-audit test editor", "version": "1.0"}],
            "title": title or "edited clip",
            "assertions": [
                {
                    "label": "c2pa.actions",
                    "data": {
                        "actions": [
                            {
                                "action": "c2pa.opened",
                                "parameters": {"ingredientIds": ["parent"]},
                            },
                            {
                                "action": "c2pa.edited",
                                "softwareAgent": {"name": "drift-audit test editor"},
                            },
                        ]
                    },
                }
            ],
        }
    spec = PRESETS[preset]
    return {
        "claim_generator_info": [{"name": spec["generator"], "version": "1.0"}],
        "title": title or spec["title"],
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "softwareAgent": spec["agent"],
                            "digitalSourceType": TRAINED,
                        }
                    ]
                },
            }
        ],
    }


def sign(
    src: Path,
    dst: Path,
    preset: str = "sora",
    parent: Path | None = None,
    certs_dir: Path = CERTS_DIR,
) -> Path:
    """Write `src` signed with the test certificate to `dst` (its extension names the
    format). With `parent`, that file is the manifest's parentOf ingredient.

    Raises:
        FileNotFoundError: the test certificate is not in `certs_dir`.
        c2pa.C2paError: c2pa cannot sign this format.
    """
    import c2pa
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    certs = (certs_dir / "es256_certs.pem").read_text()
    key = serialization.load_pem_private_key(
        (certs_dir / "es256_private.key").read_bytes(), password=None
    )
    assert isinstance(key, ec.EllipticCurvePrivateKey)

    def callback(data: bytes) -> bytes:
        # c2pa wants the DER signature of the raw claim bytes.
        return key.sign(data, ec.ECDSA(hashes.SHA256()))

    signer = c2pa.Signer.from_callback(callback, c2pa.C2paSigningAlg.ES256, certs, None)
    builder = c2pa.Builder(json.dumps(manifest(preset)))
    if parent is not None:
        mime = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}.get(
            parent.suffix.lower(), "video/mp4"
        )
        with parent.open("rb") as fh:
            builder.add_ingredient(
                json.dumps({"title": parent.name, "relationship": "parentOf", "label": "parent"}),
                mime,
                fh,
            )
    if dst.exists():
        dst.unlink()
    builder.sign_file(str(src), str(dst), signer)
    return dst


def tamper(signed: Path, copy: Path) -> int:
    """Copy `signed` to `copy` with one byte of its media data flipped; returns the
    offset of that byte. MP4: the middle of the first `mdat` box; JPEG: a byte just
    before the end-of-image marker (inside the entropy-coded scan)."""
    data = bytearray(signed.read_bytes())
    offset = _mdat_middle(data) if data[4:8] == b"ftyp" else len(data) - 8
    data[offset] ^= 0x01
    shutil.copyfile(signed, copy)
    copy.write_bytes(bytes(data))
    return offset


def _mdat_middle(data: bytearray) -> int:
    pos = 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        kind = bytes(data[pos + 4 : pos + 8])
        header = 8
        if size == 1:
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
            header = 16
        elif size == 0:
            size = len(data) - pos
        if kind == b"mdat":
            return pos + header + (size - header) // 2
        if size < 8:
            break
        pos += size
    raise ValueError("no mdat box found")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path)
    parser.add_argument("dst", type=Path)
    parser.add_argument("--preset", choices=[*PRESETS, "edit"], default="sora")
    parser.add_argument("--parent", type=Path)
    parser.add_argument("--tamper", action="store_true", help="SRC is signed: flip a byte")
    args = parser.parse_args(argv)
    if args.tamper:
        print(f"{args.dst}: byte {tamper(args.src, args.dst)} flipped")
    else:
        sign(args.src, args.dst, args.preset, args.parent)
        print(f"{args.dst}: signed ({args.preset})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
