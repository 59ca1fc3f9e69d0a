// Canvas drawing shared by the decision-boundary and gradient-heatmap views: colour-mapped grids,
// the zero contour of a grid, and small line charts.
import { diverging } from "./colors";

/** Size a canvas for `cssWidth × cssHeight` CSS pixels on this screen; returns its 2-D context. */
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
  canvas.style.height = `${cssHeight}px`;
  const ctx = canvas.getContext("2d");
  ctx?.setTransform(ratio, 0, 0, ratio, 0, 0);
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

/** The value of a CSS custom property on `el` (e.g. "--mgw-fg"), or `fallback`. */
export function themeColor(el: Element, name: string, fallback: string): string {
  const value = getComputedStyle(el).getPropertyValue(name).trim();
  return value || fallback;
}

export interface Series {
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
  color: string;
  dashed?: boolean;
}

/** The finite [min, max] of several series' ys ([0, 1] if there is none). */
export function seriesRange(series: Series[]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const s of series) {
    for (let i = 0; i < s.ys.length; i++) {
      const v = s.ys[i];
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!(lo <= hi)) return [0, 1];
  if (lo === hi) return [lo - 0.5, hi + 0.5];
  return [lo, hi];
}

export interface ChartOptions {
  yRange?: [number, number];
  title: string;
  axisColor: string;
  textColor: string;
}

/** A minimal line chart: series over a shared x axis, NaN points leave gaps. */
export function drawLineChart(
  ctx: CanvasRenderingContext2D,
  series: Series[],
  rect: Rect,
  options: ChartOptions,
): void {
  const pad = { left: 40, right: 6, top: 16, bottom: 16 };
  const plot: Rect = {
    x: rect.x + pad.left,
    y: rect.y + pad.top,
    width: Math.max(1, rect.width - pad.left - pad.right),
    height: Math.max(1, rect.height - pad.top - pad.bottom),
  };
  const [y0, y1] = options.yRange ?? seriesRange(series);
  let x0 = Infinity, x1 = -Infinity;
  for (const s of series) {
    if (s.xs.length === 0) continue;
    x0 = Math.min(x0, s.xs[0]);
    x1 = Math.max(x1, s.xs[s.xs.length - 1]);
  }
  if (!(x0 < x1)) [x0, x1] = [Number.isFinite(x0) ? x0 : 0, (Number.isFinite(x0) ? x0 : 0) + 1];
  const px = (x: number) => plot.x + ((x - x0) / (x1 - x0)) * plot.width;
  const py = (y: number) => plot.y + plot.height - ((y - y0) / (y1 - y0 || 1)) * plot.height;

  ctx.save();
  ctx.font = "10px sans-serif";
  ctx.fillStyle = options.textColor;
  ctx.textBaseline = "top";
  ctx.fillText(options.title, plot.x, rect.y + 2);
  ctx.textBaseline = "middle";
  ctx.textAlign = "right";
  ctx.fillText(formatTick(y1), plot.x - 4, plot.y);
  ctx.fillText(formatTick(y0), plot.x - 4, plot.y + plot.height);
  ctx.textAlign = "left";
  ctx.textBaseline = "top";
  ctx.fillText(formatTick(x0), plot.x, plot.y + plot.height + 3);
  ctx.textAlign = "right";
  ctx.fillText(formatTick(x1), plot.x + plot.width, plot.y + plot.height + 3);
  ctx.strokeStyle = options.axisColor;
  ctx.lineWidth = 1;
  ctx.strokeRect(plot.x, plot.y, plot.width, plot.height);
  ctx.beginPath();
  ctx.rect(plot.x, plot.y, plot.width, plot.height);
  ctx.clip();
  ctx.lineWidth = 1.5;
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.setLineDash(s.dashed ? [4, 3] : []);
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < s.xs.length; i++) {
      const y = s.ys[i];
      if (!Number.isFinite(y)) {
        pen = false;
        continue;
      }
      if (pen) ctx.lineTo(px(s.xs[i]), py(y));
      else ctx.moveTo(px(s.xs[i]), py(y));
      pen = true;
    }
    ctx.stroke();
  }
  ctx.restore();
}

function formatTick(x: number): string {
  if (!Number.isFinite(x)) return "";
  const abs = Math.abs(x);
  if (abs !== 0 && (abs >= 1e4 || abs < 1e-2)) return x.toExponential(1);
  return Number(x.toPrecision(3)).toString();
}

/**
 * Call `callback` when JupyterLab switches theme (canvas colours are read when drawing, so a
 * canvas must be redrawn to follow). Returns a function that stops watching.
 */
export function onThemeChange(callback: () => void): () => void {
  if (typeof MutationObserver === "undefined" || !document.body) return () => {};
  const observer = new MutationObserver(callback);
  observer.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-name", "data-jp-theme-light"] });
  return () => observer.disconnect();
}
