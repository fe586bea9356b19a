"""The files of a TLS connection to an engine, apart from the driver: an inventory names them without
importing the Docker SDK."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TlsFiles:
    """The files of a TLS connection to an engine: the CA that signed its certificate, and the
    client's own certificate and key (as ``docker --tlsverify --tlscacert --tlscert --tlskey``)."""

    ca: Path
    cert: Path
    key: Path
