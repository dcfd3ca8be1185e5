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

import contextlib
import hashlib
import importlib
import importlib.util
import json
import logging
import math
import re
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import onnx
from pydantic import BaseModel, ConfigDict

from edgekit.analysis import PREPROCESSING_KEY
from edgekit.errors import BadInputError, MissingDependencyError, WeightsUnavailableError
from edgekit.fileio import sha256_file
from edgekit.models._registry import ModelInfo, Preprocessing, _all_names, categories, get_model_info
from edgekit.models._weights import RANDOM_INIT_SEED, build_model, load_state, parse_weights, read_checkpoint
from edgekit.onnx_io import load_onnx

SourceKind = Literal["torchvision", "checkpoint", "factory", "timm", "onnx"]
Layout = Literal["NCHW", "NHWC"]
LoadedKind = Literal["torch", "onnx"]
TIMM_PREFIX = "timm:"
TIMM_EXTRA = "pip install 'edgekit[timm]'  (or pip install timm)"
LABELS_METADATA_KEY = "edgekit.labels"  # edgekit.manifest.LABELS_KEY (manifest sits above this module)
# Preprocessing assumed when neither flags nor the model say: torchvision's ImageNet transforms.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
DEFAULT_INPUT_PX = 224
IMAGENET_RESIZE_RATIO = 256 / 224
MAX_RESIZE_RATIO = 4  # a file's metadata may not ask for more than a 4x resize (hostile 10**9-px resizes)
MAX_INPUT_PX = 4096
MAX_LABELS_BYTES = 4 * 2**20
_CHECKPOINT_SEPARATOR = "@"
_CHECKPOINT_SUFFIXES = (".pth", ".pt", ".ckpt", ".bin", ".tar")
_FACTORY = re.compile(r"^(?P<module>[A-Za-z_][\w.]*|.+\.py):(?P<function>[A-Za-z_]\w*)$")
_DIGEST_CHARS = 12
FACTORY_WEIGHTS = "as the factory returns them"
_HUB_HOST = "huggingface.co"  # where timm's pretrained weights come from


class ModelSource(BaseModel):
    """A model as the user named it, with the flags that describe its input."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: SourceKind
    text: str
    name: str
    weights: str = "none"
    path: Path | None = None
    input_size: int | None = None
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    layout: Layout | None = None
    labels: Path | None = None

    @property
    def published(self) -> bool:
        """True when torchvision's published figures describe this model (its own head and weights policy)."""
        return self.kind == "torchvision"

    @property
    def info(self) -> ModelInfo | None:
        """The registry entry of a torchvision/checkpoint source's architecture."""
        return get_model_info(self.name) if self.kind in ("torchvision", "checkpoint") else None

    @property
    def accuracy_meaningful(self) -> bool:
        """False for seeded random init: accuracy means nothing."""
        return self.kind == "onnx" or self.weights != "none"

    def digest(self) -> str:
        """A short key for caches: changes when the files or flags that shape the graph change."""
        parts = [self.kind, self.text, str(self.input_size), str(self.mean), str(self.std), str(self.layout)]
        for path in (self.path, self.weights_path):
            parts.append(sha256_file(path) if path is not None and path.is_file() else "")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:_DIGEST_CHARS]

    @property
    def weights_path(self) -> Path | None:
        """The checkpoint file, when the weights are one."""
        policy = parse_weights(self.weights)
        return policy.path if policy.kind == "checkpoint" else None

    def load(self) -> LoadedModel:
        """Build or read the model: what ``chain.SourceModel`` needs.

        Raises:
            BadInputError: unreadable or hostile file, a misfit checkpoint, labels that do not match the outputs.
            WeightsUnavailableError: pretrained weights requested offline.
            MissingDependencyError: ``timm:`` without timm.
        """
        loaded = _LOADERS[self.kind](self)
        names, label_source = _labels(self, loaded)
        return LoadedModel(**{**loaded.__dict__, "labels": names, "labels_source": label_source})


@dataclass(frozen=True)
class LoadedModel:
    """A source's network (torch module or canonical NCHW ONNX graph) and what is known about it."""

    name: str
    kind: LoadedKind
    model: Any
    preprocessing: Preprocessing
    weights: str
    accuracy_meaningful: bool
    num_classes: int
    labels: list[str] | None = None
    labels_source: str = "class indices"
    notes: tuple[str, ...] = ()

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        """The batch-1 NCHW input shape."""
        side = self.preprocessing.crop_px
        return (1, 3, side, side)


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


def _flag_preprocessing(source: ModelSource, base: Preprocessing | None, px: int | None) -> tuple[Preprocessing, str]:
    """The base preprocessing (or ImageNet's) at ``px``, with --mean/--std applied; and a note when assumed."""
    side = px or (base.crop_px if base else DEFAULT_INPUT_PX)
    if base is None:
        base = Preprocessing(resize_px=round(side * IMAGENET_RESIZE_RATIO), crop_px=side, mean=IMAGENET_MEAN,
                             std=IMAGENET_STD)  # fmt: skip
    prep = base.at_size(side)
    update = {k: v for k, v in (("mean", source.mean), ("std", source.std)) if v is not None}
    prep = prep.model_copy(update=update) if update else prep
    assumed = [what for what, given in (("mean", source.mean), ("std", source.std)) if given is None]
    note = ""
    if base.mean == IMAGENET_MEAN and assumed:
        note = (
            f"assumed ImageNet {'/'.join(assumed)} at {side} px (give --mean/--std if the model was trained otherwise)"
        )
    return prep, note


# ---- torch sources ------------------------------------------------------------------------------------


def _load_registry(source: ModelSource) -> LoadedModel:
    info = get_model_info(source.name)
    policy = parse_weights(source.weights)
    module = build_model(source.name, policy)
    prep, _ = _flag_preprocessing(source, info.preprocessing, source.input_size)
    classes = info.num_classes if source.kind == "torchvision" else _output_width(module, prep)
    return LoadedModel(name=source.name, kind="torch", model=module, preprocessing=prep,
                       weights=str(policy), accuracy_meaningful=policy.accuracy_meaningful,
                       num_classes=classes)  # fmt: skip


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]+", "-", text).strip("-.") or "model"


def _load_factory(source: ModelSource) -> LoadedModel:
    import torch

    module_name, _, function_name = source.text.rpartition(":")
    function = getattr(_import_factory_module(module_name, source.path), function_name, None)
    if not callable(function):
        raise BadInputError(f"{module_name} has no function {function_name} (factory sources are module:function)")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_INIT_SEED)
        module = function()
    if not isinstance(module, torch.nn.Module):
        raise BadInputError(f"{source.text} returned {type(module).__name__}, not a torch.nn.Module")
    policy = parse_weights(source.weights)
    if policy.kind == "imagenet":
        raise BadInputError(f"--weights imagenet applies to registry and timm models; {source.text} builds its own "
                            "network: give --weights PATH or none")  # fmt: skip
    if policy.path is not None:
        load_state(module, read_checkpoint(policy.path), f"checkpoint {policy.path.name}", source.text)
    module.eval()
    prep, note = _flag_preprocessing(source, None, source.input_size)
    # Without --weights the factory's own weights are the model (trained ones, as a rule), so what is measured on
    # them is a real accuracy; "none" would mislabel them as edgekit's seeded random init.
    weights = str(policy) if policy.path is not None else FACTORY_WEIGHTS
    return LoadedModel(name=_slug(function_name), kind="torch", model=module, preprocessing=prep,
                       weights=weights, accuracy_meaningful=True,
                       num_classes=_output_width(module, prep), notes=(note,) if note else ())  # fmt: skip


def _import_factory_module(module_name: str, path: Path | None) -> Any:
    try:
        if path is not None:
            if not path.is_file():
                raise BadInputError(f"no such factory file: {path}")
            spec = importlib.util.spec_from_file_location(f"edgekit_factory_{path.stem}", path)
            if spec is None or spec.loader is None:
                raise BadInputError(f"cannot import factory file {path}")
            loaded = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(loaded)
            return loaded
        sys.path.insert(0, str(Path.cwd()))  # `my_models:build` next to the user's data, as `python -m` finds it
        try:
            return importlib.import_module(module_name)
        finally:
            sys.path.remove(str(Path.cwd()))
    except ImportError as exc:
        raise BadInputError(f"cannot import factory module {module_name}: {exc}") from exc


def _load_timm(source: ModelSource) -> LoadedModel:
    try:
        import timm
        import timm.data
    except ImportError as exc:
        raise MissingDependencyError(f"timm: sources need timm: {TIMM_EXTRA}") from exc
    import torch

    if source.name not in timm.list_models():
        raise BadInputError(f"timm has no model {source.name!r}; see timm.list_models()")
    policy = parse_weights(source.weights)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(RANDOM_INIT_SEED)
            with _quiet_hub(offline=policy.kind == "imagenet" and not _resolves(_HUB_HOST)):
                module = timm.create_model(source.name, pretrained=policy.kind == "imagenet")
    except (OSError, RuntimeError, ValueError, ConnectionError) as exc:
        if policy.kind != "imagenet":
            raise
        cfg = timm.models.get_pretrained_cfg(source.name)
        where = (
            (getattr(cfg, "hf_hub_id", None) or getattr(cfg, "url", None) or "its weights") if cfg else "its weights"
        )
        raise WeightsUnavailableError(
            f"cannot download ImageNet weights for timm:{source.name} ({exc.__class__.__name__}; offline?): "
            f"place {where} in {_hub_cache()} (the Hugging Face cache timm reads), "
            "or use --weights PATH or --weights none"
        ) from exc
    if policy.path is not None:
        load_state(module, read_checkpoint(policy.path), f"checkpoint {policy.path.name}", f"timm:{source.name}")
    module.eval()
    config = timm.data.resolve_model_data_config(module)
    side = source.input_size or int(config["input_size"][-1])
    crop_pct = float(config.get("crop_pct") or 1 / IMAGENET_RESIZE_RATIO)
    interpolation = str(config.get("interpolation") or "bilinear")
    base = Preprocessing(resize_px=math.floor(side / crop_pct), crop_px=side, mean=tuple(config["mean"]),
                         std=tuple(config["std"]), interpolation=interpolation)  # fmt: skip
    prep, _ = _flag_preprocessing(source, base, side)
    return LoadedModel(name=_slug(source.name), kind="torch", model=module, preprocessing=prep,
                       weights=str(policy), accuracy_meaningful=policy.accuracy_meaningful,
                       num_classes=_output_width(module, prep),
                       notes=(f"preprocessing from timm's pretrained config of {source.name}",))  # fmt: skip


@contextlib.contextmanager
def _quiet_hub(offline: bool) -> Iterator[None]:
    """Hugging Face Hub downloads without retry chatter on stderr; offline, from its cache only (no retries)."""
    logger = logging.getLogger("huggingface_hub")
    level = logger.level
    constants = sys.modules.get("huggingface_hub.constants")
    was_offline = getattr(constants, "HF_HUB_OFFLINE", None)
    logger.setLevel(logging.ERROR)
    if offline and constants is not None:
        constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        logger.setLevel(level)
        if offline and constants is not None:
            constants.HF_HUB_OFFLINE = was_offline


def _hub_cache() -> str:
    constants = sys.modules.get("huggingface_hub.constants")
    return str(getattr(constants, "HF_HUB_CACHE", None) or Path("~/.cache/huggingface/hub").expanduser())


def _resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, 443)
    except OSError:
        return False
    return True


def _output_width(module: Any, prep: Preprocessing) -> int:
    """The class count: one forward pass on a zero image; the output must be [1, classes]."""
    import torch

    with torch.no_grad():
        out = module(torch.zeros(1, 3, prep.crop_px, prep.crop_px))
    if not isinstance(out, torch.Tensor) or out.ndim != 2:
        found = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise BadInputError(f"the model gives {found} for one image; a classifier gives [1, classes]")
    return int(out.shape[1])


# ---- ONNX files ---------------------------------------------------------------------------------------


def _dims(value: onnx.ValueInfoProto) -> list[int | str]:
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in value.type.tensor_type.shape.dim]


def _load_onnx_source(source: ModelSource) -> LoadedModel:
    assert source.path is not None
    proto = load_onnx(source.path)
    where = f"{source.path.name} cannot be an image classifier"
    initializers = {t.name for t in proto.graph.initializer}
    inputs = [v for v in proto.graph.input if v.name not in initializers]
    if len(inputs) != 1:
        names = ", ".join(f"{v.name} {_dims(v)}" for v in inputs)
        raise BadInputError(f"{where}: it has {len(inputs)} inputs ({names}); edgekit takes one image input")
    (value,) = inputs
    dims = _dims(value)
    elem = value.type.tensor_type.elem_type
    if not value.type.HasField("tensor_type") or len(dims) != 4:
        raise BadInputError(f"{where}: input {value.name!r} has rank {len(dims)} ({dims}); an image input is rank 4 "
                            "(NCHW or NHWC)")  # fmt: skip
    if elem != onnx.TensorProto.FLOAT:
        raise BadInputError(f"{where}: input {value.name!r} is {onnx.TensorProto.DataType.Name(elem).lower()}, "
                            "not float32")  # fmt: skip
    outputs = list(proto.graph.output)
    out_dims = _dims(outputs[0]) if outputs else []
    if len(outputs) != 1 or len(out_dims) != 2:
        found = ", ".join(f"{o.name} {_dims(o)}" for o in outputs)
        raise BadInputError(f"{where}: it must give one [batch, classes] output; found {found or 'none'}")
    stated = _stated_preprocessing(proto)
    layout = source.layout or (stated.layout if stated else None) or _guess_layout(dims)
    channels, height, width = (dims[1], dims[2], dims[3]) if layout == "NCHW" else (dims[3], dims[1], dims[2])
    if channels != 3:
        raise BadInputError(f"{where}: input {value.name!r} {dims} as {layout} has {channels} channels, not 3 (RGB)")
    side = _side(height, width, source, where, value.name, dims)
    if isinstance(dims[0], int) and dims[0] != 1:
        raise BadInputError(f"{where}: input {value.name!r} has a static batch of {dims[0]}; edgekit needs batch 1 "
                            "or a dynamic batch")  # fmt: skip
    notes: list[str] = []
    if stated is not None and source.input_size in (None, side) and source.mean is None and source.std is None:
        _check_stated(stated, side)
        prep = stated.model_copy(update={"layout": "NCHW"})
        notes.append("preprocessing from the file's edgekit metadata")
    else:
        prep, note = _flag_preprocessing(source, None, side)
        notes += [note] if note else []
    canonical = _canonical(proto, value, layout, side)
    if layout == "NHWC":
        notes.append(f"NHWC input {value.name!r} is transposed inside the graph: the artifacts take NCHW")
    classes = out_dims[1] if isinstance(out_dims[1], int) and out_dims[1] > 0 else _onnx_width(canonical, side)
    return LoadedModel(name=_slug(source.path.stem), kind="onnx", model=canonical, preprocessing=prep, weights="file",
                       accuracy_meaningful=True, num_classes=int(classes), notes=tuple(notes))  # fmt: skip


def _guess_layout(dims: list[int | str]) -> Layout:
    if dims[3] == 3 and dims[1] != 3:
        return "NHWC"
    return "NCHW"


def _side(height: int | str, width: int | str, source: ModelSource, where: str, name: str,
          dims: list[int | str]) -> int:  # fmt: skip
    if isinstance(height, int) and isinstance(width, int):
        if height != width:
            raise BadInputError(f"{where}: input {name!r} {dims} is {height}x{width}; edgekit takes square inputs")
        if source.input_size not in (None, height):
            raise BadInputError(f"--input-size {source.input_size}: the file's input {name!r} is fixed at {dims}")
        return height
    if source.input_size is None:
        raise BadInputError(f"input {name!r} of {source.text} has symbolic height/width {dims}: give --input-size")
    return source.input_size


def _stated_preprocessing(proto: onnx.ModelProto) -> Preprocessing | None:
    for prop in proto.metadata_props:
        if prop.key == PREPROCESSING_KEY:
            try:
                return Preprocessing.model_validate(json.loads(prop.value))
            except ValueError as exc:  # not JSON, or not the schema
                raise BadInputError(f"the model's {PREPROCESSING_KEY} metadata is not valid preprocessing JSON "
                                    f"({exc.__class__.__name__})") from exc  # fmt: skip
    return None


def _check_stated(prep: Preprocessing, side: int) -> None:
    where = f"the model's {PREPROCESSING_KEY} metadata"
    if prep.crop_px != side:
        raise BadInputError(f"{where} crops {prep.crop_px} px, but the model's input is {side} px a side")
    if not prep.crop_px <= prep.resize_px <= MAX_RESIZE_RATIO * prep.crop_px:
        raise BadInputError(f"{where} resizes to {prep.resize_px} px for a {prep.crop_px}-px crop")
    if not all(math.isfinite(v) for v in (*prep.mean, *prep.std)) or min(prep.std) <= 0:
        raise BadInputError(f"{where} needs finite mean and positive std; got mean {prep.mean}, std {prep.std}")


def _canonical(proto: onnx.ModelProto, value: onnx.ValueInfoProto, layout: Layout, side: int) -> onnx.ModelProto:
    """One NCHW float input (initializers no longer listed as inputs), an NHWC input transposed inside."""
    model = onnx.ModelProto()
    model.CopyFrom(proto)
    initializers = {t.name for t in model.graph.initializer}
    kept = [v for v in model.graph.input if v.name not in initializers]
    del model.graph.input[:]
    model.graph.input.extend(kept)
    batch = _dims(value)[0]
    new = onnx.helper.make_tensor_value_info(value.name, onnx.TensorProto.FLOAT,
                                             [batch if isinstance(batch, int) else "batch", 3, side, side])  # fmt: skip
    if layout == "NHWC":
        inner = f"{value.name}__nhwc"
        for node in model.graph.node:
            node.input[:] = [inner if name == value.name else name for name in node.input]
        transpose = onnx.helper.make_node("Transpose", [value.name], [inner], perm=[0, 2, 3, 1],
                                          name="edgekit_nchw_to_nhwc")  # fmt: skip
        model.graph.node.insert(0, transpose)
    else:
        new = onnx.helper.make_tensor_value_info(value.name, onnx.TensorProto.FLOAT, _dims(value))
    model.graph.input[0].CopyFrom(new)
    return model


def _onnx_width(model: onnx.ModelProto, side: int) -> int:
    import numpy as np
    import onnxruntime

    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (spec,) = session.get_inputs()
    out = session.run(None, {spec.name: np.zeros((1, 3, side, side), dtype=np.float32)})[0]
    if out.ndim != 2:
        raise BadInputError(f"the model gives {list(out.shape)} for one image; a classifier gives [1, classes]")
    return int(out.shape[1])


# ---- labels -------------------------------------------------------------------------------------------


def _labels(source: ModelSource, loaded: LoadedModel) -> tuple[list[str] | None, str]:
    if source.labels is not None:
        names, where = read_labels(source.labels)
    elif source.kind == "torchvision" or (
        source.kind == "checkpoint" and loaded.num_classes == _default_classes(source)
    ):
        info = get_model_info(source.name)
        return categories(source.name), f"torchvision {info.weights_name} categories"
    elif loaded.kind == "onnx":
        return _stated_labels(loaded.model, loaded.num_classes)
    else:
        return None, "class indices"
    if len(names) != loaded.num_classes:
        raise BadInputError(f"{where} names {len(names)} classes, but {loaded.name} gives {loaded.num_classes} "
                            "outputs per image")  # fmt: skip
    return names, where


def _default_classes(source: ModelSource) -> int:
    return get_model_info(source.name).num_classes


def read_labels(path: Path) -> tuple[list[str], str]:
    """Class names from a text file (one per line) or the sorted class folders of an image folder.

    Raises:
        BadInputError: missing, unreadable, empty, too large, or with repeated names.
    """
    if path.is_dir():
        names = sorted(p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
        where = f"the class folders of {path}"
    elif path.is_file():
        if path.stat().st_size > MAX_LABELS_BYTES:
            raise BadInputError(f"labels file {path} is over {MAX_LABELS_BYTES // 2**20} MiB")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise BadInputError(f"labels file {path} is not UTF-8 text") from exc
        names = [line.strip() for line in text.splitlines() if line.strip()]
        where = f"labels file {path.name}"
    else:
        raise BadInputError(f"--labels: no such file or folder: {path}")
    if not names:
        raise BadInputError(f"{where}: no class names found")
    if len(set(names)) != len(names):
        repeated = next(n for n in names if names.count(n) > 1)
        raise BadInputError(f"{where}: class name {repeated!r} appears more than once")
    return names, where


def _stated_labels(model: onnx.ModelProto, count: int) -> tuple[list[str] | None, str]:
    for prop in model.metadata_props:
        if prop.key == LABELS_METADATA_KEY:
            try:
                record = json.loads(prop.value)
            except ValueError:
                return None, "class indices"
            names = record.get("names") if isinstance(record, dict) else None
            if isinstance(names, list) and len(names) == count and all(isinstance(n, str) for n in names):
                return names, str(record.get("source", "the file's edgekit metadata"))
    return None, "class indices"


_LOADERS = {
    "torchvision": _load_registry,
    "checkpoint": _load_registry,
    "factory": _load_factory,
    "timm": _load_timm,
    "onnx": _load_onnx_source,
}
