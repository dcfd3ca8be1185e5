"""Installed versions of Python distributions, read from their metadata (nothing is imported).

The one place edgekit looks up package versions: the manifest's ``tool_versions``, the host
fingerprint, the results of ``bench`` and the target verifiers all go through
:func:`package_versions`, so "which version produced this" is answered the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version


def package_versions(names: Iterable[str]) -> dict[str, str | None]:
    """The installed version of each distribution in ``names``, None for those not installed.

    Args:
        names: distribution names as pip spells them (``onnxruntime-gpu``, ``torch-pruning``).

    Returns:
        One entry per name, in the order given.

    Example:
        >>> package_versions(["pip", "no-such-package"])  # doctest: +SKIP
        {'pip': '24.0', 'no-such-package': None}
    """
    found: dict[str, str | None] = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found
