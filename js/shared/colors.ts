// Colour scales shared by every widget.

export type RGB = [number, number, number];

// Diverging blue–white–red (ColorBrewer RdBu, reversed): negative = blue, positive = red.
const NEGATIVE: RGB = [33, 102, 172];
const NEUTRAL: RGB = [247, 247, 247];
const POSITIVE: RGB = [178, 24, 43];

function mix(a: RGB, b: RGB, t: number): RGB {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/**
 * Map `value` to a diverging colour centred at 0; `|value| >= maxAbs` saturates.
 * A gamma below 1 makes small magnitudes visible.
 */
export function diverging(value: number, maxAbs: number, gamma = 0.5): RGB {
  if (!Number.isFinite(value) || !(maxAbs > 0)) return NEUTRAL;
  const t = Math.min(1, Math.abs(value) / maxAbs) ** gamma;
  return mix(NEUTRAL, value < 0 ? NEGATIVE : POSITIVE, t);
}

export function cssColor([r, g, b]: RGB, alpha = 1): string {
  return `rgba(${Math.round(r)}, ${Math.round(g)}, ${Math.round(b)}, ${alpha})`;
}

/** Black or white, whichever reads better on `background`. */
export function textColorOn([r, g, b]: RGB): string {
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#111" : "#fff";
}

/** Largest finite |x| in `values` (0 when there is none). */
export function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]);
    if (a > m && Number.isFinite(a)) m = a;
  }
  return m;
}
