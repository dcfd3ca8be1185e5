"""CLI contract: one clear line and exit 2 for bad input, JSON for machines."""

import json
from pathlib import Path

from typer.testing import CliRunner

from edgekit.cli.main import app

runner = CliRunner()


def test_models_json_lists_published_figures() -> None:
    result = runner.invoke(app, ["models", "resnet1*", "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == ["resnet101", "resnet152", "resnet18"]
    assert rows[2]["gmacs"]["value"] == 1.814
    assert rows[2]["gmacs"]["provenance"]["kind"] == "published"


def test_models_table() -> None:
    result = runner.invoke(app, ["models", "squeezenet*"])
    assert result.exit_code == 0
    assert "squeezenet1_1" in result.stdout
    assert "2 models" in result.stdout


def test_analyze_json_is_computed() -> None:
    result = runner.invoke(app, ["analyze", "squeezenet1_1", "--json"])
    assert result.exit_code == 0
    (row,) = json.loads(result.stdout)
    assert row["params"] == 1235496
    assert round(row["macs"] / 1e9, 3) == 0.349


def test_unknown_model_exits_2_with_suggestion() -> None:
    result = runner.invoke(app, ["analyze", "mobilenet_v9"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: unknown model 'mobilenet_v9'; did you mean mobilenet_v2, mobilenet_v3_small, mobilenet_v3_large?"
    ]


def test_non_onnx_file_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"\x00\x01garbage")
    result = runner.invoke(app, ["analyze", str(path)])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "is not a readable ONNX model" in result.stderr
    assert "Traceback" not in result.output


def test_truncated_onnx_exits_2(tmp_path: Path) -> None:
    from tests.analysis.test_liveness import _hand_graph

    data = _hand_graph().SerializeToString()
    path = tmp_path / "half.onnx"
    path.write_bytes(data[: len(data) // 2])
    result = runner.invoke(app, ["analyze", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")


def test_analyze_onnx_file(tmp_path: Path) -> None:
    import onnx

    from tests.analysis.test_liveness import _hand_graph

    path = tmp_path / "hand.onnx"
    onnx.save(_hand_graph(), path)
    result = runner.invoke(app, ["analyze", str(path), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)[0]["peak_activation_bytes"] == 1536


def test_analyze_refuses_input_size_on_a_fixed_size_file(tmp_path: Path) -> None:
    import onnx

    from tests.analysis.test_input_size import conv_graph

    path = tmp_path / "static160.onnx"
    onnx.save(conv_graph(160, 160), path)
    result = runner.invoke(app, ["analyze", str(path), "--input-size", "224"])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ")
    assert "has the fixed shape [1, 3, 160, 160]" in line
    assert "--input-size 224" in line


def test_analyze_says_the_size_a_symbolic_file_was_analysed_at(tmp_path: Path) -> None:
    import onnx

    from tests.analysis.test_input_size import conv_graph

    path = tmp_path / "dynamic.onnx"
    onnx.save(conv_graph("h", "w"), path)
    result = runner.invoke(app, ["analyze", str(path), "--input-size", "20"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "input x float['batch', 3, 'h', 'w'] (analysed at [1, 3, 20, 20])" in result.stdout


def test_analyze_preprocessing_follows_the_input_size() -> None:
    result = runner.invoke(app, ["analyze", "squeezenet1_1", "--input-size", "160"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "preprocess: resize 183 → crop 160" in result.stdout  # weights: resize 256 → crop 224
    assert "input input float['batch', 3, 160, 160]" in result.stdout
