// Colours shared by every widget: the diverging scale for signed numbers, line colours, and the
// theme's colours for canvas drawing.

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

// One colour per line where a line's colour means only "which one" (a layer), cycled in order.
const SERIES_COLORS = ["#1976d2", "#e65100", "#2e7d32", "#8e24aa", "#00838f", "#c62828"];

export function seriesColor(index: number): string {
  return SERIES_COLORS[index % SERIES_COLORS.length];
}

/** The theme's colours as a canvas needs them (it cannot use CSS variables). */
export interface ThemePalette {
  fg: string;
  muted: string;
  border: string;
  accent: string;
  error: string;
}

/**
 * The theme's colours from the --mgw-* variables on `el`, a widget root: theme.css defines them
 * for every front-end, so the colours live there once. Read once per redraw: getComputedStyle is
 * not free.
 */
export function themePalette(el: Element): ThemePalette {
  const style = getComputedStyle(el);
  const read = (name: string) => style.getPropertyValue(`--mgw-${name}`).trim();
  return { fg: read("fg"), muted: read("fg-muted"), border: read("border"), accent: read("accent"), error: read("error-fg") };
}

/**
 * One colour per class of a k-class dataset, class 0 first: Okabe–Ito, distinguishable with the
 * common colour-vision deficiencies and readable in light and dark themes. (The boundary's
 * k-class view uses this same list; keep it here once.)
 */
export const CLASS_COLORS: RGB[] = [
  [230, 159, 0], // orange
  [86, 180, 233], // sky blue
  [0, 158, 115], // bluish green
  [204, 121, 167], // reddish purple
  [0, 114, 178], // blue
  [213, 94, 0], // vermillion
  [240, 228, 66], // yellow
  [120, 120, 120], // grey
];

/** The colour of class `index` (0..k-1), cycling past the list's end. */
export function kClassColor(index: number): RGB {
  const n = CLASS_COLORS.length;
  return CLASS_COLORS[((index % n) + n) % n];
}
