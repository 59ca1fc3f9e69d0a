import { describe, expect, it } from "vitest";
import { heatmapPixels, zeroContour } from "./canvas";
import { diverging } from "./colors";

describe("heatmapPixels", () => {
  it("colours each value on the diverging scale, opaque", () => {
    const pixels = heatmapPixels([-1, 0, 2], 1, 3, 1);
    expect(Array.from(pixels.slice(0, 4))).toEqual([...diverging(-1, 1).map(Math.round), 255]);
    expect(Array.from(pixels.slice(4, 8))).toEqual([247, 247, 247, 255]);
    expect(Array.from(pixels.slice(8, 12))).toEqual([...diverging(1, 1).map(Math.round), 255]);
  });
});

describe("zeroContour", () => {
  it("finds a vertical boundary between negative and positive columns", () => {
    // 3 × 3 grid: x - 1 (columns 0, 1, 2) -> zero on column 1
    const grid = [-1, 0.0001, 1, -1, 0.0001, 1, -1, 0.0001, 1];
    const segments = zeroContour(grid, 3, 3);
    expect(segments.length).toBe(2); // one per row of cells
    for (const [x1, , x2] of segments) {
      expect(x1).toBeCloseTo(1, 3);
      expect(x2).toBeCloseTo(1, 3);
    }
  });
  it("interpolates where the crossing is", () => {
    const [[x1, y1, x2, y2]] = zeroContour([-1, 3, -1, 3], 2, 2);
    expect([x1, x2]).toEqual([0.25, 0.25]);
    expect([y1, y2].sort()).toEqual([0, 1]);
  });
  it("draws nothing for one sign or for non-finite cells", () => {
    expect(zeroContour([1, 2, 3, 4], 2, 2)).toEqual([]);
    expect(zeroContour([-1, Number.NaN, 1, 1], 2, 2)).toEqual([]);
  });
  it("splits a saddle cell into two segments", () => {
    expect(zeroContour([1, -1, -1, 1], 2, 2).length).toBe(2);
  });
});
