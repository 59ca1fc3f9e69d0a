// Plane geometry for the boundary view, in plot (CSS pixel) coordinates: which point a click
// picks, where a neuron's line w0·x + w1·y + b = 0 crosses the plot, how far the pointer is
// from a segment.
import { dataToCanvas, type Extent, type Points } from "./data";

/**
 * The index of the point of `points` nearest (px, py) on a `size` × `size` plot, if it is
 * within `radius` plot pixels; null otherwise (a click far from every point picks nothing).
 */
export function nearestPoint(points: Points, extent: Extent, size: number, px: number, py: number, radius: number): number | null {
  let best: number | null = null;
  let bestDistance = radius * radius;
  for (let i = 0; i < points.count; i++) {
    const [x, y] = dataToCanvas(extent, size, size, points.xy[2 * i], points.xy[2 * i + 1]);
    const d = (x - px) ** 2 + (y - py) ** 2;
    if (d <= bestDistance) {
      bestDistance = d;
      best = i;
    }
  }
  return best;
}

/** A segment [x1, y1, x2, y2]. */
export type Segment = [number, number, number, number];

/**
 * Where the line w0·x + w1·y + b = 0 (data coordinates) crosses the rectangle `extent`: the
 * segment inside it in data coordinates, or null if it misses the plot (or w0 = w1 = 0).
 */
export function clipLine(w0: number, w1: number, b: number, extent: Extent): Segment | null {
  const [xmin, xmax, ymin, ymax] = extent;
  if (![w0, w1, b].every(Number.isFinite) || (w0 === 0 && w1 === 0)) return null;
  const hits: [number, number][] = [];
  const add = (x: number, y: number) => {
    if (x < xmin - 1e-9 || x > xmax + 1e-9 || y < ymin - 1e-9 || y > ymax + 1e-9) return;
    if (hits.some(([hx, hy]) => Math.abs(hx - x) < 1e-9 && Math.abs(hy - y) < 1e-9)) return;
    hits.push([x, y]);
  };
  if (w1 !== 0) {
    add(xmin, -(w0 * xmin + b) / w1);
    add(xmax, -(w0 * xmax + b) / w1);
  }
  if (w0 !== 0) {
    add(-(w1 * ymin + b) / w0, ymin);
    add(-(w1 * ymax + b) / w0, ymax);
  }
  if (hits.length < 2) return null;
  return [hits[0][0], hits[0][1], hits[1][0], hits[1][1]];
}

/** Distance from (px, py) to the segment. */
export function distanceToSegment([x1, y1, x2, y2]: Segment, px: number, py: number): number {
  const dx = x2 - x1, dy = y2 - y1;
  const length2 = dx * dx + dy * dy;
  const t = length2 > 0 ? Math.max(0, Math.min(1, ((px - x1) * dx + (py - y1) * dy) / length2)) : 0;
  return Math.hypot(px - (x1 + t * dx), py - (y1 + t * dy));
}
