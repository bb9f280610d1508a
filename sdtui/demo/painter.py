"""Synthetic but pleasant pictures for the demo backend: layered landscapes.

Everything is deterministic: the same (prompt, seed, width, height, model) gives the same pixels,
because all randomness comes from a ``random.Random`` seeded by a hash of those inputs (never from
Pillow's unseeded noise). The layout is drawn in normalised coordinates, so the same prompt and
seed at another size (a hires-fix pass) shows the same scene.

Speed: the scene is drawn with Pillow primitives (gradients, polygons, composites) on a small
canvas (longest side at most ``WORK_SIDE``) and resized up with a smooth filter, so a 1024x1024
picture costs tens of milliseconds and no Python loop ever touches full-size pixels.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

__all__ = [
    "WORK_SIDE",
    "blend_init_image",
    "make_grid",
    "paint",
    "preview",
]

#: Longest side of the canvas the scene is drawn on before resizing to the requested size.
WORK_SIDE = 288

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Palette:
    """Colours of one time of day; ``celestial`` is "sun", "moon" or "none"."""

    sky_top: RGB
    sky_mid: RGB
    horizon: RGB
    glow: RGB
    celestial_color: RGB
    celestial: str
    ridge_far: RGB
    ridge_near: RGB
    water: RGB
    stars: bool
    celestial_height: float  # 0 = on the horizon, 1 = top of the sky


_PALETTES: dict[str, Palette] = {
    "sunset": Palette(
        sky_top=(38, 30, 86),
        sky_mid=(186, 82, 110),
        horizon=(252, 166, 84),
        glow=(255, 206, 130),
        celestial_color=(255, 236, 190),
        celestial="sun",
        ridge_far=(150, 86, 120),
        ridge_near=(34, 20, 44),
        water=(60, 40, 80),
        stars=False,
        celestial_height=0.12,
    ),
    "night": Palette(
        sky_top=(6, 10, 30),
        sky_mid=(22, 36, 80),
        horizon=(58, 84, 132),
        glow=(150, 170, 220),
        celestial_color=(236, 240, 255),
        celestial="moon",
        ridge_far=(44, 60, 100),
        ridge_near=(8, 12, 26),
        water=(14, 22, 48),
        stars=True,
        celestial_height=0.62,
    ),
    "day": Palette(
        sky_top=(70, 130, 210),
        sky_mid=(130, 180, 235),
        horizon=(214, 232, 246),
        glow=(255, 250, 225),
        celestial_color=(255, 252, 235),
        celestial="sun",
        ridge_far=(132, 164, 196),
        ridge_near=(42, 84, 70),
        water=(70, 120, 170),
        stars=False,
        celestial_height=0.72,
    ),
    "dawn": Palette(
        sky_top=(64, 88, 160),
        sky_mid=(206, 150, 178),
        horizon=(255, 212, 170),
        glow=(255, 230, 190),
        celestial_color=(255, 244, 214),
        celestial="sun",
        ridge_far=(160, 140, 176),
        ridge_near=(52, 48, 84),
        water=(96, 96, 150),
        stars=False,
        celestial_height=0.2,
    ),
}

# Prompt words that pick the time of day (first match in this order wins).
_TIME_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("night", ("night", "moon", "midnight", "stars", "starry", "galaxy", "nocturne")),
    ("sunset", ("sunset", "dusk", "evening", "twilight", "golden hour")),
    ("dawn", ("dawn", "sunrise", "morning")),
    ("day", ("day", "noon", "sunny", "daylight", "summer")),
)
_WATER_WORDS = ("ocean", "sea", "lake", "river", "water", "beach", "reflection", "coast", "bay")
_FOREST_WORDS = ("forest", "tree", "trees", "woods", "pine", "jungle", "grove")
_SNOW_WORDS = ("snow", "winter", "ice", "frozen", "glacier", "alpine")
_DESERT_WORDS = ("desert", "dune", "dunes", "sand", "sahara")
_CREATURE_WORDS = ("fox", "cat", "wolf", "dog", "deer", "rabbit", "bunny", "creature", "animal")


@dataclass(frozen=True)
class _ModelLook:
    """How a demo model changes the picture: its default time of day and a final grade."""

    default_time: str
    grade: str  # "warm", "aurora", "pastel", "ink" or "none"


_MODEL_LOOKS: dict[str, _ModelLook] = {
    "dusk": _ModelLook("sunset", "warm"),
    "aurora": _ModelLook("night", "aurora"),
    "pastel": _ModelLook("day", "pastel"),
    "ink": _ModelLook("dawn", "ink"),
}


def _look_for(model: str) -> _ModelLook:
    lowered = model.lower()
    for key, look in _MODEL_LOOKS.items():
        if key in lowered:
            return look
    # Unknown model names still get a stable look of their own.
    keys = sorted(_MODEL_LOOKS)
    index = int(hashlib.sha256(lowered.encode()).hexdigest(), 16) % len(keys)
    return _MODEL_LOOKS[keys[index]]


def _has_word(words: set[str], prompt: str, candidates: Sequence[str]) -> bool:
    return any((c in words) if " " not in c else (c in prompt) for c in candidates)


def _rng_for(*parts: object) -> random.Random:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


# --- colour helpers -----------------------------------------------------------------------------


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    t = min(max(t, 0.0), 1.0)
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _jitter(color: RGB, rng: random.Random, amount: int) -> RGB:
    def channel(value: int) -> int:
        return min(255, max(0, value + rng.randint(-amount, amount)))

    return (channel(color[0]), channel(color[1]), channel(color[2]))


def _vertical_gradient(size: tuple[int, int], stops: Sequence[tuple[float, RGB]]) -> Image.Image:
    """A top-to-bottom gradient through colour stops; built as one column, then stretched."""
    width, height = size
    column: list[RGB] = []
    for y in range(height):
        t = y / max(height - 1, 1)
        for (t0, c0), (t1, c1) in itertools.pairwise(stops):
            if t <= t1:
                column.append(_mix(c0, c1, (t - t0) / max(t1 - t0, 1e-6)))
                break
        else:
            column.append(stops[-1][1])
    strip = Image.new("RGB", (1, height))
    strip.putdata(column)
    return strip.resize((width, height), Image.Resampling.NEAREST)


def _radial_mask(diameter: int, falloff: float = 1.0) -> Image.Image:
    """An "L" disc that is 255 in the middle and fades to 0 at the rim (and beyond it)."""
    # Pillow's gradient reaches 255 at the corners, so the rim sits at 255 / sqrt(2).
    mask = Image.radial_gradient("L").point(
        lambda v: round(255 * max(0.0, 1 - v * math.sqrt(2) / 255) ** falloff)
    )
    return mask.resize((max(diameter, 1), max(diameter, 1)), Image.Resampling.BILINEAR)


def _seeded_noise(size: tuple[int, int], rng: random.Random, mode: str = "RGB") -> Image.Image:
    channels = 3 if mode == "RGB" else 1
    return Image.frombytes(mode, size, rng.randbytes(size[0] * size[1] * channels))


# --- scene pieces -------------------------------------------------------------------------------


def _ridge_profile(rng: random.Random, width: int, roughness: float) -> list[float]:
    """Heights in [-1, 1] along x, by midpoint displacement (fractal mountain line)."""
    levels = 7
    count = 2**levels + 1
    points = [0.0] * count
    points[0] = rng.uniform(-1, 1)
    points[-1] = rng.uniform(-1, 1)
    step = count - 1
    scale = 1.0
    while step > 1:
        half = step // 2
        for start in range(0, count - 1, step):
            middle = (points[start] + points[start + step]) / 2
            points[start + half] = middle + rng.uniform(-scale, scale)
        scale *= roughness
        step = half
    peak = max(abs(p) for p in points) or 1.0
    points = [p / peak for p in points]
    out: list[float] = []
    for x in range(width + 1):
        pos = x / max(width, 1) * (count - 1)
        i = min(int(pos), count - 2)
        frac = pos - i
        out.append(points[i] * (1 - frac) + points[i + 1] * frac)
    return out


@dataclass(frozen=True)
class _Scene:
    """Everything the drawing needs, decided up front from the prompt, seed and model."""

    palette: Palette
    look: _ModelLook
    horizon: float  # y of the horizon / waterline, as a fraction of the height
    celestial_x: float
    celestial_size: float
    ridges: int
    roughness: float
    water: bool
    forest: bool
    snow: bool
    desert: bool
    creature: bool
    key: str  # seeds one random stream per scene element, so sizes do not shift each other

    def rng(self, *parts: object) -> random.Random:
        return _rng_for(self.key, *parts)


def _plan(prompt: str, seed: int, model: str) -> _Scene:
    key = hashlib.sha256(f"sdtui-demo\x1f{model}\x1f{prompt}\x1f{seed}".encode()).hexdigest()
    rng = _rng_for(key, "plan")
    lowered = prompt.lower()
    words = set("".join(ch if ch.isalnum() else " " for ch in lowered).split())
    look = _look_for(model)
    time = look.default_time
    for name, candidates in _TIME_WORDS:
        if _has_word(words, lowered, candidates):
            time = name
            break
    palette = _PALETTES[time]
    # Each seed nudges the colours a little so neighbouring seeds are not twins.
    palette = replace(
        palette,
        sky_top=_jitter(palette.sky_top, rng, 14),
        sky_mid=_jitter(palette.sky_mid, rng, 18),
        horizon=_jitter(palette.horizon, rng, 14),
        ridge_far=_jitter(palette.ridge_far, rng, 16),
        ridge_near=_jitter(palette.ridge_near, rng, 10),
        celestial_height=min(0.9, max(0.05, palette.celestial_height + rng.uniform(-0.08, 0.12))),
    )
    desert = _has_word(words, lowered, _DESERT_WORDS)
    scene = _Scene(
        palette=palette,
        look=look,
        horizon=rng.uniform(0.56, 0.7),
        celestial_x=rng.uniform(0.15, 0.85),
        celestial_size=rng.uniform(0.07, 0.12),
        ridges=rng.randint(3, 5),
        roughness=rng.uniform(0.42, 0.6) if not desert else 0.3,
        water=_has_word(words, lowered, _WATER_WORDS) or (not desert and rng.random() < 0.35),
        forest=_has_word(words, lowered, _FOREST_WORDS) or rng.random() < 0.25,
        snow=_has_word(words, lowered, _SNOW_WORDS),
        desert=desert,
        creature=_has_word(words, lowered, _CREATURE_WORDS),
        key=key,
    )
    if desert:
        scene = replace(
            scene,
            palette=replace(
                scene.palette,
                ridge_far=_mix(scene.palette.ridge_far, (226, 170, 110), 0.6),
                ridge_near=_mix(scene.palette.ridge_near, (150, 96, 52), 0.6),
            ),
            forest=False,
        )
    return scene


def _draw_sky(canvas: Image.Image, scene: _Scene) -> None:
    width, height = canvas.size
    horizon_y = scene.horizon
    p = scene.palette
    sky = _vertical_gradient(
        (width, height),
        [(0.0, p.sky_top), (horizon_y * 0.6, p.sky_mid), (horizon_y, p.horizon), (1.0, p.horizon)],
    )
    canvas.paste(sky)
    if p.stars:
        rng = scene.rng("stars")
        draw = ImageDraw.Draw(canvas)
        for _ in range(int(width * height / 180)):
            x = rng.uniform(0, width)
            y = rng.uniform(0, height * horizon_y) ** 1.15 / (height * horizon_y) ** 0.15
            shade = rng.randint(150, 255)
            draw.point((x, y), fill=(shade, shade, min(255, shade + 20)))
            if rng.random() < 0.04:
                draw.point([(x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)], fill=(shade,) * 3)
    if scene.look.grade == "aurora":
        _draw_aurora(canvas, scene)


def _draw_aurora(canvas: Image.Image, scene: _Scene) -> None:
    rng = scene.rng("aurora")
    width, height = canvas.size
    mask = Image.new("L", canvas.size, 0)
    draw = ImageDraw.Draw(mask)
    for band in range(rng.randint(2, 3)):
        base = height * rng.uniform(0.12, scene.horizon * 0.55)
        amp = height * rng.uniform(0.03, 0.08)
        phase = rng.uniform(0, math.tau)
        freq = rng.uniform(1.2, 2.6)
        for x in range(width):
            y = base + amp * math.sin(phase + freq * math.tau * x / width)
            length = height * (0.12 + 0.06 * math.sin(phase * 2 + x / width * 9))
            draw.line([(x, y), (x, y + length)], fill=90 - band * 20)
    mask = mask.filter(ImageFilter.GaussianBlur(max(1.0, width / 90)))
    green = Image.new("RGB", canvas.size, (80, 255, 170))
    canvas.paste(Image.composite(green, canvas, mask))


def _draw_celestial(canvas: Image.Image, scene: _Scene) -> None:
    p = scene.palette
    if p.celestial == "none":
        return
    width, height = canvas.size
    radius = scene.celestial_size * min(width, height) / 2
    cx = scene.celestial_x * width
    horizon_px = scene.horizon * height
    cy = horizon_px - p.celestial_height * horizon_px
    glow_d = round(radius * 9)
    glow = _radial_mask(glow_d, falloff=2.2).point(lambda v: v * 0.75)
    layer = Image.new("RGB", canvas.size, p.glow)
    mask = Image.new("L", canvas.size, 0)
    mask.paste(glow, (round(cx - glow_d / 2), round(cy - glow_d / 2)))
    canvas.paste(Image.composite(layer, canvas, mask))
    disc = Image.new("L", canvas.size, 0)
    draw = ImageDraw.Draw(disc)
    box = (cx - radius, cy - radius, cx + radius, cy + radius)
    draw.ellipse(box, fill=255)
    if p.celestial == "moon":
        # A crescent: cut a shifted disc out, so the glowing sky shows through the bite.
        bite = radius * 0.6
        draw.ellipse((box[0] + bite, box[1] - bite * 0.5, box[2] + bite, box[3] - bite * 0.5), 0)
    canvas.paste(p.celestial_color, (0, 0, *canvas.size), disc)


def _ridge_polygon(
    profile: list[float], width: int, height: int, base: float, amplitude: float
) -> list[tuple[float, float]]:
    points = [(float(x), base - (v * 0.5 + 0.5) * amplitude) for x, v in enumerate(profile)]
    return [(0.0, float(height)), *points, (float(width), float(height))]


def _draw_trees(
    draw: ImageDraw.ImageDraw,
    profile: list[float],
    base: float,
    amplitude: float,
    color: RGB,
    rng: random.Random,
    scale: float,
) -> None:
    width = len(profile) - 1
    x = rng.uniform(0, scale)
    while x < width:
        top = base - (profile[int(x)] * 0.5 + 0.5) * amplitude
        tree_h = scale * rng.uniform(0.7, 1.3)
        half = tree_h * 0.28
        draw.polygon([(x - half, top + 2), (x, top - tree_h), (x + half, top + 2)], fill=color)
        x += rng.uniform(half * 1.2, half * 3.2)


def _draw_creature(
    draw: ImageDraw.ImageDraw, x: float, ground: float, size: float, color: RGB, flip: bool
) -> None:
    """A small sitting animal silhouette (ears, head, body, tail) looking at the sky."""
    d = -1.0 if flip else 1.0

    def pt(dx: float, dy: float) -> tuple[float, float]:
        return (x + d * dx * size, ground - dy * size)

    draw.ellipse(
        (x - 0.32 * size, ground - 0.75 * size, x + 0.32 * size, ground + 0.05 * size), fill=color
    )
    hx, hy = pt(0.16, 0.9)
    draw.ellipse(
        (hx - 0.17 * size, hy - 0.15 * size, hx + 0.17 * size, hy + 0.15 * size), fill=color
    )
    draw.polygon([pt(0.02, 0.98), pt(0.07, 1.22), pt(0.15, 1.0)], fill=color)
    draw.polygon([pt(0.17, 1.0), pt(0.27, 1.22), pt(0.3, 0.95)], fill=color)
    draw.polygon([pt(0.27, 0.92), pt(0.5, 0.84), pt(0.28, 0.8)], fill=color)
    draw.polygon([pt(-0.2, 0.1), pt(-0.75, 0.05), pt(-0.9, 0.35), pt(-0.25, 0.3)], fill=color)


def _draw_land(canvas: Image.Image, scene: _Scene) -> None:
    width, height = canvas.size
    p = scene.palette
    draw = ImageDraw.Draw(canvas)
    horizon_px = scene.horizon * height
    layers = scene.ridges
    for i in range(layers):
        depth = i / max(layers - 1, 1)  # 0 = farthest, 1 = nearest
        color = _mix(p.ridge_far, p.ridge_near, depth**0.8)
        # Atmospheric perspective: far ridges melt into the horizon colour.
        color = _mix(color, p.horizon, (1 - depth) * 0.35)
        amplitude = height * (0.28 - 0.12 * depth) * (0.5 if scene.desert else 1.0)
        base = horizon_px + (0 if scene.water else height * 0.22 * depth**1.5)
        profile = _ridge_profile(scene.rng("ridge", i), width, scene.roughness)
        polygon = _ridge_polygon(profile, width, height, base, amplitude)
        if scene.snow and depth < 0.85:
            draw.polygon(polygon, fill=_mix((240, 244, 252), p.horizon, 0.25 * (1 - depth)))
            # Snow shows on the peaks only: lower the rock line where the ridge is high.
            cap = height * 0.09 * amplitude / height
            rock = [
                (float(x), base - (v * 0.5 + 0.5) * amplitude + cap * max(0.0, v - 0.1) * 2.2)
                for x, v in enumerate(profile)
            ]
            polygon = [(0.0, float(height)), *rock, (float(width), float(height))]
        draw.polygon(polygon, fill=color)
        if scene.forest and depth >= 0.5:
            tree_color = _mix(color, (0, 0, 0), 0.25)
            _draw_trees(
                draw,
                profile,
                base,
                amplitude,
                tree_color,
                scene.rng("trees", i),
                height * 0.05 * depth,
            )
        if scene.creature and i == layers - 1:
            cx = width * scene.rng("creature").uniform(0.25, 0.75)
            ground = base - (profile[int(cx)] * 0.5 + 0.5) * amplitude + 1
            _draw_creature(
                draw,
                cx,
                ground,
                height * 0.075,
                _mix(color, (0, 0, 0), 0.45),
                flip=cx > scene.celestial_x * width,
            )


def _draw_water(canvas: Image.Image, scene: _Scene) -> None:
    rng = scene.rng("water")
    width, height = canvas.size
    line = round(scene.horizon * height)
    if line >= height:
        return
    depth = height - line
    above = canvas.crop((0, max(0, line - depth), width, line))
    reflection = above.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    if reflection.height < depth:
        reflection = reflection.resize((width, depth))
    reflection = reflection.filter(ImageFilter.BoxBlur(1))
    tint = Image.new("RGB", reflection.size, scene.palette.water)
    water = Image.blend(reflection, tint, 0.38)
    draw = ImageDraw.Draw(water)
    light = _mix(scene.palette.glow, scene.palette.water, 0.35)
    for _ in range(int(depth * 0.9)):
        y = rng.uniform(0, depth) ** 1.3 / depth**0.3
        x = rng.uniform(0, width)
        length = rng.uniform(2, width * 0.12) * (0.4 + y / depth)
        shade = _mix(light, scene.palette.water, rng.uniform(0.3, 0.9))
        draw.line([(x, y), (x + length, y)], fill=shade)
    canvas.paste(water, (0, line))


def _grade(canvas: Image.Image, look: _ModelLook, rng: random.Random) -> Image.Image:
    """The model's colour treatment of the finished scene."""
    if look.grade == "warm":
        warm = Image.new("RGB", canvas.size, (255, 170, 110))
        return Image.blend(canvas, ImageChops.multiply(canvas, warm), 0.12)
    if look.grade == "pastel":
        return Image.blend(canvas, Image.new("RGB", canvas.size, (250, 240, 246)), 0.28)
    if look.grade == "ink":
        gray = ImageOps.autocontrast(canvas.convert("L"), cutoff=1)
        inked = ImageOps.colorize(
            gray, black=(22, 20, 26), white=(238, 228, 206), mid=(128, 120, 112)
        )
        # A small red seal in a corner, as on a brush painting.
        draw = ImageDraw.Draw(inked)
        side = max(3, round(min(canvas.size) * 0.06))
        x0 = canvas.width - side * 2 if rng.random() < 0.5 else side
        y0 = canvas.height - side * 2
        draw.rectangle((x0, y0, x0 + side, y0 + side), fill=(178, 34, 40))
        return inked
    return canvas


def _vignette(canvas: Image.Image) -> Image.Image:
    """Darken the corners a little, as lenses (and many generated pictures) do."""
    # Distance from the centre, 0 there and 255 at the corners, stretched to the canvas.
    distance = Image.radial_gradient("L").resize(canvas.size, Image.Resampling.BILINEAR)
    mask = distance.point(lambda v: 255 - round(110 * (v / 255) ** 2))
    return Image.composite(canvas, Image.new("RGB", canvas.size, (0, 0, 0)), mask)


def _work_size(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, WORK_SIDE / max(width, height, 1))
    return max(8, round(width * scale)), max(8, round(height * scale))


def paint(prompt: str, seed: int, width: int, height: int, model: str = "") -> Image.Image:
    """The finished picture (RGB, ``width`` x ``height``) for this prompt, seed and model.

    The model name picks a look (``dusk`` warm sunsets, ``aurora`` night skies with aurora,
    ``pastel`` soft daylight, ``ink`` brush painting); words in the prompt (night, sunset,
    forest, ocean, snow, desert, fox, ...) pick the time of day and scene features.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    scene = _plan(prompt, seed, model)
    canvas = Image.new("RGB", _work_size(width, height))
    _draw_sky(canvas, scene)
    _draw_celestial(canvas, scene)
    _draw_land(canvas, scene)
    if scene.water:
        _draw_water(canvas, scene)
    canvas = _grade(canvas, scene.look, scene.rng("grade"))
    canvas = _vignette(canvas)
    grain = _seeded_noise(canvas.size, scene.rng("grain"), "L").convert("RGB")
    canvas = Image.blend(canvas, ImageChops.overlay(canvas, grain), 0.04)
    return canvas.resize((width, height), Image.Resampling.BICUBIC)


def preview(final: Image.Image, seed: int, fraction: float) -> Image.Image:
    """What sampling looks like ``fraction`` of the way through: 0 is noise, 1 is ``final``.

    Coarse seeded colour noise (like a decoded latent at the first step) fades out while a
    blurred version of the final picture sharpens in, as a diffusion preview does.
    """
    fraction = min(max(fraction, 0.0), 1.0)
    if fraction >= 1.0:
        return final.copy()
    width, height = final.size
    rgb = final if final.mode == "RGB" else final.convert("RGB")
    rng = _rng_for("sdtui-demo-noise", seed)
    latent = (max(1, width // 8), max(1, height // 8))
    noise = _seeded_noise(latent, rng).resize((width, height), Image.Resampling.BICUBIC)
    # Coarse detail first: the final image seen through a shrinking block size.
    factor = max(1, round(16 * (1 - fraction) ** 2))
    if factor > 1:
        small = rgb.reduce(min(factor, width, height))
        rgb = small.resize((width, height), Image.Resampling.BILINEAR)
    return Image.blend(noise, rgb, fraction**0.6)


def blend_init_image(
    init: Image.Image, synthetic: Image.Image, denoising_strength: float
) -> Image.Image:
    """img2img output: the init image resized to the synthetic one's size, moved toward it.

    ``denoising_strength`` 0 keeps the init image, 1 gives the synthetic picture.
    """
    base = init.convert("RGB")
    if base.size != synthetic.size:
        base = base.resize(synthetic.size, Image.Resampling.BICUBIC)
    strength = min(max(denoising_strength, 0.0), 1.0)
    return Image.blend(base, synthetic.convert("RGB"), strength)


def make_grid(images: Sequence[Image.Image], rows: int) -> Image.Image:
    """Tile images into ``rows`` rows (cells the size of the first image), as the web UI does."""
    if not images:
        raise ValueError("a grid needs at least one image")
    rows = max(1, min(rows, len(images)))
    cols = math.ceil(len(images) / rows)
    cell_w, cell_h = images[0].size
    grid = Image.new("RGB", (cols * cell_w, rows * cell_h), (0, 0, 0))
    for i, image in enumerate(images):
        grid.paste(image, (i % cols * cell_w, i // cols * cell_h))
    return grid
