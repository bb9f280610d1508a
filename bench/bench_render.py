"""Half-block rendering: sdtui.render against rich-pixels, repaint cost, and colour fidelity.

Run: ``python bench/bench_render.py [--reps N] [--modes-only]``. Uses a 1024x1024 photo-like
image and prints median times, ratios, colour errors, and PASS/FAIL against the budgets (exit
status 1 on FAIL):

- speed: ours at least 4x faster than rich-pixels at 160x80 cells;
- speed: ours under 16 ms at 80x40 cells (absolute; rich-pixels' time is printed beside it);
- colour: ours within 5-bit quantisation error of an exact area average (see check_colours);
- 256 and 16 colour terminals (``--modes-only`` runs just this part): the cells dithered to the
  palette against what such a terminal showed before, Rich's nearest palette colour for every
  truecolor cell. Errors are against the exact area average, per pixel and after a small blur
  of both (what the eye sees from a step back: dithering trades the first for the second);
  building them must cost at most 1.5x the truecolor cells of the same run, and their blurred
  error must be under half the nearest colours'.

Both renderers are timed "cold": before every sample our Style cache and Rich's
``Style.parse`` cache are emptied, as for a new live-preview frame whose colours were never
seen. Warm times (same image again) are printed for information. Samples of every case are
interleaved, with the order rotating each repetition, so drift in the machine's load affects
all cases alike.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter
from rich.color import ColorSystem
from rich.console import Console
from rich.style import Style
from rich_pixels import Pixels

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sdtui.render import (
    CellImage,
    ColorMode,
    halfblock,
    place_line,
    quantise_level,
    render_cells,
)

SIZE = 1024
SIZES = [(80, 40), (160, 80)]
BUDGET_RATIO_160 = 4.0
BUDGET_MS_80 = 16.0
BUDGET_MODE_RATIO = 1.5  # a dithered mode's build time against truecolor's, at 160x80
BUDGET_BLUR_GAIN = 2.0  # dithered blurred error at least this much lower than nearest colours'
PAD_STYLE = Style(bgcolor="#1e1e1e")


def make_photo(seed: int = 7) -> Image.Image:
    """Smooth colour gradients, soft and hard-edged shapes, mild noise: like a render."""
    rng = random.Random(seed)
    horizontal = Image.linear_gradient("L").rotate(90).resize((SIZE, SIZE))
    vertical = Image.linear_gradient("L").resize((SIZE, SIZE))
    radial = Image.radial_gradient("L").resize((SIZE, SIZE))
    image = Image.merge("RGB", (horizontal, radial, vertical))
    soft = ImageDraw.Draw(image)
    for _ in range(25):
        x, y, r = rng.randrange(SIZE), rng.randrange(SIZE), rng.randrange(20, 200)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        soft.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(6))
    hard = ImageDraw.Draw(image)
    for _ in range(12):
        points = [(rng.randrange(SIZE), rng.randrange(SIZE)) for _ in range(3)]
        hard.polygon(points, fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    noise = Image.frombytes("RGB", (SIZE, SIZE), rng.randbytes(SIZE * SIZE * 3))
    return Image.blend(image, noise, 0.06)


# Timing --------------------------------------------------------------------------------------


def clear_caches() -> None:
    """Forget every colour both renderers have seen, and collect garbage outside the timing."""
    halfblock._STYLES.styles.clear()
    halfblock._STYLES.colors.clear()
    for palette in halfblock._PALETTES.values():
        palette.styles.clear()
    Style.parse.cache_clear()
    gc.collect()


def collect_only() -> None:
    gc.collect()


def rich_pixels_segments(image: Image.Image, cols: int, rows: int, console: Console) -> int:
    """rich-pixels as an app would use it, through to the segments a console would write."""
    pixels = Pixels.from_image(image, resize=(cols, rows * 2))
    return len(list(console.render(pixels)))


def repaint(cells: CellImage, width: int, height: int) -> int:
    """What ImageView.render_line does for every line of the widget, for one full repaint."""
    return sum(len(place_line(cells, y, width, height, PAD_STYLE)) for y in range(height))


def run_interleaved(
    cases: dict[str, tuple[Callable[[], None], Callable[[], object]]], reps: int
) -> dict[str, float]:
    """Median seconds of each case; ``setup`` runs untimed before every timed call."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for rep in range(reps):
        for name in names[rep % len(names) :] + names[: rep % len(names)]:
            setup, call = cases[name]
            setup()
            start = time.perf_counter()
            call()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


# Colour fidelity -----------------------------------------------------------------------------


def _area_weights(source: int, target: int) -> list[list[tuple[int, float]]]:
    """For each target pixel, (source index, weight): the fraction of it the pixel covers."""
    scale = source / target
    weights = []
    for index in range(target):
        left, right = index * scale, (index + 1) * scale
        row = []
        for src in range(int(left), min(source, int(right) + 1)):
            overlap = min(right, src + 1) - max(left, src)
            if overlap > 1e-12:
                row.append((src, overlap / scale))
        weights.append(row)
    return weights


def exact_area_average(image: Image.Image, width: int, height: int) -> list[list[float]]:
    """Reference downscale in plain Python floats: every source pixel weighted by its overlap.

    Independent of Pillow's resampling code. Returns one list per channel, row-major.
    """
    column_weights = _area_weights(image.width, width)
    row_weights = _area_weights(image.height, height)
    channels = []
    for band in image.split():
        data = band.tobytes()
        stride = image.width
        narrowed = [
            [sum(data[offset + x] * w for x, w in ws) for ws in column_weights]
            for offset in range(0, len(data), stride)
        ]
        channels.append(
            [sum(narrowed[y][x] * w for y, w in ws) for ws in row_weights for x in range(width)]
        )
    return channels


def cell_pixels(cells: CellImage, system: ColorSystem | None = None) -> list[list[int]]:
    """The cells' colours as three row-major channels of ``cols x 2*rows`` pixels: as built,
    or as Rich writes them for ``system`` (its nearest palette colour for a truecolor one)."""
    top: list[list[tuple[int, int, int]]] = []
    bottom: list[list[tuple[int, int, int]]] = []
    for strip in cells.strips:
        upper, lower = [], []
        for segment in strip:
            style = segment.style
            assert style is not None and style.color is not None and style.bgcolor is not None
            color, bgcolor = style.color, style.bgcolor
            if system is not None:
                color, bgcolor = color.downgrade(system), bgcolor.downgrade(system)
            fg = color.get_truecolor()
            bg = bgcolor.get_truecolor()
            upper += [(fg.red, fg.green, fg.blue)] * len(segment.text)
            lower += [(bg.red, bg.green, bg.blue)] * len(segment.text)
        top.append(upper)
        bottom.append(lower)
    pixels = [
        pixel for row_pair in zip(top, bottom, strict=True) for row in row_pair for pixel in row
    ]
    return [[pixel[channel] for pixel in pixels] for channel in range(3)]


def errors(
    ours: Sequence[Sequence[float]], reference: Sequence[Sequence[float]]
) -> tuple[float, float]:
    """Mean absolute error per channel (averaged over the channels) and the largest one."""
    diffs = [
        abs(a - b)
        for mine, ref in zip(ours, reference, strict=True)
        for a, b in zip(mine, ref, strict=True)
    ]
    return sum(diffs) / len(diffs), max(diffs)


# Bounds for check_colours, from the quantiser itself rather than hand-typed constants.
QUANT_MAX = max(abs(quantise_level(v) - v) for v in range(256))  # 4 of 255: under half a step
QUANT_MEAN = sum(abs(quantise_level(v) - v) for v in range(256)) / 256  # ~2 over all levels
PILLOW_ROUNDING = 1.0  # two separable passes, each rounding its average to a whole level
MEAN_BUDGET = QUANT_MEAN + PILLOW_ROUNDING
MAX_BUDGET_EXACT = QUANT_MAX + PILLOW_ROUNDING + 1e-6


def check_colours(image: Image.Image) -> list[tuple[str, bool]]:
    """Compare our cells with the exact area average; return (report line, passed) pairs.

    Why these bounds are sound:

    * Where the scale factor is an integer (1024 → 128x64 cells = 128x128 pixels), Pillow's BOX
      filter weighs exactly the pixels of each block, so each colour is the exact average
      rounded twice to a whole level (one horizontal and one vertical pass: ≤ 1 off together)
      and then to 5 bits (≤ QUANT_MAX, 4 levels). Every channel of every cell must be within
      the sum, 5 levels: a hard bound that point sampling, or a quantiser that truncates,
      breaks.
    * At the benchmark sizes the factors are fractional (12.8 and 6.4). Pillow's BOX then
      averages the whole source pixels whose centres fall inside the box, giving a pixel cut
      by the box edge weight 1 or 0 instead of its fraction. That is a small, unbiased
      difference on average but not bounded per pixel at sharp edges, so there the check is on
      the mean, at every size: the 5-bit error averaged over all levels (QUANT_MEAN, about 2)
      plus Pillow's rounding (≤ 1), about 3. A biased quantiser (truncation averages 3.5 on its
      own) or nearest-neighbour sampling (the noise alone costs more) fails it. The largest
      error is printed for information.
    """
    results = []
    for cols, rows, strict in [(128, 64, True), *((c, r, False) for c, r in SIZES)]:
        reference = exact_area_average(image, cols, rows * 2)
        mean, worst = errors(cell_pixels(render_cells(image, cols, rows)), reference)
        nearest = image.resize((cols, rows * 2), Image.Resampling.NEAREST)
        nearest_mean, _ = errors([list(band.tobytes()) for band in nearest.split()], reference)
        passed = mean <= MEAN_BUDGET and (not strict or worst <= MAX_BUDGET_EXACT)
        bound = f", max <= {MAX_BUDGET_EXACT:.2f}" if strict else ""
        results.append(
            (
                f"colour {cols}x{rows}: mean abs error {mean:.2f}/255 per channel "
                f"(budget <= {MEAN_BUDGET:.2f}{bound}), max {worst:.2f}; "
                f"nearest-neighbour would be {nearest_mean:.2f}",
                passed,
            )
        )
    return results


# Colour modes: 256 and 16 colour terminals ---------------------------------------------------

# (label, mode the cells are built in, colour system Rich downgrades them to as it writes them)
MODES: list[tuple[str, ColorMode, ColorSystem]] = [
    ("truecolor", "truecolor", ColorSystem.TRUECOLOR),
    ("256 nearest (before)", "truecolor", ColorSystem.EIGHT_BIT),
    ("256 dithered", "256", ColorSystem.EIGHT_BIT),
    ("16 nearest (before)", "truecolor", ColorSystem.STANDARD),
    ("16 dithered", "standard", ColorSystem.STANDARD),
]
_BLUR = (1, 4, 6, 4, 1)  # binomial, about a Gaussian of sigma 1 pixel (half a cell)


def blur(channel: list[float], width: int, height: int) -> list[float]:
    """``channel`` (row-major) blurred by _BLUR along both axes, edges clamped."""
    total = sum(_BLUR)
    reach = len(_BLUR) // 2

    def one_axis(
        values: list[float], count: int, stride: int, lines: int, step: int
    ) -> list[float]:
        out = [0.0] * len(values)
        for line in range(lines):
            base = line * step
            for i in range(count):
                acc = 0.0
                for k, weight in enumerate(_BLUR):
                    j = min(count - 1, max(0, i + k - reach))
                    acc += weight * values[base + j * stride]
                out[base + i * stride] = acc / total
        return out

    rows_done = one_axis(channel, width, 1, height, width)
    return one_axis(rows_done, height, width, width, 1)


def mode_errors(
    shown: list[list[int]], reference: list[list[float]], width: int, height: int
) -> tuple[float, float]:
    """Mean absolute error per channel, per pixel and after blurring both sides."""
    mean, _ = errors(shown, reference)
    blurred_mean, _ = errors(
        [blur([float(v) for v in channel], width, height) for channel in shown],
        [blur(channel, width, height) for channel in reference],
    )
    return mean, blurred_mean


def frame_bytes(cells: CellImage, system: ColorSystem) -> int:
    """Bytes a terminal of ``system`` is sent for these cells (escape codes and characters)."""
    size = 0
    for strip in cells.strips:
        for segment in strip:
            style = segment.style
            assert style is not None and style.color is not None and style.bgcolor is not None
            codes = ";".join(
                (
                    *style.color.downgrade(system).get_ansi_codes(),
                    *style.bgcolor.downgrade(system).get_ansi_codes(False),
                )
            )
            size += len(f"\x1b[{codes}m{segment.text}\x1b[0m".encode())
    return size


def mode_cases(image: Image.Image) -> dict[str, tuple[Callable[[], None], Callable[[], object]]]:
    """Cold builds of the cells in each colour mode, at each size."""
    cases: dict[str, tuple[Callable[[], None], Callable[[], object]]] = {}
    for cols, rows in SIZES:
        for mode in ("truecolor", "256", "standard"):
            call = partial(render_cells, image, cols, rows, colors=mode)
            cases[f"mode {mode} {cols}x{rows}"] = (clear_caches, call)
    return cases


def report_modes(image: Image.Image, ms: dict[str, float]) -> list[tuple[str, bool]]:
    """Print the colour-mode table; return its checks."""
    print(
        "\n256 and 16 colour terminals: errors per channel (/255) against the exact area "
        "average; build time cold, as a ratio to truecolor's in this run"
    )
    header = f"{'mode':<22} {'cells':>7} {'build':>9} {'ratio':>6} {'error':>6} {'blurred':>8}"
    print(header + f" {'colours':>8} {'bytes':>7}")
    checks: list[tuple[str, bool]] = []
    for cols, rows in SIZES:
        label = f"{cols}x{rows}"
        width, height = cols, rows * 2
        reference = exact_area_average(image, width, height)
        built = {
            mode: render_cells(image, cols, rows, colors=mode)
            for mode in ("truecolor", "256", "standard")
        }
        truecolor_ms = ms[f"mode truecolor {label}"]
        results: dict[str, float] = {}
        for name, mode, system in MODES:
            cells = built[mode]
            shown = cell_pixels(cells, system)
            mean, blurred_mean = mode_errors(shown, reference, width, height)
            results[name] = blurred_mean
            build_ms = ms[f"mode {mode} {label}"]
            colours = len(set(zip(*shown, strict=True)))
            timing = (
                f"{build_ms:7.2f}ms {build_ms / truecolor_ms:5.2f}x"
                if mode != "truecolor" or name == "truecolor"
                else f"{'(same cells)':>16}"
            )
            print(
                f"{name:<22} {label:>7} {timing} {mean:6.2f} {blurred_mean:8.2f} "
                f"{colours:8d} {frame_bytes(cells, system):7d}"
            )
        for bits, dithered_name, nearest_name, mode in (
            ("256", "256 dithered", "256 nearest (before)", "256"),
            ("16", "16 dithered", "16 nearest (before)", "standard"),
        ):
            dithered, nearest = results[dithered_name], results[nearest_name]
            checks.append(
                (
                    f"{bits} colours {label}: blurred error {dithered:.2f} dithered vs "
                    f"{nearest:.2f} nearest ({nearest / dithered:.1f}x lower, "
                    f"budget >= {BUDGET_BLUR_GAIN:.0f}x)",
                    nearest / dithered >= BUDGET_BLUR_GAIN,
                )
            )
            if label == "160x80":
                ratio = ms[f"mode {mode} {label}"] / truecolor_ms
                checks.append(
                    (
                        f"{bits} colours {label}: building takes {ratio:.2f}x truecolor "
                        f"(budget <= {BUDGET_MODE_RATIO:.1f}x)",
                        ratio <= BUDGET_MODE_RATIO,
                    )
                )
    return checks


# Main ----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=21, help="timed samples per case")
    parser.add_argument(
        "--modes-only", action="store_true", help="only the 256 and 16 colour comparison"
    )
    args = parser.parse_args()

    image = make_photo()
    image.load()
    if args.modes_only:
        print(f"1024x1024 photo-like image, median of {args.reps} interleaved samples per case")
        ms = {n: t * 1000 for n, t in run_interleaved(mode_cases(image), args.reps).items()}
        mode_checks = report_modes(image, ms)
        for line, passed in mode_checks:
            print(f"{'PASS' if passed else 'FAIL'}  {line}")
        return 0 if all(passed for _, passed in mode_checks) else 1
    console = Console(width=400, color_system="truecolor", file=sys.stdout, force_terminal=True)
    cached = {size: render_cells(image, *size) for size in SIZES}

    cases: dict[str, tuple[Callable[[], None], Callable[[], object]]] = {}
    for cols, rows in SIZES:
        label = f"{cols}x{rows}"
        ours_call = partial(render_cells, image, cols, rows)
        theirs_call = partial(rich_pixels_segments, image, cols, rows, console)
        cases[f"ours {label}"] = (clear_caches, ours_call)
        cases[f"ours warm {label}"] = (collect_only, ours_call)
        cases[f"rich-pixels {label}"] = (clear_caches, theirs_call)
        cases[f"rich-pixels warm {label}"] = (collect_only, theirs_call)
        cells = cached[(cols, rows)]
        cases[f"repaint {label}"] = (collect_only, partial(repaint, cells, cols + 6, rows + 4))
        cases[f"repaint cropped {label}"] = (
            collect_only,
            partial(repaint, cells, cols - 10, rows - 4),
        )
    downscale = {
        "BOX": lambda: image.resize((160, 160), Image.Resampling.BOX),
        "BOX reducing_gap=2": lambda: image.resize(
            (160, 160), Image.Resampling.BOX, reducing_gap=2.0
        ),
        "NEAREST (rich-pixels)": lambda: image.resize((160, 160), Image.Resampling.NEAREST),
    }
    for name, call in downscale.items():
        cases[f"downscale {name}"] = (collect_only, call)
    cases.update(mode_cases(image))

    print(f"1024x1024 photo-like image, median of {args.reps} interleaved samples per case")
    ms = {name: seconds * 1000 for name, seconds in run_interleaved(cases, args.reps).items()}

    for cols, rows in SIZES:
        label = f"{cols}x{rows}"
        ours, theirs = ms[f"ours {label}"], ms[f"rich-pixels {label}"]
        print(
            f"render {label:>7}: ours {ours:7.2f} ms (warm {ms[f'ours warm {label}']:6.2f})"
            f"   rich-pixels {theirs:7.2f} ms (warm {ms[f'rich-pixels warm {label}']:6.2f})"
            f"   ratio {theirs / ours:5.1f}x"
        )
    for cols, rows in SIZES:
        label = f"{cols}x{rows}"
        print(
            f"repaint of cached {label:>7}: padded {ms[f'repaint {label}']:.3f} ms, "
            f"cropped {ms[f'repaint cropped {label}']:.3f} ms "
            f"({ms[f'ours {label}'] / ms[f'repaint {label}']:.0f}x cheaper than rendering)"
        )
    print(
        "downscale 1024² → 160x160 px: "
        + ", ".join(f"{name} {ms[f'downscale {name}']:.2f} ms" for name in downscale)
        + " (BOX is used: exact for whole factors, and cheap next to the cells)"
    )

    checks: list[tuple[str, bool]] = []
    ours_160, theirs_160 = ms["ours 160x80"], ms["rich-pixels 160x80"]
    checks.append(
        (
            f"speed 160x80: ours {theirs_160 / ours_160:.1f}x faster than rich-pixels "
            f"(budget >= {BUDGET_RATIO_160:.0f}x)",
            theirs_160 / ours_160 >= BUDGET_RATIO_160,
        )
    )
    ours_80, theirs_80 = ms["ours 80x40"], ms["rich-pixels 80x40"]
    checks.append(
        (
            f"speed 80x40: ours {ours_80:.2f} ms (budget < {BUDGET_MS_80:.0f} ms; "
            f"rich-pixels {theirs_80:.2f} ms)",
            ours_80 < BUDGET_MS_80,
        )
    )
    checks += check_colours(image)
    checks += report_modes(image, ms)

    for line, passed in checks:
        print(f"{'PASS' if passed else 'FAIL'}  {line}")
    return 0 if all(passed for _, passed in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
