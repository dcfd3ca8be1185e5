"""Decompression bombs and broken images in ``--calib``/``--data``: skipped with one warning each, run goes on.

A bomb is a valid PNG whose header claims 50000 x 50000 px (2.5 Gpx, a few hundred bytes on disk). Only
when no usable image remains does the run stop, with one ``error:`` line.
"""

from __future__ import annotations

import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edgekit.errors import BadInputError, SkippedInputWarning
from edgekit.images import load_images, load_labeled_images
from edgekit.models import Preprocessing
from tests.hostile._boundary import assert_one_error_line, run_cli, seed_cache, tiny_onnx

PREP = Preprocessing(resize_px=16, crop_px=16, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25), interpolation="bilinear")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_bomb(path: Path, side: int = 50_000) -> Path:
    """An RGB PNG claiming ``side`` x ``side`` pixels, with a few bytes of image data."""
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    data = _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + _chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + data)
    return path


def _good_images(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for index in range(count):
        Image.fromarray((rng.random((20, 24, 3)) * 255).astype("uint8")).save(folder / f"ok{index}.png")
    return folder


def test_a_bomb_among_calibration_images_is_skipped_and_named(tmp_path: Path) -> None:
    # setup
    calib = _good_images(tmp_path / "calib", 3)
    write_bomb(calib / "bomb.png")
    out = tmp_path / "out"
    # execute
    run = run_cli(["export", str(tiny_onnx(tmp_path / "tiny.onnx")), "--target", "rknn", "--precision", "int8",
                   "--calib", str(calib), "--out", str(out)], seed_cache(tmp_path / "home"))  # fmt: skip
    # assert
    assert run.code == 0, run.stderr
    assert "Traceback" not in run.stderr
    (line,) = run.stderr.strip().splitlines()  # once, though the folder may be read more than once
    assert line.startswith(f"warning: skipped image {calib / 'bomb.png'}: Image size (2500000000 pixels) exceeds")
    assert sorted(p.name for p in (out / "calibration").iterdir()) == ["0000.png", "0001.png", "0002.png"]


def test_a_bomb_among_parity_images_is_skipped(tmp_path: Path) -> None:
    data = _good_images(tmp_path / "data", 2)
    write_bomb(data / "bomb.png")
    run = run_cli(["export", str(tiny_onnx(tmp_path / "tiny.onnx")), "--target", "onnxruntime-cpu", "--data",
                   str(data), "--out", str(tmp_path / "out")], seed_cache(tmp_path / "home"))  # fmt: skip
    assert run.code == 0, run.stderr
    assert run.stderr.startswith(f"warning: skipped image {data / 'bomb.png'}: ")
    assert (tmp_path / "out" / "manifest.json").is_file()


def test_only_bombs_is_one_error_line(tmp_path: Path) -> None:
    calib = tmp_path / "calib"
    calib.mkdir()
    write_bomb(calib / "a.png")
    write_bomb(calib / "b.png")
    out = tmp_path / "out"
    run = run_cli(["export", str(tiny_onnx(tmp_path / "tiny.onnx")), "--target", "rknn", "--precision", "int8",
                   "--calib", str(calib), "--out", str(out)], seed_cache(tmp_path / "home"))  # fmt: skip
    assert_one_error_line(run, f"no readable images in {calib} (2 image files tried)")
    assert not out.exists()


def test_labelled_data_skips_bombs_broken_and_oversized_files(tmp_path: Path) -> None:
    _good_images(tmp_path / "val" / "n01", 2)
    _good_images(tmp_path / "val" / "n02", 1)
    write_bomb(tmp_path / "val" / "n01" / "bomb.png")  # over twice Pillow's limit: it refuses
    write_bomb(tmp_path / "val" / "n02" / "big.png", side=10_000)  # 100 Mpx: Pillow only warns; skipped as well
    (tmp_path / "val" / "n02" / "cut.png").write_bytes((tmp_path / "val" / "n02" / "ok0.png").read_bytes()[:60])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batch = load_labeled_images(tmp_path / "val", PREP)
    assert (len(batch), batch.skipped, batch.labels) == (3, 3, (0, 0, 1))
    skipped = sorted(Path(str(w.message).split(": ")[0].removeprefix("skipped image ")).name for w in caught
                     if issubclass(w.category, SkippedInputWarning))  # fmt: skip
    assert skipped == ["big.png", "bomb.png", "cut.png"]


def test_many_unusable_files_are_named_up_to_five(tmp_path: Path) -> None:
    folder = _good_images(tmp_path / "imgs", 1)
    for index in range(8):
        (folder / f"bad{index}.jpg").write_bytes(b"\xff\xd8 not really")
    with pytest.warns(SkippedInputWarning) as caught:
        assert load_images(folder, PREP).skipped == 8
    messages = [str(w.message) for w in caught]
    assert len(messages) == 6
    assert messages[-1] == "skipped 3 more unusable image(s)"


def test_no_usable_image_raises_without_warnings(tmp_path: Path) -> None:
    write_bomb(tmp_path / "bomb.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning here would be an error
        with pytest.raises(BadInputError, match=r"no readable images in .* \(1 image files tried\)"):
            load_images(tmp_path, PREP)
