"""Watching a model learn: moments kept while it trains, stored with its checkpoint.

* :mod:`~core.learning.schedule`: at which steps (step 0, then log-spaced to the end).
* :mod:`~core.learning.recorder`: :class:`MomentRecorder`, the training callback that keeps them.
* :mod:`~core.learning.moments`: :class:`Moments` and its file beside the checkpoint's weights.
* :mod:`~core.learning.views`: one 2-D frame for every moment.
* :mod:`~core.learning.subspace`: principal angles (the linear autoencoder against PCA).
* :mod:`~core.learning.table`: one row per moment (what ``python -m core analyze learning`` prints).
"""

from core.learning.moments import MOMENTS_FILE, Moments, has_moments, load_moments, read_moments, write_moments
from core.learning.schedule import MOMENTS, on_open_grid, planned_steps
from core.learning.subspace import principal_angles_deg
from core.learning.views import stable_views


def __getattr__(name: str):
    # the recorder needs torch; reading moments (a page, a cached `zoo`) must not import it
    if name == "MomentRecorder":
        from core.learning.recorder import MomentRecorder

        return MomentRecorder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["MOMENTS", "MOMENTS_FILE", "MomentRecorder", "Moments", "has_moments", "load_moments",
           "on_open_grid", "planned_steps", "principal_angles_deg", "read_moments", "stable_views", "write_moments"]
