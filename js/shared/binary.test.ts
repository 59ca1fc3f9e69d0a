import { describe, expect, it } from "vitest";
import { columns, copyBytes, toFloat32, toFloat64, toInt8 } from "./binary";

describe("binary traits", () => {
  it("copies a DataView at an unaligned offset before viewing it as floats", () => {
    const floats = new Float32Array([1.5, -2.25, 3]);
    const raw = new Uint8Array(1 + floats.byteLength);
    raw.set(new Uint8Array(floats.buffer), 1); // offset 1: Float32Array can't start there
    const view = new DataView(raw.buffer, 1, floats.byteLength);
    expect(Array.from(toFloat32(view))).toEqual([1.5, -2.25, 3]);
    expect(toFloat64(null).length).toBe(0);
  });
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
