"""A toy runtime that lives outside edgekit, as a plug-in would: converts, verifies and times.

Its "conversion" copies the ONNX file to ``toy/<stem>.toy``; its runner and its converter run
that file with onnxruntime. Declared through ``register_runtime`` and loaded from an entry point
of the ``edgekit.runtimes`` group (see test_plugins.py): no file under edgekit/ names it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from edgekit.bench import PreparedRun, Runner, register_runner
from edgekit.bench._inputs import onnx_input_shape, random_pixels
from edgekit.ort import make_session, run_batches
from edgekit.runtimes import Runtime, register_runtime
from edgekit.targets._converter import ToolchainConverter

TOY_DIR = "toy"


@register_runner
class ToyCpuRunner(Runner):
    """Times a ``.toy`` file (ONNX bytes) with onnxruntime on the CPU."""

    name = "toy-cpu"
    family = "toy"
    device = "cpu"
    artifact_suffixes = (".toy",)

    def prepare(self, source, batch, threads):  # noqa: ANN001, ANN201
        path = Path(source.path)
        shape = onnx_input_shape(path, batch, source.input_px)
        session = make_session(path, threads=threads)
        feed = {session.get_inputs()[0].name: random_pixels(shape)}
        return PreparedRun(run=lambda: session.run(None, feed), input_shape=shape, settings={"toy": "yes"})


class ToyConverter(ToolchainConverter):
    """Copies the ONNX file into ``toy/`` and runs the copy with onnxruntime."""

    name = "toy"

    def convert(self, onnx_path: Path, out_dir: Path, precision: str) -> list[Path]:
        """Write ``toy/<stem>.toy``."""
        target = out_dir / TOY_DIR / f"{onnx_path.stem}.toy"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(onnx_path, target)
        return [target.relative_to(out_dir)]

    def run(self, out_dir: Path, files: list[Path], pixels: np.ndarray) -> np.ndarray:
        """Run the copy."""
        return run_batches(make_session(out_dir / files[0], threads=self.threads), pixels)


RUNTIME = register_runtime(Runtime(
    name="toy", description="a toy runtime from the tests folder", runners=(ToyCpuRunner.name,),
    converter=ToyConverter, artifact_suffix=".toy", artifact_folder=TOY_DIR, artifact_role="toy",
    times_targets_with=ToyCpuRunner.name,
))  # fmt: skip
