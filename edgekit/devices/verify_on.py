"""``export --verify-on BOARD``: the target parity check with the converted artifact run on the board.

The converter converts here as usual; only :meth:`run` goes to the board, where the runner loads the
artifact as the target deploys it and returns its outputs on the parity images, which are then
judged against the fp32 parent here with the target's named tolerance. Runtimes the board runner
cannot run (OpenVINO, ncnn, ...) are refused before anything is built.
"""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path

import numpy as np

from edgekit.devices.board import Board
from edgekit.devices.check import RUNNER_TOOL, probe
from edgekit.errors import BadInputError, BoardProtocolError
from edgekit.targets._converter import ToolchainConverter

BOARD_VERIFIERS = ("onnxruntime",)  # converters whose run() the board runner can do
_INFER_TIMEOUT_S = 300.0


def check_verifiable_on_board(converter: ToolchainConverter) -> None:
    """Raise BadInputError when the board runner cannot run what ``converter`` runs."""
    if converter.name not in BOARD_VERIFIERS or converter.spec.verification.requires_cuda:
        raise BadInputError(f"--verify-on runs the parity check of onnxruntime CPU targets on a board; "
                            f"target {converter.spec.id} is verified with {converter.name}")  # fmt: skip


class BoardConverter:
    """A converter whose converted files run on a board (everything else is the wrapped converter's)."""

    def __init__(self, inner: ToolchainConverter, board: Board) -> None:
        check_verifiable_on_board(inner)
        self.inner, self.board = inner, board
        self.spec = inner.spec
        self.name = f"{inner.name} on board {board.label.id}"
        self._versions: dict[str, str] | None = None

    def convert(self, onnx_path: Path, out_dir: Path, precision: str) -> list[Path]:
        """Convert here, as the wrapped converter does."""
        return self.inner.convert(onnx_path, out_dir, precision)

    def tool_versions(self) -> dict[str, str]:
        """The board's versions of the runtime and the runner (read by the probe that ran first)."""
        return self._versions or {}

    def run(self, out_dir: Path, files: list[Path], pixels: np.ndarray) -> np.ndarray:
        """Ship the artifact and the pixels, run them on the board, return the outputs."""
        artifact = files[0] if files[0].is_absolute() else out_dir / files[0]
        with tempfile.TemporaryDirectory(prefix="edgekit-verify-on-") as folder:
            inputs = Path(folder) / "pixels.npy"
            np.save(inputs, np.ascontiguousarray(pixels, dtype=np.float32))
            names = self.board.ship([artifact, inputs])  # the runner too: one look into the board's cache
        check = probe(self.board, ship=False)
        self._versions = {k: v for k, v in check.fingerprint.tool_versions.items()
                          if k in (RUNNER_TOOL, *self.inner.distributions)}  # fmt: skip
        cache = self.board.cache_dir.rstrip("/")
        request = {"artifact": f"{cache}/{names[artifact]}", "inputs": f"{cache}/{names[inputs]}",
                   "threads": self.inner.threads}  # fmt: skip
        answer = self.board.call("infer", request, _INFER_TIMEOUT_S)
        try:
            data = base64.b64decode(answer["float32_b64"], validate=True)
            return np.frombuffer(data, dtype=np.float32).reshape(answer["shape"])
        except (KeyError, ValueError, TypeError) as exc:
            raise BoardProtocolError(f"{self.board.label.link}: the board's outputs are malformed ({exc})") from None
