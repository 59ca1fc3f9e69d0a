import { describe, expect, it } from "vitest";
import { decodePoints, type Extent } from "./data";
import { clipLine, distanceToSegment, nearestPoint } from "./geometry";

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
