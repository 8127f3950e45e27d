"""Which image format a report path asks for: pure Python, so the command line can
refuse a bad name before any work without importing an image library."""

from __future__ import annotations

from pathlib import Path

from drift_audit.errors import ConfigError

IMAGE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
"""File extension (lower case) -> the format the contact sheet is written in."""


def image_format(path: Path | str, option: str = "--contact-sheet") -> str:
    """The format its extension names: "PNG", "JPEG" or "WEBP".

    Raises:
        ConfigError: the extension names none of them.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in IMAGE_FORMATS:
        named = f"'{suffix}'" if suffix else "no extension"
        raise ConfigError(
            f"{option} {path}: {named} is not an image format it writes; "
            "name a .png, .jpg, .jpeg or .webp file"
        )
    return IMAGE_FORMATS[suffix]
