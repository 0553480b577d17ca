"""A region selected on a 2-D map (a box or a lasso): which points it holds, and what they have in common.

The region is kept as its shape, not as a list of points, so a link can carry it in a few dozen
characters and a map drawn again (other points, another session) selects the same area.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MAX_LASSO_VERTICES = 64  # a lasso drawn by hand has hundreds; 64 keep its outline and a link short
KINDS = ("box", "lasso")


@dataclass(frozen=True)
class Region:
    """A box or a lasso on a map.

    Attributes
    ----------
    kind : {'box', 'lasso'}
    vertices : np.ndarray, shape (K, 2)
        A box: its two opposite corners (K = 2). A lasso: its outline, closed implicitly.
    """

    kind: str
    vertices: np.ndarray

    def __post_init__(self):
        vertices = np.asarray(self.vertices, np.float64).reshape(-1, 2)
        if self.kind not in KINDS:
            raise ValueError(f"a region is a box or a lasso, not {self.kind!r}")
        if not np.all(np.isfinite(vertices)):
            raise ValueError("a region's corners must be finite numbers")
        if (self.kind == "box" and len(vertices) != 2) or (self.kind == "lasso" and not 3 <= len(vertices) <= 10_000):
            raise ValueError(f"a {self.kind} needs {'2 corners' if self.kind == 'box' else '3 or more vertices'}")
        if self.kind == "lasso" and len(vertices) > MAX_LASSO_VERTICES:
            vertices = vertices[np.linspace(0, len(vertices) - 1, MAX_LASSO_VERTICES).round().astype(int)]
        object.__setattr__(self, "vertices", vertices)

    def contains(self, xy: np.ndarray) -> np.ndarray:
        """Which of the points ``xy`` (N, 2) lie inside: a bool array (N,)."""
        xy = np.asarray(xy, np.float64).reshape(-1, 2)
        if self.kind == "box":
            low, high = self.vertices.min(axis=0), self.vertices.max(axis=0)
            return np.all((xy >= low) & (xy <= high), axis=1)
        from skimage.measure import points_in_poly  # scikit-image: a well-kept point-in-polygon test

        return points_in_poly(xy, self.vertices)

    def to_text(self) -> str:
        """``box:x0,y0,x1,y1`` or ``lasso:x0,y0,x1,y1,...`` (4 significant digits): for a link."""
        return self.kind + ":" + ",".join(f"{v:.4g}" for v in self.vertices.ravel())

    @classmethod
    def from_text(cls, text: str) -> Region:
        """The inverse of :meth:`to_text`; ValueError for anything else."""
        kind, _, numbers = str(text).partition(":")
        values = [float(v) for v in numbers.split(",")] if numbers else []
        if len(values) % 2:
            raise ValueError("a region's coordinates come in (x, y) pairs")
        return cls(kind, np.asarray(values).reshape(-1, 2))

    @classmethod
    def from_plotly(cls, selection) -> Region | None:
        """The last box or lasso of a plotly selection event (Streamlit's ``event.selection``), or None."""
        for kind in ("lasso", "box"):
            shapes = (selection or {}).get(kind) or []
            if shapes:
                shape = shapes[-1]
                xs, ys = np.asarray(shape["x"], np.float64), np.asarray(shape["y"], np.float64)
                return cls(kind, np.column_stack([xs, ys]))
        return None


def selection_table(test_index: np.ndarray, labels: np.ndarray, class_names, xy: np.ndarray,
                    codes: np.ndarray | None = None) -> pd.DataFrame:
    """One row per selected test image: its index, class, map coordinates and (optionally) code.

    Parameters
    ----------
    test_index : (S,) ; labels : (S,) ; xy : (S, 2)
    class_names : sequence of str
    codes : (S, d), optional

    Returns
    -------
    pd.DataFrame
        Columns ``index``, ``class``, ``x``, ``y``, then ``code_1`` ... ``code_d``.
    """
    frame = pd.DataFrame({"index": np.asarray(test_index, int),
                          "class": [str(class_names[int(c)]) if int(c) < len(class_names) else str(int(c)) for c in labels],
                          "x": np.asarray(xy, np.float64)[:, 0], "y": np.asarray(xy, np.float64)[:, 1]})
    if codes is not None:
        codes = np.asarray(codes, np.float64).reshape(len(frame), -1)
        frame = pd.concat([frame, pd.DataFrame(codes, columns=[f"code_{i + 1}" for i in range(codes.shape[1])])], axis=1)
    return frame
