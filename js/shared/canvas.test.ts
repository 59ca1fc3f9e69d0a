import { describe, expect, it } from "vitest";
import { columns, copyBytes, toInt8 } from "./binary";
import { heatmapPixels, seriesRange, zeroContour } from "./canvas";
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

describe("binary helpers", () => {
  it("copies a DataView that starts at an odd offset", () => {
    const buffer = new Uint8Array([9, 1, 255, 3]).buffer;
    const view = new DataView(buffer, 1, 3);
    expect(Array.from(copyBytes(view))).toEqual([1, 255, 3]);
    expect(Array.from(toInt8(view))).toEqual([1, -1, 3]);
    expect(copyBytes(null).length).toBe(0);
  });
  it("splits float32 rows into columns", () => {
    const rows = new Float32Array([0, 10, 1, 11, 2, 12]);
    const [a, b] = columns(new DataView(rows.buffer), 2);
    expect(Array.from(a)).toEqual([0, 1, 2]);
    expect(Array.from(b)).toEqual([10, 11, 12]);
  });
});

describe("seriesRange", () => {
  it("ignores NaN and widens a flat range", () => {
    const xs = [0, 1, 2];
    expect(seriesRange([{ xs, ys: [1, Number.NaN, 3], color: "" }])).toEqual([1, 3]);
    expect(seriesRange([{ xs, ys: [2, 2, 2], color: "" }])).toEqual([1.5, 2.5]);
    expect(seriesRange([])).toEqual([0, 1]);
  });
});
