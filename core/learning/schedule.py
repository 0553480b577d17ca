"""When a training keeps a moment: step 0, then steps spaced on a log scale to the end.

Early steps change a model most (the first hundred updates take a random code to a rough map), so
the moments are spaced evenly in log(step), not in step. Two cases:

* epochs (the number of steps is known before training): :func:`planned_steps` gives step 0 and
  :data:`MOMENTS` - 1 log-spaced steps from 1 to the final step, whole numbers without repeats
  (every step when there are fewer than :data:`MOMENTS`);
* a time budget (the final step is unknown until the clock runs out): :func:`on_open_grid` takes
  the steps as they come, :data:`PER_DECADE` a decade (1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25, ...), and
  the training loop adds the last step whatever it is. That is 20 moments by step 250 and 24 by step 400
  (a 10 s budget on digits takes ~1,000 steps), 31 by step 2,500.

No imports beyond NumPy: the loop asks :meth:`core.learning.MomentRecorder.wants` at every step.
"""

from __future__ import annotations

import numpy as np

MOMENTS = 24  # moments a planned training keeps, step 0 and the last included (the issue asks for 20 or more)
PER_DECADE = 10  # moments per tenfold of steps when the number of steps is not known in advance
_GRID_DECADES = 15  # the open grid reaches 10**15 steps: far past any training


def planned_steps(total_steps: int, count: int = MOMENTS) -> np.ndarray:
    """The steps of a training of ``total_steps`` steps at which moments are kept.

    Parameters
    ----------
    total_steps : int
        Optimizer steps the training will take (>= 0).
    count : int
        How many moments to keep (>= 2).

    Returns
    -------
    np.ndarray of int64, shape (min(count, total_steps + 1),)
        Sorted, without repeats: 0, then log-spaced steps from 1 to ``total_steps`` (both kept).
    """
    if total_steps + 1 <= count:
        return np.arange(total_steps + 1, dtype=np.int64)
    # rounding log-spaced points to whole steps merges some early ones: ask for more until enough remain
    for points in range(count - 1, 100 * count):
        steps = np.unique(np.rint(np.geomspace(1, total_steps, points)).astype(np.int64))
        if len(steps) >= count - 1:  # one more point can add two steps: keep count - 1 of them, evenly
            keep = np.unique(np.rint(np.linspace(0, len(steps) - 1, count - 1)).astype(np.int64))
            return np.concatenate([[0], steps[keep]]).astype(np.int64)
    return np.unique(np.rint(np.linspace(0, total_steps, count)).astype(np.int64))  # not reached in practice


_OPEN_GRID = frozenset(int(round(10 ** (k / PER_DECADE))) for k in range(_GRID_DECADES * PER_DECADE + 1))


def on_open_grid(step: int) -> bool:
    """Whether ``step`` (>= 1) is a moment of a training whose number of steps is unknown (a time
    budget): the whole numbers nearest to 10**(k / PER_DECADE), k = 0, 1, 2, ..."""
    return step in _OPEN_GRID
