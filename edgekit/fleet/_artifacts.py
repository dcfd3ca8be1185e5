"""Artifacts shipped by digest: the workstation puts each file's bytes into Ray's object store once; a node
keeps them in its cache folder under the main file's sha256 and fetches the bytes only when that folder is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgekit.bench.runners import ArtifactSource
from edgekit.errors import EdgekitError
from edgekit.fileio import atomic_dir, sha256_bytes, sha256_file
from edgekit.paths import cache_dir

CACHE_KIND = "fleet-artifacts"
# (file name, sha256, [object ref]): the ref sits in a list so Ray does not resolve it into bytes on the call —
# a node that already holds the digest never pulls the bytes.
ShippedFile = tuple[str, str, list[Any]]


def companions(path: Path) -> list[Path]:
    """The files measured with ``path``: OpenVINO's or ncnn's ``.bin``, ONNX external data (as source_identity)."""
    return [p for p in (path.with_suffix(".bin"), path.with_name(path.name + ".data")) if p.is_file()]


def ship(ray: Any, source: ArtifactSource) -> list[ShippedFile]:
    """Put the artifact's file and its companions into the object store (the main file first)."""
    path = Path(source.path)
    shipped = []
    for file in (path, *companions(path)):
        data = file.read_bytes()
        shipped.append((file.name, sha256_bytes(data), [ray.put(data)]))
    return shipped


def materialize(ray: Any, shipped: list[ShippedFile]) -> Path:
    """The node's copy of a shipped artifact (fetched and checked against its digests on first use).

    Raises:
        EdgekitError: the bytes that arrived do not have the digest they were sent with.
    """
    name, digest, _ = shipped[0]
    folder = cache_dir(CACHE_KIND) / digest
    if all((folder / n).is_file() for n, _, _ in shipped) and sha256_file(folder / name) == digest:
        return folder / name
    with atomic_dir(folder) as staged:
        for file_name, file_digest, box in shipped:
            data = ray.get(box[0])
            if sha256_bytes(data) != file_digest:
                raise EdgekitError(f"artifact {file_name} arrived with sha256 {sha256_bytes(data)[:12]}, "
                                   f"sent as {file_digest[:12]}")  # fmt: skip
            (staged / file_name).write_bytes(data)
    return folder / name
