// k classes: one colour per class (Okabe–Ito, distinguishable with the common colour-vision
// deficiencies, readable in light and dark themes) and the plane's pixels from Python's
// argmax-class and confidence bytes.
import type { RGB } from "../shared/colors";

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

export function classColor(index: number): RGB {
  return CLASS_COLORS[((index % CLASS_COLORS.length) + CLASS_COLORS.length) % CLASS_COLORS.length];
}

const NEUTRAL: RGB = [247, 247, 247];

/**
 * RGBA pixels of a class grid: `bytes` holds `cells` class numbers then `cells` confidences
 * (0: no better than a uniform guess, 255: certain). Smooth: the class colour fades to white
 * as confidence falls; discrete: every cell in its class colour at one strength.
 */
export function classPixels(bytes: Uint8Array, cells: number, discrete: boolean): Uint8ClampedArray<ArrayBuffer> {
  const pixels = new Uint8ClampedArray(new ArrayBuffer(cells * 4));
  if (bytes.length < 2 * cells) return pixels;
  for (let i = 0; i < cells; i++) {
    const color = classColor(bytes[i]);
    const t = discrete ? 0.55 : 0.15 + 0.75 * (bytes[cells + i] / 255);
    for (let c = 0; c < 3; c++) pixels[4 * i + c] = NEUTRAL[c] + (color[c] - NEUTRAL[c]) * t;
    pixels[4 * i + 3] = 255;
  }
  return pixels;
}

/** +1 where the cell's class is `k`, −1 elsewhere: its zero contour outlines class k's region. */
export function classIndicator(bytes: Uint8Array, cells: number, k: number): Float32Array {
  const out = new Float32Array(cells);
  for (let i = 0; i < cells; i++) out[i] = bytes[i] === k ? 1 : -1;
  return out;
}
