"""Sweep files: the overnight run written down (models x recipes x runtimes x batches x profiles, one protocol).

The same file gives the same cells in the same order; artifacts are built once on the workstation through
edgekit's recipes (the verified, cached variants ``compare`` times) before anything is sent to a board.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from edgekit._datafile import read_yaml_file
from edgekit.bench._spec import DEFAULT_MIN_SECONDS, BenchConfig, BenchSpec
from edgekit.bench.runners import ArtifactSource, get_runner
from edgekit.compare._artifacts import source_recipe_onnx
from edgekit.compare._variants import variant_builder
from edgekit.errors import BadInputError
from edgekit.fleet._cell import FleetCell
from edgekit.models._source import is_registry_name, parse_source
from edgekit.profiles import get_profile
from edgekit.recipes import get_recipe
from edgekit.vocab import StrictModel

SCHEMA_VERSION = 1


class Protocol(StrictModel):
    """How each cell is measured (``edgekit bench``'s protocol; one child process per cell)."""

    warmup: int = Field(10, ge=0)
    min_iters: int = Field(30, ge=1)
    min_seconds: float = Field(DEFAULT_MIN_SECONDS, ge=0)

    def config(self) -> BenchConfig:
        """The bench protocol settings."""
        return BenchConfig(warmup=self.warmup, min_iters=self.min_iters, min_seconds=self.min_seconds)


class SweepFile(StrictModel):
    """``edgekit sweep FILE.yaml``: every combination of the lists below becomes one cell."""

    schema_version: Literal[1] = SCHEMA_VERSION
    models: list[str] = Field(min_length=1, description="registry names or ONNX files (relative to the file)")
    recipes: list[str] = Field(["fp32"], min_length=1, description="optimization recipes yielding ONNX")
    runtimes: list[str] = Field(["onnxruntime-cpu"], min_length=1, description="runner names")
    profiles: list[str] = Field(min_length=1, description="device profiles; boards advertise edgekit-device:<id>")
    batch: list[int] = Field([1], min_length=1)
    threads: int = Field(1, ge=1, description="intra-op threads on the board")
    weights: str = Field("none", description="imagenet | none | checkpoint (latency does not depend on it)")
    protocol: Protocol = Protocol()

    @field_validator("models", "recipes", "runtimes", "profiles", "batch")
    @classmethod
    def _unique(cls, values: list) -> list:  # type: ignore[type-arg]
        if len(set(values)) != len(values):
            raise ValueError("has duplicates")
        if any(isinstance(v, int) and v < 1 for v in values):
            raise ValueError("batch sizes must be at least 1")
        return values


def load_sweep(path: Path) -> SweepFile:
    """Read and check a sweep file; names (recipes, runtimes, profiles) are checked against the registries.

    Raises:
        BadInputError: unreadable, a schema violation, an unknown name (with close matches), a missing model file.
    """
    sweep = read_yaml_file(Path(path), SweepFile, "sweep")
    for recipe in sweep.recipes:
        if get_recipe(recipe).output_kind != "onnx":
            raise BadInputError(f"sweep {Path(path).name}: recipe {recipe} yields a torch-only artifact; "
                                "boards time ONNX")  # fmt: skip
    for runtime in sweep.runtimes:
        get_runner(runtime)
    for profile in sweep.profiles:
        get_profile(profile)
    base = Path(path).resolve().parent
    models = [m if is_registry_name(m) else str((base / m).resolve()) for m in sweep.models]
    for model in models:
        if not is_registry_name(model) and not Path(model).is_file():
            raise BadInputError(f"sweep {Path(path).name}: {model} is neither a registry model nor a file")
    return sweep.model_copy(update={"models": models})


def artifact(model: str, recipe: str, weights: str) -> Path:
    """The verified ONNX file of ``model`` built by ``recipe`` (cached; an ONNX file's fp32 is the file itself).

    Raises:
        VerificationError: the variant failed its checks.
    """
    if is_registry_name(model):
        return variant_builder(recipe)(model, weights)
    if recipe == "fp32":
        return Path(model)
    return source_recipe_onnx(parse_source(model, weights=weights), recipe)


def sweep_cells(sweep: SweepFile) -> list[FleetCell]:
    """One cell per (model, recipe, runtime, batch, profile), in the file's order; artifacts built here."""
    cells = []
    for model in sweep.models:
        label = model if is_registry_name(model) else Path(model).stem
        for recipe in sweep.recipes:
            source = ArtifactSource(path=artifact(model, recipe, sweep.weights))
            for runtime in sweep.runtimes:
                for batch in sweep.batch:
                    spec = BenchSpec(source=source, runtime=runtime, batch=batch, threads=sweep.threads, model=label,
                                     variant=recipe)  # fmt: skip
                    cells.extend(FleetCell(spec=spec, profile=p) for p in sweep.profiles)
    return cells
