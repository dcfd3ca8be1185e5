import pytest

from edgekit.errors import BadInputError
from edgekit.units import ByteSize, format_bytes, parse_bytes, parse_fps, parse_power


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("512MB", 512 * 2**20),
        ("512M", 512 * 2**20),
        ("512MiB", 512 * 2**20),
        ("0.5GiB", 2**29),
        ("0.5 GB", 2**29),
        ("4kb", 4096),
        ("100B", 100),
    ],
)
def test_parse_bytes(text: str, expected: int) -> None:
    assert parse_bytes(text) == ByteSize(expected)


@pytest.mark.parametrize(("text", "fps"), [("30", 30.0), ("30fps", 30.0), ("12.5Hz", 12.5), (" 60 FPS ", 60.0)])
def test_parse_fps(text: str, fps: float) -> None:
    parsed = parse_fps(text)
    assert parsed.fps == fps
    assert parsed.period_ms == pytest.approx(1000.0 / fps)


@pytest.mark.parametrize(("text", "watts"), [("5W", 5.0), ("5000mW", 5.0), ("0.5w", 0.5)])
def test_parse_power(text: str, watts: float) -> None:
    assert parse_power(text).watts == pytest.approx(watts)


@pytest.mark.parametrize(
    ("parser", "text", "message"),
    [
        (parse_bytes, "512XB", "unknown memory unit 'xb'"),
        (parse_bytes, "512", "memory size '512' needs a unit, e.g. 512MB or 512MiB"),
        (parse_bytes, "lots", "cannot parse memory size 'lots'"),
        (parse_bytes, "0MB", "must be positive"),
        (parse_fps, "30 frames", "unknown frame-rate unit .frames."),
        (parse_fps, "fast", "cannot parse frame rate"),
        (parse_fps, "30W", "unknown frame-rate unit 'w'"),
        (parse_power, "5", "power '5' needs a unit, e.g. 5W or 5mW"),
        (parse_power, "5 volts", "unknown power unit .volts."),
        (parse_power, "-5W", "cannot parse power"),
    ],
)
def test_bad_quantities_raise_one_clear_message(parser, text: str, message: str) -> None:
    with pytest.raises(BadInputError, match=message.replace("(none)", r"\(none\)")):
        parser(text)


def test_format_bytes_uses_1024_units() -> None:
    assert format_bytes(512 * 2**20) == "512 MB"
    assert format_bytes(1536) == "1.5 KB"
    assert format_bytes(12) == "12 B"
