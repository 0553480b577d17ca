"""A tiny colour dataset for tests, screenshots and benchmarks: an RGB image folder whose classes differ
by hue and shape, and the default zoo trained on it.

``write_rgb_folder(root)`` draws ``per_class`` PNGs per class: a red disc on dark blue, a green square on
dark red, a blue bar on yellow, a yellow triangle on teal, each with jittered size, place and background.
A grey or channel-swapped rendering of any of them is obviously wrong, which is what the colour tests
look for. ``colour_config(root)`` is the sidebar's config for it (``folder:PATH``, 32 px, keep colour).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SIZE = 32
# epochs of the test zoo: enough steps (a handful a pass) for the conv models, one layer deeper since the 7x7
# convolution, to draw colours rather than a grey mean (2 left them grey)
ZOO_EPOCHS = 4
#: class folder -> (shape, its RGB colour, the background's RGB colour)
CLASSES = {
    "red_disc": ("disc", (220, 30, 30), (20, 30, 90)),
    "green_square": ("square", (40, 200, 60), (90, 20, 30)),
    "blue_bar": ("bar", (40, 70, 230), (230, 210, 80)),
    "yellow_triangle": ("triangle", (240, 220, 40), (20, 100, 110)),
}


def write_rgb_folder(root: str | Path, per_class: int = 40, seed: int = 0) -> Path:
    """Write the colour folder (one sub-folder per class of :data:`CLASSES`); returns ``root``."""
    from PIL import Image, ImageDraw

    root = Path(root)
    rng = np.random.default_rng(seed)
    for name, (shape, colour, background) in CLASSES.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            jitter = rng.integers(-25, 26, 3)
            img = Image.new("RGB", (SIZE, SIZE), tuple(int(v) for v in np.clip(np.array(background) + jitter, 0, 255)))
            draw = ImageDraw.Draw(img)
            r = int(rng.integers(6, 12))
            cx, cy = (int(v) for v in rng.integers(r + 1, SIZE - r - 1, 2))
            box = (cx - r, cy - r, cx + r, cy + r)
            if shape == "disc":
                draw.ellipse(box, fill=colour)
            elif shape == "square":
                draw.rectangle(box, fill=colour)
            elif shape == "bar":
                draw.rectangle((cx - r, cy - 3, cx + r, cy + 3), fill=colour)
            else:
                draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
            img.save(folder / f"{i:03d}.png")
    return root


def colour_config(root: str | Path):
    """The DataConfig the sidebar builds for this folder (32 px, keep colour), content not yet resolved."""
    from core.config import DataConfig

    return DataConfig(f"folder:{Path(root)}", image_size=SIZE, grayscale=False)


def colour_zoo(folder: str | Path, checkpoints: str | Path, epochs: int = ZOO_EPOCHS) -> Path:
    """Train (or find) the default zoo on the colour folder into ``checkpoints``; returns ``checkpoints``."""
    from core.config import TrainConfig
    from core.data.datasets import load_dataset
    from core.store.checkpoints import CheckpointStore
    from core.store.trained import load_or_train
    from core.store.zoo import default_zoo

    store = CheckpointStore(Path(checkpoints))
    dataset = load_dataset(colour_config(folder))
    for entry in default_zoo(TrainConfig(epochs=epochs, batch_size=32)):
        load_or_train(dataset, entry.model, entry.train, store=store)
    return Path(checkpoints)


if __name__ == "__main__":  # python -m testkit.colour FOLDER CHECKPOINTS [EPOCHS]: data and zoo for screenshots
    import sys

    write_rgb_folder(sys.argv[1], per_class=int(sys.argv[4]) if len(sys.argv) > 4 else 40)
    colour_zoo(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else ZOO_EPOCHS)
