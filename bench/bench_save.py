"""Cost of saving a server PNG with new infotext: chunk splice vs Pillow re-encode vs plain write.

Run: ``python bench/bench_save.py [--reps N]``. Prints the median time of each way of saving a
1024x1024 photo-like PNG, the ratios, and PASS/FAIL against the budget (exit status 1 on FAIL):

- re-encode / ours >= 20: splicing the text chunk must be far cheaper than Pillow's re-encode;
- ours / plain <= 2.0: splicing must cost little more than writing the bytes as they are.

The three are interleaved (order rotating each repetition) so drift in the machine's load or
disk cache affects all of them alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageChops, ImageFilter
from PIL.PngImagePlugin import PngInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sdtui.images import build_infotext, read_text_chunks, set_text_chunk

SIZE = 1024
BUDGET_REENCODE_OVER_OURS = 20.0
BUDGET_OURS_OVER_PLAIN = 2.0

SERVER_INFOTEXT = build_infotext(
    "a lighthouse on a cliff at dawn, volumetric light, highly detailed",
    "blurry, lowres",
    {
        "Steps": 20,
        "Sampler": "Euler a",
        "Schedule type": "Karras",
        "CFG scale": 7.0,
        "Seed": 1234567890,
        "Size": f"{SIZE}x{SIZE}",
        "Model hash": "6ce0161689",
        "Model": "v1-5-pruned-emaonly",
        "Version": "v1.10.1",
    },
)
NEW_INFOTEXT = SERVER_INFOTEXT.replace("Seed: 1234567890", "Seed: 987654321") + ", User: bench"


def make_server_png() -> bytes:
    """A render-like PNG: smooth colour gradients with mild noise, carrying ``parameters``."""
    horizontal = Image.linear_gradient("L").rotate(90).resize((SIZE, SIZE))
    vertical = Image.linear_gradient("L").resize((SIZE, SIZE))
    radial = Image.radial_gradient("L").resize((SIZE, SIZE))
    base = Image.merge("RGB", (horizontal, vertical, radial)).filter(ImageFilter.GaussianBlur(4))
    noise = Image.effect_noise((SIZE, SIZE), 6).convert("RGB")
    # Noise around mid-grey added with offset keeps gradients but defeats perfect prediction.
    image = ImageChops.add(base, noise, scale=1.0, offset=-128)
    info = PngInfo()
    info.add_text("parameters", SERVER_INFOTEXT)
    out = BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def write_atomic(path: Path, data: bytes) -> None:
    """Write beside the target, then rename over it: how the store saves."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def save_ours(png: bytes, path: Path) -> None:
    write_atomic(path, set_text_chunk(png, "parameters", NEW_INFOTEXT))


def save_reencode(png: bytes, path: Path) -> None:
    info = PngInfo()
    info.add_text("parameters", NEW_INFOTEXT)
    with Image.open(BytesIO(png)) as image:
        image.save(path, pnginfo=info)


def save_plain(png: bytes, path: Path) -> None:
    write_atomic(path, png)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=30, help="timed repetitions (default 30)")
    args = parser.parse_args()

    png = make_server_png()
    methods: dict[str, Callable[[bytes, Path], None]] = {
        "ours (splice + write)": save_ours,
        "Pillow re-encode": save_reencode,
        "plain write": save_plain,
    }
    times: dict[str, list[float]] = {name: [] for name in methods}
    names = list(methods)

    with tempfile.TemporaryDirectory(prefix="sdtui-bench-") as tmp:
        folder = Path(tmp)
        paths = {name: folder / f"out{i}.png" for i, name in enumerate(names)}
        for name in names:  # warm-up: imports, page cache, allocator
            methods[name](png, paths[name])
        for rep in range(args.reps):
            shift = rep % len(names)
            for name in names[shift:] + names[:shift]:
                start = time.perf_counter()
                methods[name](png, paths[name])
                times[name].append(time.perf_counter() - start)
        saved = paths["ours (splice + write)"].read_bytes()
        if read_text_chunks(saved).get("parameters") != NEW_INFOTEXT:
            print("FAIL: the spliced file does not carry the new infotext")
            return 1

    medians = {name: statistics.median(values) for name, values in times.items()}
    ours = medians["ours (splice + write)"]
    reencode = medians["Pillow re-encode"]
    plain = medians["plain write"]
    print(f"image: {SIZE}x{SIZE} PNG, {len(png) / 1e6:.2f} MB, {args.reps} repetitions")
    for name, value in medians.items():
        print(f"  {name:<22} median {value * 1000:8.2f} ms")
    ratio_reencode = reencode / ours
    ratio_plain = ours / plain
    ok_reencode = ratio_reencode >= BUDGET_REENCODE_OVER_OURS
    ok_plain = ratio_plain <= BUDGET_OURS_OVER_PLAIN
    print(
        f"  re-encode / ours = {ratio_reencode:6.1f}  (budget >= {BUDGET_REENCODE_OVER_OURS:g})"
        f"  {'PASS' if ok_reencode else 'FAIL'}"
    )
    print(
        f"  ours / plain     = {ratio_plain:6.2f}  (budget <= {BUDGET_OURS_OVER_PLAIN:g})"
        f"  {'PASS' if ok_plain else 'FAIL'}"
    )
    passed = ok_reencode and ok_plain
    print("PASS" if passed else "FAIL")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
