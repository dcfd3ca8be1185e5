"""Prediction coordinates: the coordinate columns of ``published-latency.csv``, one row per question.

``device_id, model, runtime, unit, cores, precision, threads, batch, input_size`` — so any
published row can be predicted and compared with its figure.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from edgekit.errors import BadInputError
from edgekit.vocab import ComputeUnit, bad_input

PredictPrecision = Literal["fp32", "fp16", "int8", "w8a16", "mixed"]
COORDINATE_COLUMNS = ("device_id", "model", "runtime", "unit", "cores", "precision", "threads", "batch", "input_size")
# Peak-throughput class and bytes per weight / activation element of each precision.
PEAK_CLASS: dict[str, Literal["fp32", "fp16", "int8"]] = {
    "fp32": "fp32", "fp16": "fp16", "int8": "int8", "w8a16": "int8", "mixed": "int8",
}  # fmt: skip
WEIGHT_BYTES = {"fp32": 4, "fp16": 2, "int8": 1, "w8a16": 1, "mixed": 1}
ACTIVATION_BYTES = {"fp32": 4, "fp16": 2, "int8": 1, "w8a16": 2, "mixed": 2}  # mixed: int8 weights, 16-bit acts


class Coordinates(BaseModel):
    """What to predict: a model on a device, through a runtime, on a compute unit, at a precision."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    device_id: str
    model: str
    runtime: str = Field(description="runtime key of the published table, e.g. ncnn, onnxruntime, tensorrt")
    unit: ComputeUnit = "cpu"
    cores: Literal["all", "big", "little"] | None = Field(None, description="CPU only; None = all")
    precision: PredictPrecision = "fp32"
    threads: int | None = Field(None, ge=1, description="CPU threads; None = runtime default (all selected cores)")
    batch: int = Field(1, ge=1)
    input_size: int | None = Field(None, ge=16, description="square input side; None = the model's default")

    @model_validator(mode="after")
    def _supported(self) -> Coordinates:
        if self.batch != 1:
            raise ValueError("only batch 1 is predicted (every calibration row is batch 1)")
        return self

    @property
    def core_selection(self) -> Literal["all", "big", "little"]:
        """The CPU core selection, ``all`` when unspecified."""
        return self.cores or "all"

    def label(self) -> str:
        """One line naming the coordinates, e.g. ``resnet18 on rk3588 / ncnn cpu fp16 4 threads``."""
        extra = f" {self.core_selection} cores" if self.unit == "cpu" and self.cores else ""
        threads = f" {self.threads} threads" if self.threads else ""
        px = f" @{self.input_size}px" if self.input_size else ""
        return f"{self.model}{px} on {self.device_id} / {self.runtime} {self.unit} {self.precision}{extra}{threads}"


def _blank_to_none(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def coordinates_from_row(row: dict[str, str], where: str) -> Coordinates:
    """Build coordinates from a CSV row laid out like ``published-latency.csv``.

    Raises:
        BadInputError: a coordinate value is malformed (the message names ``where``).
    """
    values = {key: _blank_to_none(row.get(key)) for key in COORDINATE_COLUMNS}
    try:
        return Coordinates.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        raise bad_input(exc, where, limit=1, empty="row") from None


def _latency(text: str | None, where: str) -> float | None:
    value = _blank_to_none(text)
    if value is None:
        return None
    try:
        latency = float(value)
    except ValueError:
        raise BadInputError(f"{where}: latency_ms: not a number: {value!r}") from None
    if not math.isfinite(latency) or latency <= 0:  # float() takes 'inf' and 'nan'; neither is a latency
        raise BadInputError(f"{where}: latency_ms: must be a finite number > 0, got {value!r}")
    return latency


class TableRow(NamedTuple):
    """One row of a table laid out like ``published-latency.csv``."""

    coords: Coordinates
    latency_ms: float | None  # the published figure, when the table has one
    board: str  # may name a power mode of the device's profile ("MAXN_SUPER 25W")
    model_variant: str  # may state the MACs of the publisher's own graph


def read_table(path: Path) -> list[TableRow]:
    """Read every row of a table laid out like ``published-latency.csv`` (``latency_ms`` optional).

    Returns:
        The rows in file order.

    Raises:
        BadInputError: missing file or columns, or a malformed row (named by its line number).
    """
    try:
        text = path.read_text()
    except OSError as exc:
        raise BadInputError(f"cannot read table {path}: {exc.strerror}") from None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in ("device_id", "model", "runtime") if c not in (reader.fieldnames or [])]
    if missing:
        raise BadInputError(f"table {path} lacks column(s) {', '.join(missing)}")
    rows = []
    for line, row in enumerate(reader, start=2):
        where = f"{path.name} line {line}"
        coords = coordinates_from_row(row, where)
        text = {key: (row.get(key) or "").strip() for key in ("board", "model_variant")}
        rows.append(TableRow(coords, _latency(row.get("latency_ms"), where), text["board"], text["model_variant"]))
    if not rows:
        raise BadInputError(f"table {path} has no rows")
    return rows
