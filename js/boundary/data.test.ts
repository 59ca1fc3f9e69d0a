import { describe, expect, it } from "vitest";
import { canvasToData, dataToCanvas, decodePoints, decodeRecording, type Extent } from "./data";

const view = (a: ArrayBufferView) => new DataView(a.buffer, a.byteOffset, a.byteLength);

describe("points", () => {
  it("pairs coordinates with labels", () => {
    const p = decodePoints(view(new Float32Array([1, 2, 3, 4])), view(new Int8Array([1, -1])));
    expect(p.count).toBe(2);
    expect(Array.from(p.xy)).toEqual([1, 2, 3, 4]);
    expect(Array.from(p.labels)).toEqual([1, -1]);
  });
});

describe("coordinates", () => {
  const extent: Extent = [-2, 2, -1, 3];
  it("puts ymax at the top and round-trips", () => {
    expect(dataToCanvas(extent, 400, 200, -2, 3)).toEqual([0, 0]);
    expect(dataToCanvas(extent, 400, 200, 2, -1)).toEqual([400, 200]);
    const [x, y] = canvasToData(extent, 400, 200, ...dataToCanvas(extent, 400, 200, 0.5, 1.25));
    expect(x).toBeCloseTo(0.5);
    expect(y).toBeCloseTo(1.25);
  });
});

describe("decodeRecording", () => {
  it("dequantizes uint8 grids with each frame's scale", () => {
    // two 2 × 2 frames: 128 = 0, 255 = +scale, 1 = -scale
    const grids = new Uint8Array([128, 255, 1, 128, 255, 255, 255, 255]);
    const meta = new Float32Array([0, 2, 0.9, 0.5, 10, 4, 0.1, 1]);
    const frames = decodeRecording(view(grids), view(meta), 2);
    expect(frames.length).toBe(2);
    expect(Array.from(frames[0].values)).toEqual([0, 2, -2, 0]);
    expect(frames[1].step).toBe(10);
    expect(frames[1].values[0]).toBeCloseTo(4);
    expect(frames[1].accuracy).toBe(1);
  });
  it("ignores a truncated tail", () => {
    const frames = decodeRecording(view(new Uint8Array(6)), view(new Float32Array(8)), 2);
    expect(frames.length).toBe(1);
  });
});
