"""Sample sizes of the analyses the pages keep on disk, and how wide a code gets one slider per number.

No imports on purpose: the derived cache's keys (:mod:`core.store.derived`) name these sizes, and
``python -m core zoo`` checks what is kept without importing the analyses themselves (pandas,
scikit-image). Changing a size changes the keys, so older files are simply not read again.
"""

from __future__ import annotations

STATS_IMAGES = 5000  # code statistics (ranges, principal directions): a seeded sample of training images
CLASS_MEAN_IMAGES = 10_000  # each class's mean code: a seeded sample of training images
CURVE_IMAGES = 300  # the Denoising page's curve: a seeded sample of test images
RD_IMAGES = 300  # the Compression page's rate-distortion table: a seeded sample of test images
MAX_SLIDER_DIMS = 16  # up to this many code numbers: one slider each; beyond: principal directions
DEFAULT_DIRECTIONS = 8  # principal directions kept (and slid) for a longer code


def stats_directions(latent_dim: int) -> int | None:
    """The principal directions the code statistics keep for a ``latent_dim``-number code: None (the
    default, one slider per number) up to :data:`MAX_SLIDER_DIMS`, else :data:`DEFAULT_DIRECTIONS`."""
    return None if latent_dim <= MAX_SLIDER_DIMS else min(DEFAULT_DIRECTIONS, latent_dim)
