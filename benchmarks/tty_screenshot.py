"""Capture a command as a terminal of a given size shows it, and render the capture to a PNG.

The command runs in a detached tmux session of exactly WIDTH x HEIGHT cells (a real TTY, so rich lays
tables out for that width); ``tmux capture-pane -p -e`` returns the screen and its scroll-back with colour
escapes, which this script draws with DejaVu Sans Mono (Pillow). The .txt beside the PNG holds the plain
capture, so a reviewer can grep it.

    python benchmarks/tty_screenshot.py --width 80 --out benchmarks/results/recommend_80.png -- \
        edgekit recommend --ram 512MB --fps 30 -p raspberry-pi-4,rk3588
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
SIZE = 14
BG, FG = (24, 24, 27), (220, 220, 220)
# xterm's 16 colours (30-37, 90-97)
PALETTE = [(0, 0, 0), (205, 49, 49), (13, 188, 121), (229, 229, 16), (36, 114, 200), (188, 63, 188),
           (17, 168, 205), (229, 229, 229), (102, 102, 102), (241, 76, 76), (35, 209, 139), (245, 245, 67),
           (59, 142, 234), (214, 112, 214), (41, 184, 219), (255, 255, 255)]  # fmt: skip
SGR = re.compile(r"\x1b\[([0-9;]*)m")


def capture(command: str, width: int, height: int, timeout: float) -> str:
    """Run ``command`` in a detached tmux session of width x height and return the pane with escapes."""
    name = f"shot-{uuid.uuid4().hex[:8]}"
    tmux = ["tmux", "-L", name]  # a private server: it starts with this process's environment (PATH, EDGEKIT_*)
    done = Path(tempfile.gettempdir()) / f"{name}.done"
    script = f"{command}; echo $? > {done}; sleep 3600"
    env_cmd = f"cd {shlex.quote(str(Path.cwd()))} && {script}"
    size = ["-x", str(width), "-y", str(height)]
    subprocess.run(
        [*tmux, "-f", "/dev/null", "new-session", "-d", "-s", name, *size, "bash", "-c", env_cmd], check=True
    )
    try:
        subprocess.run([*tmux, "set-option", "-t", name, "history-limit", "5000"], check=True)
        deadline = time.monotonic() + timeout
        while not done.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{command!r} did not finish in {timeout:.0f} s")
            time.sleep(0.5)
        out = subprocess.run([*tmux, "capture-pane", "-p", "-e", "-S", "-", "-t", name], check=True,
                             capture_output=True, text=True).stdout  # fmt: skip
    finally:
        subprocess.run([*tmux, "kill-server"], check=False)
        done.unlink(missing_ok=True)
    return out.rstrip("\n") + "\n"


def _style(codes: list[int], fg: tuple[int, int, int], bold: bool) -> tuple[tuple[int, int, int], bool]:
    i = 0
    while i < len(codes):
        c = codes[i]
        if c == 0:
            fg, bold = FG, False
        elif c == 1:
            bold = True
        elif c == 22:
            bold = False
        elif 30 <= c <= 37 or 90 <= c <= 97:
            fg = PALETTE[c - 30 if c < 90 else c - 90 + 8]
        elif c == 39:
            fg = FG
        elif c == 38 and i + 2 < len(codes) and codes[i + 1] == 5:
            n = codes[i + 2]
            fg = PALETTE[n] if n < 16 else FG
            i += 2
        elif c == 38 and i + 4 < len(codes) and codes[i + 1] == 2:
            fg = (codes[i + 2], codes[i + 3], codes[i + 4])
            i += 4
        i += 1
    return fg, bold


def render(text: str, width: int, out: Path, title: str) -> None:
    """Draw the captured text (with SGR colours) on a dark background, one cell per character."""
    regular, bold_font = ImageFont.truetype(FONT, SIZE), ImageFont.truetype(FONT_BOLD, SIZE)
    cell_w = round(regular.getlength("M"))
    cell_h = SIZE + 4
    lines = text.splitlines()
    pad = 12
    image = Image.new("RGB", (width * cell_w + 2 * pad, (len(lines) + 2) * cell_h + 2 * pad), BG)
    draw = ImageDraw.Draw(image)
    draw.text((pad, pad), title, font=bold_font, fill=(150, 150, 150))
    draw.line([(pad, pad + cell_h + 2), (pad + width * cell_w, pad + cell_h + 2)], fill=(80, 80, 80))
    fg, bold = FG, False
    for row, line in enumerate(lines):
        y = pad + (row + 2) * cell_h
        col = 0
        pos = 0
        for match in [*SGR.finditer(line), None]:
            chunk = line[pos : match.start() if match else len(line)]
            for ch in chunk:
                draw.text((pad + col * cell_w, y), ch, font=bold_font if bold else regular, fill=fg)
                col += 1
            if match:
                codes = [int(c) for c in match[1].split(";") if c] or [0]
                fg, bold = _style(codes, fg, bold)
                pos = match.end()
    image.save(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--width", type=int, required=True)
    parser.add_argument("--height", type=int, default=60)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--title", help="the command as shown above the capture (default: the command)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = " ".join(args.command[1:] if args.command[:1] == ["--"] else args.command)
    text = capture(command, args.width, args.height, args.timeout)
    args.out.with_suffix(".txt").write_text(SGR.sub("", text))
    render(text, args.width, args.out, f"$ {args.title or command}   ({args.width} columns, tmux)")
    print(f"wrote {args.out} ({args.width} columns, {len(text.splitlines())} lines)")


if __name__ == "__main__":
    main()
