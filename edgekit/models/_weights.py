"""Build the deployable network under a weights policy: imagenet, none, or a checkpoint."""

from __future__ import annotations

import urllib.error
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from edgekit.errors import BadInputError, WeightsUnavailableError
from edgekit.models._registry import get_model_info

if TYPE_CHECKING:
    import torch

# Random-init builds are seeded so that the same command gives the same artifact bytes.
RANDOM_INIT_SEED = 0
# Architectures whose torchvision builder adds training-only heads unless told otherwise.
# With pretrained weights torchvision drops the auxiliary heads and normalizes the input
# inside the network (transform_input); the deployable random-init network must match.
_DEPLOYABLE_KWARGS: dict[str, dict[str, Any]] = {
    "googlenet": {"aux_logits": False, "transform_input": True, "init_weights": True},
    "inception_v3": {"aux_logits": False, "transform_input": True, "init_weights": True},
}
_AUX_PREFIXES = ("aux1.", "aux2.", "AuxLogits.")
_WRAPPER_KEYS = ("state_dict", "model", "model_state_dict")


class WeightsPolicy(BaseModel):
    """Which weights to put in the network."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["imagenet", "none", "checkpoint"]
    path: Path | None = None

    @property
    def accuracy_meaningful(self) -> bool:
        """False for random init: accuracy and top-1 agreement with labels mean nothing."""
        return self.kind != "none"

    def __str__(self) -> str:
        return str(self.path) if self.kind == "checkpoint" else self.kind


def parse_weights(text: str) -> WeightsPolicy:
    """Parse ``imagenet``, ``none`` or a path to a local checkpoint.

    Raises:
        BadInputError: the text is neither keyword and no file exists at that path.
    """
    if text in ("imagenet", "none"):
        return WeightsPolicy(kind=text)  # type: ignore[arg-type]
    path = Path(text).expanduser()
    if not path.is_file():
        raise BadInputError(f"--weights must be 'imagenet', 'none' or a checkpoint file; {text!r} is none")
    return WeightsPolicy(kind="checkpoint", path=path.resolve())


def build_model(name: str, weights: WeightsPolicy | str = "none") -> torch.nn.Module:
    """Build ``name`` in eval mode, as it would be deployed.

    Raises:
        UnknownNameError: not a torchvision classifier.
        WeightsUnavailableError: ImageNet weights are not cached and cannot be downloaded.
        BadInputError: the checkpoint cannot be read or does not fit the architecture.
    """
    policy = parse_weights(weights) if isinstance(weights, str) else weights
    info = get_model_info(name)
    if policy.kind == "imagenet":
        model = _build_pretrained(name, info.weights_url)
    else:
        model = _build_random(name)
        if policy.kind == "checkpoint":
            assert policy.path is not None
            _load_checkpoint(model, policy.path, name)
    return model.eval()


def _build_random(name: str) -> torch.nn.Module:
    import torch
    import torchvision

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_INIT_SEED)
        return torchvision.models.get_model(name, weights=None, **_DEPLOYABLE_KWARGS.get(name, {}))


def _build_pretrained(name: str, url: str) -> torch.nn.Module:
    import torch
    import torchvision

    try:
        return torchvision.models.get_model(name, weights="DEFAULT")
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        cache = Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]
        raise WeightsUnavailableError(
            f"cannot download ImageNet weights for {name} ({exc.__class__.__name__}; offline?): "
            f"place {url} at {cache}, or use --weights PATH or --weights none"
        ) from exc


def _load_checkpoint(model: torch.nn.Module, path: Path, name: str) -> None:
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file; all mean "unreadable"
        raise BadInputError(f"cannot read checkpoint {path}: {exc.__class__.__name__}") from exc
    state = _unwrap_state_dict(state, path)
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shape mismatches raise even when strict=False
        first = str(exc).splitlines()[1].strip() if len(str(exc).splitlines()) > 1 else str(exc)
        raise BadInputError(f"checkpoint {path.name} does not fit {name}: {first}") from exc
    if result.missing_keys or result.unexpected_keys:
        raise BadInputError(
            f"checkpoint {path.name} does not fit {name}: "
            f"missing {result.missing_keys[:3]}, unexpected {result.unexpected_keys[:3]}"
        )


def _unwrap_state_dict(state: Any, path: Path) -> dict[str, Any]:
    for key in _WRAPPER_KEYS:
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict):
        raise BadInputError(f"checkpoint {path.name} holds no state_dict")
    cleaned = {k.removeprefix("module."): v for k, v in state.items()}
    return {k: v for k, v in cleaned.items() if not k.startswith(_AUX_PREFIXES)}
