// Where a graph opens: the zoom and the scroll position that put its output in view with as
// much of the graph as fits at a readable size. Pure: the view measures, this decides.
import type { Placed } from "./layout";

/** Text smaller than this (CSS px) is not readable: opening and Fit stop there and scroll. */
export const MIN_READABLE_PX = 9;

/** The smallest zoom at which text of `fontSize` px stays readable (never above 1). */
export function readableZoom(fontSize: number): number {
  return Math.min(1, MIN_READABLE_PX / fontSize);
}

/** Natural size, shrunk to the view's width when wider, but never below the readable zoom. */
export function fitZoom(graphWidth: number, viewWidth: number, fontSize: number): number {
  if (!(graphWidth > 0) || !(viewWidth > 0)) return 1;
  return Math.max(readableZoom(fontSize), Math.min(1, viewWidth / graphWidth));
}

export interface Scroll {
  left: number;
  top: number;
}

/**
 * The scroll position that shows `output` (in layout units, at `zoom`) in a view of
 * `viewWidth × viewHeight`: at the far end of the view along the ranks, so its inputs fill the
 * rest (LR: at the right edge, TB: at the bottom, RL/BT mirrored), and centred across them.
 * The browser clamps positions past the end of the drawing.
 */
export function outputScroll(
  output: Placed,
  zoom: number,
  rankdir: string,
  viewWidth: number,
  viewHeight: number,
  margin = 12,
): Scroll {
  const left = (output.x - output.width / 2) * zoom;
  const right = (output.x + output.width / 2) * zoom;
  const top = (output.y - output.height / 2) * zoom;
  const bottom = (output.y + output.height / 2) * zoom;
  const centred = (low: number, high: number, view: number) => (low + high) / 2 - view / 2;
  let scrollLeft = centred(left, right, viewWidth);
  let scrollTop = centred(top, bottom, viewHeight);
  if (rankdir === "LR") scrollLeft = right + margin - viewWidth;
  else if (rankdir === "RL") scrollLeft = left - margin;
  else if (rankdir === "TB") scrollTop = bottom + margin - viewHeight;
  else if (rankdir === "BT") scrollTop = top - margin;
  return { left: Math.max(0, scrollLeft), top: Math.max(0, scrollTop) };
}
