"""Torch model sources: torchvision names and checkpoints, ``module:function`` factories, ``timm:<name>``."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import math
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edgekit.errors import BadInputError, MissingDependencyError, WeightsUnavailableError
from edgekit.models._registry import Preprocessing, get_model_info
from edgekit.models._source_spec import (
    FACTORY_WEIGHTS,
    IMAGENET_RESIZE_RATIO,
    LoadedModel,
    SourceSpec,
    flag_preprocessing,
    slug,
)
from edgekit.models._weights import RANDOM_INIT_SEED, build_model, load_state, parse_weights, read_checkpoint

TIMM_EXTRA = "pip install 'edgekit[timm]'  (or pip install timm)"
_HUB_HOST = "huggingface.co"  # where timm's pretrained weights come from


def load_registry(source: SourceSpec) -> LoadedModel:
    info = get_model_info(source.name)
    policy = parse_weights(source.weights)
    module = build_model(source.name, policy)
    prep, _ = flag_preprocessing(source, info.preprocessing, source.input_size)
    classes = info.num_classes if source.kind == "torchvision" else _output_width(module, prep)
    return LoadedModel(name=source.name, kind="torch", model=module, preprocessing=prep,
                       weights=str(policy), accuracy_meaningful=policy.accuracy_meaningful,
                       num_classes=classes)  # fmt: skip


def load_factory(source: SourceSpec) -> LoadedModel:
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
    prep, note = flag_preprocessing(source, None, source.input_size)
    # Without --weights the factory's own weights are the model (trained ones, as a rule), so what is measured on
    # them is a real accuracy; "none" would mislabel them as edgekit's seeded random init.
    weights = str(policy) if policy.path is not None else FACTORY_WEIGHTS
    return LoadedModel(name=slug(function_name), kind="torch", model=module, preprocessing=prep,
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


def load_timm(source: SourceSpec) -> LoadedModel:
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
    prep, _ = flag_preprocessing(source, base, side)
    return LoadedModel(name=slug(source.name), kind="torch", model=module, preprocessing=prep,
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
