"""Static files storage of `make run` (`tdp.settings.run`)."""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class RunStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Collected files compressed (gzip, and brotli when installed) with content-hashed names, which whitenoise serves
    with a one-year `Cache-Control: immutable`. A file missing from the manifest (added since the last collectstatic)
    is linked by its plain name instead of failing the page."""

    manifest_strict = False

    def stored_name(self, name: str) -> str:
        try:
            return str(super().stored_name(name))
        except ValueError:
            return name
