import { describe, expect, it } from "vitest";
import {
  canvasToData,
  dataToCanvas,
  decodeClassRecording,
  decodeLines,
  decodePoints,
  decodeRecording,
  decodeThumbnails,
  type Extent,
} from "./data";

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

describe("recorded classes", () => {
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
