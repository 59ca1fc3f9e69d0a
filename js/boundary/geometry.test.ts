import { describe, expect, it } from "vitest";
import { classPixels, classIndicator, classColor, CLASS_COLORS } from "./classes";
import { decodeClassRecording, decodeLines, decodePoints, decodeThumbnails, type Extent } from "./data";
import { clipLine, distanceToSegment, nearestPoint } from "./geometry";
import { frameAtOrBefore } from "./timeline";

const view = (a: ArrayBufferView) => new DataView(a.buffer, a.byteOffset, a.byteLength);

describe("picking a point", () => {
  const extent: Extent = [0, 10, 0, 10];
  const points = decodePoints(view(new Float32Array([1, 9, 5, 5, 5.2, 5])), view(new Int8Array([1, -1, 1])));
  it("picks the nearest point within the radius (plot pixels), else nothing", () => {
    // on a 100-px plot, (5, 5) is at (50, 50) and (5.2, 5) at (52, 50)
    expect(nearestPoint(points, extent, 100, 49, 50, 10)).toBe(1);
    expect(nearestPoint(points, extent, 100, 53, 50, 10)).toBe(2);
    expect(nearestPoint(points, extent, 100, 10, 10, 10)).toBe(0); // (1, 9) is at (10, 10)
    expect(nearestPoint(points, extent, 100, 90, 90, 10)).toBeNull(); // far from every point
    expect(nearestPoint(decodePoints(null, null), extent, 100, 50, 50, 10)).toBeNull();
  });
});

describe("a neuron's line on the plot", () => {
  const extent: Extent = [-1, 1, -1, 1];
  it("clips w·x + b = 0 to the plot", () => {
    expect(clipLine(1, 0, 0, extent)).toEqual([-0, -1, -0, 1]); // x = 0, vertical
    expect(clipLine(0, 2, -1, extent)).toEqual([-1, 0.5, 1, 0.5]); // y = 0.5
    const diagonal = clipLine(1, -1, 0, extent)!; // y = x, through two corners
    expect(diagonal.map((v) => Math.abs(v))).toEqual([1, 1, 1, 1]);
    expect(clipLine(1, 0, -5, extent)).toBeNull(); // x = 5: off the plot
    expect(clipLine(0, 0, 1, extent)).toBeNull(); // no line at all
    expect(clipLine(Number.NaN, 1, 0, extent)).toBeNull();
  });
  it("measures the pointer's distance to a segment", () => {
    expect(distanceToSegment([0, 0, 10, 0], 5, 3)).toBe(3);
    expect(distanceToSegment([0, 0, 10, 0], 13, 4)).toBe(5); // past the end: to the end point
  });
});

describe("the timeline", () => {
  it("shows the last recorded frame at or before the step", () => {
    const steps = [0, 2, 4, 8];
    expect(frameAtOrBefore(steps, 5)).toBe(2);
    expect(frameAtOrBefore(steps, 8)).toBe(3);
    expect(frameAtOrBefore(steps, 100)).toBe(3);
    expect(frameAtOrBefore(steps, 0)).toBe(0);
    expect(frameAtOrBefore([20, 30], 3)).toBe(0); // before the recording: its first frame
    expect(frameAtOrBefore([], 3)).toBeNull();
  });
});

describe("k classes", () => {
  it("colours each cell by its class, shaded by confidence unless discretised", () => {
    const bytes = new Uint8Array([0, 1, 255, 0]); // classes 0, 1; confidences 255, 0
    const smooth = classPixels(bytes, 2, false);
    const sharp = classPixels(bytes, 2, true);
    const [r0, g0, b0] = CLASS_COLORS[0];
    const strength = (p: Uint8ClampedArray, i: number, c: [number, number, number]) =>
      (247 - p[4 * i]) / (247 - c[0] || 1);
    expect(strength(smooth, 0, [r0, g0, b0])).toBeGreaterThan(0.85); // sure: the class colour
    expect(Math.abs(smooth[4] - 247)).toBeLessThan(40); // unsure: pale
    expect(Array.from(sharp.subarray(4, 8))).not.toEqual(Array.from(smooth.subarray(4, 8)));
    expect(classPixels(new Uint8Array(1), 2, false).every((v) => v === 0)).toBe(true); // too short
    expect(Array.from(classIndicator(new Uint8Array([2, 0, 2]), 3, 2))).toEqual([1, -1, 1]);
    expect(classColor(CLASS_COLORS.length)).toEqual(CLASS_COLORS[0]);
  });
  it("decodes a recorded class run", () => {
    const frames = decodeClassRecording(
      view(new Uint8Array([0, 1, 2, 3, 200, 100, 50, 0, 1, 1, 1, 1, 9, 9, 9, 9])),
      view(new Float32Array([0, 1, 0.5, 0.25, 3, 1, 0.4, 0.75])),
      2,
    );
    expect(frames.map((f) => [f.step, f.accuracy])).toEqual([[0, 0.25], [3, 0.75]]);
    expect(Array.from(frames[1].bytes)).toEqual([1, 1, 1, 1, 9, 9, 9, 9]);
  });
});

describe("neuron data", () => {
  it("splits recorded line rows per frame and refuses a ragged buffer", () => {
    const rows = decodeLines(view(new Float32Array([1, 2, 3, 4, 5, 6])), 2);
    expect(rows.map((r) => Array.from(r))).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(decodeLines(view(new Float32Array([1, 2, 3, 4])), 2)).toEqual([]);
  });
  it("decodes thumbnails layer by layer", () => {
    const thumbs = decodeThumbnails(view(new Uint8Array([128, 255, 1])), [2, 1], [2, 4, 1], 1);
    expect(thumbs.map((t) => [t.layer, t.index, t.scale])).toEqual([[0, 0, 2], [0, 1, 4], [1, 0, 1]]);
    expect(thumbs.map((t) => t.values[0])).toEqual([0, 4, -1]);
    expect(decodeThumbnails(view(new Uint8Array(5)), [2, 1], [1, 1, 1], 1)).toEqual([]);
  });
});
