"""pipelinelib: promote one set of container images through environments on demand."""

from __future__ import annotations

__version__ = "0.1.0"
