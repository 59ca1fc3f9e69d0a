// Small line charts on a canvas (the boundary's loss and accuracy curves, the heatmap's gradient
// norms): series over a shared x axis, a title, the y and x range at the corners.
import { fitCanvas, type Rect } from "./canvas";

export interface Series {
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
  color: string;
  dashed?: boolean;
}

export interface ChartOptions {
  yRange?: [number, number];
  /** A log10 y axis (values <= 0 leave gaps); the corner labels stay in the data's units. */
  yLog?: boolean;
  title: string;
  axisColor: string;
  textColor: string;
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

/** Size `canvas` to `width × height` CSS pixels and draw the chart over all of it. */
export function drawChart(
  canvas: HTMLCanvasElement,
  width: number,
  height: number,
  series: Series[],
  options: ChartOptions,
): void {
  const ctx = fitCanvas(canvas, width, height);
  if (!ctx) return;
  const shown = options.yLog
    ? series.map((s) => ({ ...s, ys: Array.from(s.ys, (v) => (v > 0 ? Math.log10(v) : Number.NaN)) }))
    : series;
  drawLineChart(ctx, shown, { x: 0, y: 0, width, height }, options);
}

/** Where a chart's plot area sits inside its canvas (CSS px). */
export const CHART_PAD = { left: 40, right: 6, top: 16, bottom: 16 };

/**
 * The x value under canvas x `px` (CSS px) of a chart `width` wide whose series run from x0 to
 * x1 (their first and last x), clamped to that range: a click on a curve names a step.
 */
export function chartXAt(width: number, x0: number, x1: number, px: number): number {
  const plotWidth = Math.max(1, width - CHART_PAD.left - CHART_PAD.right);
  const t = Math.max(0, Math.min(1, (px - CHART_PAD.left) / plotWidth));
  return x0 + t * (x1 - x0);
}

/** A minimal line chart in `rect`: NaN points leave gaps. */
function drawLineChart(
  ctx: CanvasRenderingContext2D,
  series: Series[],
  rect: Rect,
  options: ChartOptions,
): void {
  const pad = CHART_PAD;
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
  const yLabel = (y: number) => formatTick(options.yLog ? 10 ** y : y);
  ctx.fillText(yLabel(y1), plot.x - 4, plot.y);
  ctx.fillText(yLabel(y0), plot.x - 4, plot.y + plot.height);
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
