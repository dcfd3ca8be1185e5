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


def build_model(name: str, weights: WeightsPolicy | str = "none", num_classes: int | None = None) -> torch.nn.Module:
    """Build ``name`` in eval mode, as it would be deployed.

    ``num_classes`` (default: torchvision's) sizes the classifier head; a checkpoint whose head differs
    from ImageNet's sets it itself (see :func:`checkpoint_classes`).

    Raises:
        UnknownNameError: not a torchvision classifier.
        WeightsUnavailableError: ImageNet weights are not cached and cannot be downloaded.
        BadInputError: the checkpoint cannot be read (or needs arbitrary unpickling) or does not fit the architecture.
    """
    policy = parse_weights(weights) if isinstance(weights, str) else weights
    info = get_model_info(name)
    if policy.kind == "imagenet":
        if num_classes not in (None, info.num_classes):
            raise BadInputError(f"--weights imagenet gives {name} {info.num_classes} classes, not {num_classes}")
        return _build_pretrained(name, info.weights_url).eval()
    state = read_checkpoint(policy.path) if policy.kind == "checkpoint" and policy.path is not None else None
    classes = num_classes or (checkpoint_classes(name, state) if state is not None else None)
    model = _build_random(name, classes if classes != info.num_classes else None)
    if state is not None and policy.path is not None:
        load_state(model, state, f"checkpoint {policy.path.name}", name)
    return model.eval()


def _build_random(name: str, num_classes: int | None = None) -> torch.nn.Module:
    import torch
    import torchvision

    kwargs = {**_DEPLOYABLE_KWARGS.get(name, {}), **({"num_classes": num_classes} if num_classes else {})}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_INIT_SEED)
        return torchvision.models.get_model(name, weights=None, **kwargs)


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


def read_checkpoint(path: Path) -> dict[str, Any]:
    """The state_dict inside a checkpoint, read with ``weights_only=True``.

    Wrappers are unwrapped (``state_dict`` / ``model`` / ``model_state_dict`` keys, DataParallel/DDP
    ``module.`` prefixes) and auxiliary training heads dropped.

    Raises:
        BadInputError: unreadable, needs arbitrary unpickling (refused), or holds no state_dict.
    """
    import pickle

    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:  # weights_only refuses any global it does not allow
        raise BadInputError(f"checkpoint {path.name} needs arbitrary unpickling, refused (weights_only=True): "
                            "save model.state_dict() instead") from exc  # fmt: skip
    except Exception as exc:  # torch raises many types for a bad file; all mean "unreadable"
        raise BadInputError(f"cannot read checkpoint {path}: {exc.__class__.__name__}") from exc
    return _unwrap_state_dict(state, path)


def checkpoint_classes(name: str, state: dict[str, Any]) -> int | None:
    """The class count of a checkpoint whose classifier head differs from torchvision's, else None.

    The head is the set of tensors whose first dimension is the default class count in the architecture and
    something else in the checkpoint (the other dimensions equal); they must agree on one count.
    """
    default = get_model_info(name).num_classes
    reference = _build_random(name).state_dict()
    counts = {
        int(value.shape[0])
        for key, value in state.items()
        if key in reference and hasattr(value, "shape") and value.ndim >= 1
        and tuple(reference[key].shape) != tuple(value.shape) and reference[key].shape[0] == default
        and tuple(reference[key].shape[1:]) == tuple(value.shape[1:])
    }  # fmt: skip
    return counts.pop() if len(counts) == 1 else None


def load_state(model: torch.nn.Module, state: dict[str, Any], what: str, name: str) -> None:
    """Load ``state`` into ``model`` strictly; a misfit names the first key that does not fit.

    Raises:
        BadInputError: a tensor's shape differs, or keys are missing or unexpected.
    """
    expected = model.state_dict()
    for key, value in state.items():
        if key in expected and tuple(getattr(value, "shape", ())) != tuple(expected[key].shape):
            raise BadInputError(f"{what} does not fit {name}: {key} is {list(value.shape)} in the checkpoint, "
                                f"{list(expected[key].shape)} in the model")  # fmt: skip
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        first = f"missing {missing[0]}" if missing else f"unexpected {unexpected[0]}"
        raise BadInputError(f"{what} does not fit {name}: {first} ({len(missing)} missing, "
                            f"{len(unexpected)} unexpected keys)")  # fmt: skip
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:  # e.g. a non-tensor value
        lines = str(exc).splitlines()
        raise BadInputError(
            f"{what} does not fit {name}: {(lines[1] if len(lines) > 1 else lines[0]).strip()}"
        ) from exc


def _unwrap_state_dict(state: Any, path: Path) -> dict[str, Any]:
    for key in _WRAPPER_KEYS:
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
        raise BadInputError(f"checkpoint {path.name} holds no state_dict")
    cleaned = {k.removeprefix("module."): v for k, v in state.items()}
    return {k: v for k, v in cleaned.items() if not k.startswith(_AUX_PREFIXES)}
