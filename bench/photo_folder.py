"""A photo-like folder of RGB images for the colour-training measurements (issue 24 item 1).

bench part bigfolder's folder is flat shapes on a clean two-colour ramp: easy edges, no texture. This
one is closer to a photograph: a ramp at a random angle under smooth value noise (clouds, terrain),
one to three shapes filled with a texture of their own (stripes at a random angle and frequency, or
blotches) and softened edges, and sensor-like pixel noise on top. The classes are the largest
shape's kind, as in bigfolder. Seeded; written once and kept in the temp folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.big_folder import CLASSES


def value_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Smooth noise in [-1, 1], shape (size, size): a random ``cells`` x ``cells`` grid, upsampled bicubically."""
    from PIL import Image

    grid = rng.uniform(0, 255, (cells, cells)).astype(np.uint8)
    return np.asarray(Image.fromarray(grid).resize((size, size), Image.BICUBIC), dtype=np.float32) / 127.5 - 1


def background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A two-colour ramp at a random angle under two octaves of value noise, shape (size, size, 3), float 0..255."""
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.clip(0.5 + (xx - 0.5) * np.cos(angle) + (yy - 0.5) * np.sin(angle), 0, 1)[..., None]
    a, b = rng.uniform(0, 255, (2, 3))
    noise = 0.6 * value_noise(rng, size, 4) + 0.4 * value_noise(rng, size, 9)
    tint = rng.uniform(-1, 1, 3)
    return a * (1 - ramp) + b * ramp + rng.uniform(10, 45) * noise[..., None] * (0.6 + 0.4 * tint)


def texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """A fill: a colour under stripes at a random angle and frequency, or under blotches; (size, size, 3)."""
    colour = rng.uniform(0, 255, 3)
    second = rng.uniform(0, 255, 3)
    if rng.random() < 0.5:
        yy, xx = np.mgrid[0:size, 0:size]
        angle, period = rng.uniform(0, np.pi), rng.uniform(4, 12)
        mix = 0.5 + 0.5 * np.sin(2 * np.pi * (xx * np.cos(angle) + yy * np.sin(angle)) / period)
    else:
        mix = np.clip(0.5 + 0.8 * value_noise(rng, size, int(rng.integers(5, 12))), 0, 1)
    strength = rng.uniform(0.2, 0.6)
    mix = (1 - strength) + strength * mix  # mostly the main colour
    return colour * mix[..., None] + second * (1 - mix[..., None])


def shape_mask(rng: np.random.Generator, size: int, kind: str, radius: int) -> np.ndarray:
    """A soft-edged mask of one shape, shape (size, size), float 0..1."""
    from PIL import Image, ImageDraw, ImageFilter

    cx, cy = rng.integers(radius, size - radius, 2)
    box = (cx - radius, cy - radius, cx + radius, cy + radius)
    mask = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask)
    if kind == "disc":
        draw.ellipse(box, fill=255)
    elif kind == "square":
        draw.rectangle(box, fill=255)
    elif kind == "triangle":
        draw.polygon([(cx, cy - radius), (cx - radius, cy + radius), (cx + radius, cy + radius)], fill=255)
    else:
        draw.ellipse(box, outline=255, width=max(2, radius // 3))
    mask = mask.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.5)))
    return np.asarray(mask, dtype=np.float32) / 255


def photo_like(rng: np.random.Generator, size: int, kind: str) -> np.ndarray:
    """One image whose largest shape is ``kind``: shape (size, size, 3), uint8."""
    image = background(rng, size)
    extra = [CLASSES[int(k)] for k in rng.integers(0, len(CLASSES), int(rng.integers(0, 3)))]
    radii = [int(rng.integers(size // 6, size // 3))] + [int(rng.integers(size // 12, size // 6)) for _ in extra]
    for shape, radius in sorted(zip([kind, *extra], radii), key=lambda pair: -pair[1]):  # the largest first, under the others
        alpha = shape_mask(rng, size, shape, radius)[..., None]
        image = image * (1 - alpha) + texture(rng, size) * alpha
    image += rng.normal(0, rng.uniform(2, 8), image.shape)  # sensor noise
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def make_photo_folder(root: Path, n: int, size: int = 64, seed: int = 0) -> Path:
    """Write ``n`` photo-like RGB PNGs of ``size`` px into ``root/<class>/`` (kept when already complete)."""
    from PIL import Image

    from bench.big_folder import write_folder

    return write_folder(root, n, lambda rng, kind: Image.fromarray(photo_like(rng, size, kind), "RGB"), seed)
