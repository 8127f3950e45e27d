"""drift-audit: audit character drift across generated video clips.

Public API: `audit(paths, config) -> Report`. Heavy libraries (torch, facenet-pytorch,
decord, dlib) load only when an audit runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from drift_audit.config import AuditConfig
    from drift_audit.types import Report

__all__ = ["AuditConfig", "Report", "__version__", "audit"]


def audit(paths: Any, config: AuditConfig | None = None, **kwargs: Any) -> Report:
    """Audit clips in story order; see drift_audit.pipeline.audit."""
    from pathlib import Path

    from drift_audit.config import AuditConfig
    from drift_audit.pipeline import audit as _audit

    return _audit([Path(p) for p in paths], config or AuditConfig(), **kwargs)


def __getattr__(name: str) -> Any:
    if name == "AuditConfig":
        from drift_audit.config import AuditConfig

        return AuditConfig
    if name == "Report":
        from drift_audit.types import Report

        return Report
    raise AttributeError(name)
