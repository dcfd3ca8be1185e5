"""The options every command that takes a model shares: how the model's input looks, and its class names."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from edgekit.errors import BadInputError
from edgekit.models._source import ModelSource, parse_source

MODEL_HELP = ("registry name, ARCH@CHECKPOINT (or --weights), package.module:function, timm:NAME, "
              "or an ONNX classifier file")  # fmt: skip
InputSize = Annotated[
    int | None, typer.Option("--input-size", help="input side in px (own models: default 224, stated as assumed)")
]
Mean = Annotated[str | None, typer.Option("--mean", help="per-channel mean R,G,B (default ImageNet's)")]
Std = Annotated[str | None, typer.Option("--std", help="per-channel std R,G,B (default ImageNet's)")]
Layout = Annotated[str | None, typer.Option("--layout", help="ONNX files: NCHW or NHWC (default: guessed)")]
Labels = Annotated[
    Path | None, typer.Option("--labels", help="class names: a file (one per line) or an image folder's classes")
]


def triple(text: str | None, what: str) -> tuple[float, float, float] | None:
    """``0.5,0.5,0.5`` → (0.5, 0.5, 0.5).

    Raises:
        BadInputError: not three numbers.
    """
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise BadInputError(f"--{what} needs three numbers R,G,B, got {text!r}") from None
    if len(values) != 3:
        raise BadInputError(f"--{what} needs three numbers R,G,B, got {text!r}")
    return values  # type: ignore[return-value]


def source_from(model: str, weights: str = "none", input_size: int | None = None, mean: str | None = None,
                std: str | None = None, layout: str | None = None,
                labels: Path | None = None) -> ModelSource:  # fmt: skip
    """Parse a model argument and its flags into one :class:`ModelSource`."""
    return parse_source(model, weights=weights, input_size=input_size, mean=triple(mean, "mean"),
                        std=triple(std, "std"), layout=layout, labels=labels)  # fmt: skip
