import { describe, expect, it } from "vitest";
import { CLASS_COLORS, classColor, classIndicator, classPixels } from "./classes";

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
});
