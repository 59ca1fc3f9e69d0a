import { describe, expect, it } from "vitest";
import { diverging, maxAbs, seriesColor, textColorOn, themePalette } from "./colors";

describe("diverging colour scale", () => {
  it("is neutral at 0, blue for negative, red for positive", () => {
    expect(diverging(0, 1)).toEqual([247, 247, 247]);
    const [rn, , bn] = diverging(-1, 1);
    const [rp, , bp] = diverging(1, 1);
    expect(bn).toBeGreaterThan(rn);
    expect(rp).toBeGreaterThan(bp);
  });
  it("saturates beyond maxAbs and is symmetric in magnitude", () => {
    expect(diverging(5, 1)).toEqual(diverging(1, 1));
    const weak = diverging(0.1, 1);
    const strong = diverging(0.9, 1);
    expect(weak[1]).toBeGreaterThan(strong[1]); // green channel falls as the colour deepens
  });
  it("maps non-finite values and a zero range to neutral", () => {
    expect(diverging(Number.NaN, 1)).toEqual([247, 247, 247]);
    expect(diverging(1, 0)).toEqual([247, 247, 247]);
  });
  it("picks readable text", () => {
    expect(textColorOn([247, 247, 247])).toBe("#111");
    expect(textColorOn([33, 102, 172])).toBe("#fff");
  });
  it("finds the largest finite magnitude", () => {
    expect(maxAbs([1, -3, Number.POSITIVE_INFINITY, 2])).toBe(3);
    expect(maxAbs([])).toBe(0);
  });
});

describe("series colours", () => {
  it("differ for neighbouring layers and cycle after the last", () => {
    const six = [0, 1, 2, 3, 4, 5].map(seriesColor);
    expect(new Set(six).size).toBe(6);
    expect(seriesColor(6)).toBe(seriesColor(0));
    expect(seriesColor(0)).toBe("#1976d2");
  });
});

describe("themePalette", () => {
  it("reads each colour from its --mgw-* variable", () => {
    const el = document.createElement("div");
    document.body.append(el);
    const colours = { fg: "#eee", "fg-muted": "#999", border: "rgb(1, 2, 3)", accent: "#42a5f5", "error-fg": "#ef5350" };
    for (const [name, value] of Object.entries(colours)) el.style.setProperty(`--mgw-${name}`, ` ${value} `);
    expect(themePalette(el)).toEqual({
      fg: "#eee",
      muted: "#999",
      border: "rgb(1, 2, 3)",
      accent: "#42a5f5",
      error: "#ef5350",
    });
    el.remove();
  });
});
