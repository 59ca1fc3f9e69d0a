"""What every static picture shares: the views' diverging colour scale in numpy (the twin of
``js/shared/colors.ts``: blue < 0 < red, gamma 0.5 on ``|value|``) and :class:`PictureError`.

A leaf: ``_pictures.py`` (boundary and heatmap pictures, the notebook output PNG) and
``_graph_picture.py`` (the graph's drawing) both import it, and neither imports the other's
parts back.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GAMMA", "NEGATIVE", "NEUTRAL", "POSITIVE", "PictureError", "diverging"]

NEGATIVE = np.array([33, 102, 172]) / 255
NEUTRAL = np.array([247, 247, 247]) / 255
POSITIVE = np.array([178, 24, 43]) / 255
GAMMA = 0.5


class PictureError(ValueError):
    """A picture cannot be made as asked; the message says what was wrong and what to do."""


def diverging(values: np.ndarray, scale: float, levels: int | None = None) -> np.ndarray:
    """RGB (…, 3) of ``values`` on the views' diverging scale, saturating at ``|value| = scale``;
    with ``levels``, in that many steps a side (the output picture's few colours)."""
    values = np.asarray(values, dtype=np.float64)
    scale = scale if scale > 0 and np.isfinite(scale) else 1.0
    t = np.clip(np.abs(np.nan_to_num(values)) / scale, 0, 1)[..., None] ** GAMMA
    if levels is not None:
        t = np.round(t * levels) / levels
    end = np.where((values < 0)[..., None], NEGATIVE, POSITIVE)
    return NEUTRAL + (end - NEUTRAL) * t
