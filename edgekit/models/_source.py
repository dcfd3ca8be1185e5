"""Where a model comes from: one typed :class:`ModelSource`, parsed from the text a user gives, in one place.

Kinds (see :func:`parse_source`):

- ``torchvision``: a registry name (``resnet18``), published meta from torchvision's ``weights.meta``;
- ``checkpoint``: a registry architecture with a local checkpoint (``--weights ck.pth`` or ``mobilenet_v2@ck.pth``);
  the class count is read from the checkpoint's classifier head;
- ``factory``: ``package.module:function`` or ``file.py:function`` returning an ``nn.Module`` (optional
  ``--weights`` checkpoint), preprocessing from flags with ImageNet defaults stated as assumed;
- ``timm``: ``timm:<name>`` when timm is installed (``pip install 'edgekit[timm]'``), preprocessing from its
  pretrained config;
- ``onnx``: an ONNX classifier file, any input name, NCHW or NHWC, fixed or dynamic batch; preprocessing from
  flags or from edgekit metadata already in the file.

:meth:`ModelSource.load` gives a :class:`LoadedModel`: the torch module (or canonical NCHW ONNX graph), its
preprocessing, class count and labels. Only ``torchvision`` sources have published figures.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from edgekit.errors import BadInputError
from edgekit.models._labels import resolve_labels
from edgekit.models._onnx_source import load_onnx_source
from edgekit.models._registry import _all_names, get_model_info
from edgekit.models._source_spec import MAX_INPUT_PX, Layout, LoadedModel, SourceKind, SourceSpec
from edgekit.models._torch_sources import load_factory, load_registry, load_timm
from edgekit.models._weights import parse_weights

TIMM_PREFIX = "timm:"
_CHECKPOINT_SEPARATOR = "@"
_CHECKPOINT_SUFFIXES = (".pth", ".pt", ".ckpt", ".bin", ".tar")
_FACTORY = re.compile(r"^(?P<module>[A-Za-z_][\w.]*|.+\.py):(?P<function>[A-Za-z_]\w*)$")


class ModelSource(SourceSpec):
    """A parsed model source (see :func:`parse_source`) that can build or read its network."""

    def load(self) -> LoadedModel:
        """Build or read the model: what ``chain.SourceModel`` needs.

        Raises:
            BadInputError: unreadable or hostile file, a misfit checkpoint, labels that do not match the outputs.
            WeightsUnavailableError: pretrained weights requested offline.
            MissingDependencyError: ``timm:`` without timm.
        """
        loaded = _LOADERS[self.kind](self)
        names, label_source = resolve_labels(self, loaded)
        return LoadedModel(**{**loaded.__dict__, "labels": names, "labels_source": label_source})


def parse_source(text: str | ModelSource, *, weights: str = "none", input_size: int | None = None,
                 mean: tuple[float, float, float] | None = None, std: tuple[float, float, float] | None = None,
                 layout: str | None = None, labels: Path | str | None = None) -> ModelSource:  # fmt: skip
    """Parse what the user typed into a :class:`ModelSource` (an existing source is returned as it is).

    Raises:
        UnknownNameError: neither a file, a factory, ``timm:<name>`` nor a registry name (close names listed).
        BadInputError: a flag that does not apply, a missing file, a bad layout/mean/std/size.
    """
    if isinstance(text, ModelSource):
        return text
    text = original = text.strip()
    if _CHECKPOINT_SEPARATOR in text and not text.endswith(".onnx"):
        arch, _, checkpoint = text.partition(_CHECKPOINT_SEPARATOR)
        if weights != "none":
            raise BadInputError(f"{text!r} names its checkpoint already; drop --weights {weights}")
        text, weights = arch, checkpoint
    policy = parse_weights(weights)
    flags = {"input_size": _checked_size(input_size), "mean": _checked_triple(mean, "mean"),
             "std": _checked_triple(std, "std", positive=True), "layout": _checked_layout(layout),
             "labels": Path(labels) if labels is not None else None}  # fmt: skip
    if text.lower().endswith(".onnx") or _is_onnx_file(text):
        if policy.kind != "none":
            raise BadInputError(f"--weights applies to torch sources; {text} is an ONNX file with its own weights")
        path = Path(text).expanduser()
        if not path.is_file():
            raise BadInputError(f"no such ONNX file: {text}")
        return ModelSource(kind="onnx", text=text, name=path.stem, path=path.resolve(), **flags)
    if flags["layout"] is not None:
        raise BadInputError("--layout applies to ONNX files; torch sources take NCHW")
    if text.startswith(TIMM_PREFIX):
        name = text.removeprefix(TIMM_PREFIX)
        if not re.fullmatch(r"[\w.\-]+", name):
            raise BadInputError(f"timm model name {name!r} is not a timm name (letters, digits, _ . -)")
        return ModelSource(kind="timm", text=text, name=name, weights=str(policy), **flags)
    match = _FACTORY.match(text)
    if match and match["module"] not in _all_names():
        path = Path(match["module"]).resolve() if match["module"].endswith(".py") else None
        return ModelSource(kind="factory", text=text, name=match["function"], weights=str(policy), path=path,
                           **flags)  # fmt: skip
    if Path(text).suffix.lower() in _CHECKPOINT_SUFFIXES and Path(text).is_file():
        raise BadInputError(f"{text} is a checkpoint: name its architecture, e.g. mobilenet_v2@{text} or "
                            f"mobilenet_v2 --weights {text} (or a factory module:function with --weights)")  # fmt: skip
    get_model_info(text)  # unknown names fail here, with close matches
    kind: SourceKind = "checkpoint" if policy.kind == "checkpoint" else "torchvision"
    return ModelSource(kind=kind, text=original, name=text, weights=str(policy), **flags)


def is_registry_name(text: str) -> bool:
    """True when ``text`` is a plain registry model name (published figures apply)."""
    return text in _all_names()


def _is_onnx_file(text: str) -> bool:
    path = Path(text)
    if not path.is_file():
        return False
    with path.open("rb") as handle:
        head = handle.read(2)
    return head[:1] == b"\x08"  # protobuf field 1 (ir_version) varint: every ONNX ModelProto starts so


def _checked_size(size: int | None) -> int | None:
    if size is not None and not 8 <= size <= MAX_INPUT_PX:
        raise BadInputError(f"--input-size must be between 8 and {MAX_INPUT_PX} px, got {size}")
    return size


def _checked_triple(values: Any, what: str, positive: bool = False) -> tuple[float, float, float] | None:
    if values is None:
        return None
    triple = tuple(float(v) for v in values)
    if len(triple) != 3 or not all(math.isfinite(v) for v in triple) or (positive and min(triple) <= 0):
        need = "three positive finite numbers" if positive else "three finite numbers"
        raise BadInputError(f"--{what} needs {need} (R,G,B), got {','.join(str(v) for v in values)}")
    return triple  # type: ignore[return-value]


def _checked_layout(layout: str | None) -> Layout | None:
    if layout is None:
        return None
    upper = layout.upper()
    if upper not in ("NCHW", "NHWC"):
        raise BadInputError(f"--layout must be NCHW or NHWC, got {layout!r}")
    return upper  # type: ignore[return-value]


_LOADERS = {
    "torchvision": load_registry,
    "checkpoint": load_registry,
    "factory": load_factory,
    "timm": load_timm,
    "onnx": load_onnx_source,
}
