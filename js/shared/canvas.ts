// Canvas drawing shared by the decision-boundary and gradient-heatmap views: a canvas sized for
// the screen, colour-mapped grids and the zero contour of a grid.
import { diverging } from "./colors";

/**
 * Size a canvas for `cssWidth × cssHeight` CSS pixels on this screen; returns its 2-D context,
 * cleared. Drawing is in those CSS pixels; in a narrower container the canvas shrinks to fit,
 * keeping its aspect (map pointer positions through getBoundingClientRect).
 */
export function fitCanvas(
  canvas: HTMLCanvasElement,
  cssWidth: number,
  cssHeight: number,
): CanvasRenderingContext2D | null {
  const ratio = Math.max(1, Math.min(3, globalThis.devicePixelRatio || 1));
  const width = Math.round(cssWidth * ratio);
  const height = Math.round(cssHeight * ratio);
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  canvas.style.width = `${cssWidth}px`;
  canvas.style.maxWidth = "100%";
  canvas.style.height = "auto";
  canvas.style.aspectRatio = `${cssWidth} / ${cssHeight}`;
  const ctx = canvas.getContext("2d");
  ctx?.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx?.clearRect(0, 0, cssWidth, cssHeight);
  return ctx;
}

/** RGBA pixels (rows × cols) of `values` on the diverging scale saturating at `maxAbs`. */
export function heatmapPixels(
  values: ArrayLike<number>,
  rows: number,
  cols: number,
  maxAbs: number,
): Uint8ClampedArray<ArrayBuffer> {
  const pixels = new Uint8ClampedArray(new ArrayBuffer(rows * cols * 4));
  for (let i = 0; i < rows * cols; i++) {
    const [r, g, b] = diverging(values[i], maxAbs);
    pixels[4 * i] = r;
    pixels[4 * i + 1] = g;
    pixels[4 * i + 2] = b;
    pixels[4 * i + 3] = 255;
  }
  return pixels;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

// One off-screen canvas for every drawHeatmap call (drawImage copies it at once), instead of a
// new one per layer per frame.
let tile: HTMLCanvasElement | null = null;

/**
 * Draw a rows × cols grid of values into `rect`: smooth (bilinear) for a field such as a
 * decision function, or crisp cells for a matrix.
 */
export function drawHeatmap(
  ctx: CanvasRenderingContext2D,
  values: ArrayLike<number>,
  rows: number,
  cols: number,
  maxAbs: number,
  rect: Rect,
  smooth: boolean,
): void {
  if (rows <= 0 || cols <= 0 || values.length < rows * cols) return;
  const image = new ImageData(heatmapPixels(values, rows, cols, maxAbs), cols, rows);
  tile ??= document.createElement("canvas");
  tile.width = cols; // also clears it
  tile.height = rows;
  tile.getContext("2d")?.putImageData(image, 0, 0);
  ctx.save();
  ctx.imageSmoothingEnabled = smooth;
  if (smooth) {
    // pixel centres sit at cell centres: stretch by half a cell so edges are not clamped
    const dx = rect.width / (cols - 1 || 1);
    const dy = rect.height / (rows - 1 || 1);
    ctx.beginPath();
    ctx.rect(rect.x, rect.y, rect.width, rect.height);
    ctx.clip();
    ctx.drawImage(tile, rect.x - dx / 2, rect.y - dy / 2, rect.width + dx, rect.height + dy);
  } else {
    ctx.drawImage(tile, rect.x, rect.y, rect.width, rect.height);
  }
  ctx.restore();
}

/** A segment [x1, y1, x2, y2] in grid coordinates: x = column index, y = row index. */
export type Segment = [number, number, number, number];

/**
 * Marching squares: the line segments where the grid's values cross 0 (linear interpolation
 * along each cell edge). Cells touching a non-finite value are skipped.
 */
export function zeroContour(values: ArrayLike<number>, rows: number, cols: number): Segment[] {
  const segments: Segment[] = [];
  const at = (r: number, c: number) => values[r * cols + c];
  // where along the edge from a to b the value is 0 (0..1)
  const cross = (a: number, b: number) => (a === b ? 0.5 : a / (a - b));
  for (let r = 0; r + 1 < rows; r++) {
    for (let c = 0; c + 1 < cols; c++) {
      const tl = at(r, c), tr = at(r, c + 1), br = at(r + 1, c + 1), bl = at(r + 1, c);
      if (!(Number.isFinite(tl) && Number.isFinite(tr) && Number.isFinite(br) && Number.isFinite(bl))) {
        continue;
      }
      const points: [number, number][] = [];
      if (tl > 0 !== tr > 0) points.push([c + cross(tl, tr), r]); // top edge
      if (tr > 0 !== br > 0) points.push([c + 1, r + cross(tr, br)]); // right edge
      if (bl > 0 !== br > 0) points.push([c + cross(bl, br), r + 1]); // bottom edge
      if (tl > 0 !== bl > 0) points.push([c, r + cross(tl, bl)]); // left edge
      if (points.length === 2) {
        segments.push([points[0][0], points[0][1], points[1][0], points[1][1]]);
      } else if (points.length === 4) {
        // a saddle: pair the crossings by the sign of the cell's centre
        const centre = (tl + tr + br + bl) / 4;
        const [top, right, bottom, left] = points;
        const pairs = centre > 0 === tl > 0 ? [[top, right], [bottom, left]] : [[top, left], [bottom, right]];
        for (const [a, b] of pairs) segments.push([a[0], a[1], b[0], b[1]]);
      }
    }
  }
  return segments;
}
