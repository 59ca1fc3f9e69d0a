import { describe, expect, it } from "vitest";
import { classLabels, className, dataToPad, editNetwork, padToData, parseNumber } from "./logic";

const limits = { layers: 6, neurons: 32 };

describe("editNetwork", () => {
  it("adds and removes layers within the limits", () => {
    expect(editNetwork([8, 8], { layer: null, delta: 1 }, limits)).toEqual([8, 8, 8]);
    expect(editNetwork([], { layer: null, delta: 1 }, limits)).toEqual([4]);
    expect(editNetwork([1, 1, 1, 1, 1, 1], { layer: null, delta: 1 }, limits)).toBeNull();
    expect(editNetwork([3], { layer: null, delta: -1 }, limits)).toEqual([]);
    expect(editNetwork([], { layer: null, delta: -1 }, limits)).toBeNull();
  });
  it("changes one layer's neurons, never to 0 or past the limit", () => {
    expect(editNetwork([8, 2], { layer: 1, delta: -1 }, limits)).toEqual([8, 1]);
    expect(editNetwork([8, 1], { layer: 1, delta: -1 }, limits)).toBeNull();
    expect(editNetwork([32], { layer: 0, delta: 1 }, limits)).toBeNull();
  });
});

describe("inputs and classes", () => {
  it("reads a number box: empty is the given value, junk goes as typed for Python to name", () => {
    expect(parseNumber(" 0.5 ", null)).toBe(0.5);
    expect(parseNumber("", null)).toBeNull();
    expect(parseNumber("abc", null)).toBe("abc");
    expect(parseNumber("1e999", null)).toBe("1e999");
  });
  it("numbers classes as Python does", () => {
    expect(classLabels(2)).toEqual([-1, 1]);
    expect(classLabels(3)).toEqual([0, 1, 2]);
    expect(className(-1, 2)).toBe("−1");
    expect(className(2, 3)).toBe("class 2");
  });
  it("maps the pad's pixels to the plane and back", () => {
    const extent = [-1.5, 1.5, -1.5, 1.5];
    expect(padToData(150, 150, 300, extent)).toEqual([0, 0]);
    expect(padToData(0, 0, 300, extent)).toEqual([-1.5, 1.5]);
    const [px, py] = dataToPad(0.75, -0.3, 300, extent);
    const [x, y] = padToData(px, py, 300, extent);
    expect(x).toBeCloseTo(0.75);
    expect(y).toBeCloseTo(-0.3);
  });
});
