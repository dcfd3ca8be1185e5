from pathlib import Path

import pytest

from edgekit.analysis import analyze_onnx
from edgekit.errors import BadInputError


def test_non_onnx_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "notes.onnx"
    path.write_text("this is not a protobuf")
    with pytest.raises(BadInputError, match="is not a readable ONNX model"):
        analyze_onnx(path)


def test_truncated_file_is_rejected(tmp_path: Path) -> None:
    from tests.analysis.test_liveness import _hand_graph

    data = _hand_graph().SerializeToString()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadInputError, match="cut.onnx"):
        analyze_onnx(path)


def test_missing_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no such ONNX file"):
        analyze_onnx(tmp_path / "absent.onnx")
