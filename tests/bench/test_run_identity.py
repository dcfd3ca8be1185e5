"""The results-store identity of a measured artifact covers its weights as well as its graph."""

from pathlib import Path

from edgekit.bench.run import source_identity
from edgekit.bench.runners import ArtifactSource


def test_sibling_weights_change_the_identity(tmp_path: Path) -> None:
    # setup: an ncnn pair whose .param stays the same while the .bin changes (fp16 vs fp32 storage)
    param, weights = tmp_path / "m.ncnn.param", tmp_path / "m.ncnn.bin"
    param.write_text("7767517\n")
    weights.write_bytes(b"fp32 weights")
    # execute
    before = source_identity(ArtifactSource(path=param))
    weights.write_bytes(b"fp16 weights")
    after = source_identity(ArtifactSource(path=param))
    # assert
    assert before["sha256"] == after["sha256"]
    assert before != after
    assert len(after["companions"]) == 1
