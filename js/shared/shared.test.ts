import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { toFloat32, toFloat64 } from "./binary";
import { diverging, maxAbs, textColorOn } from "./colors";
import { button, errorBanner, formatNumber, h, svg } from "./dom";
import { throttle } from "./throttle";

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

describe("dom helpers render user text literally", () => {
  it("h() never parses HTML in children", () => {
    const label = "<img src=x onerror=alert(1)>";
    const el = h("div", { title: label }, [label]);
    expect(el.textContent).toBe(label);
    expect(el.querySelector("img")).toBeNull();
    expect(el.getAttribute("title")).toBe(label);
  });
  it("svg() sets text content, not markup", () => {
    const t = svg("text", { x: 1 }, "<b>x</b>");
    expect(t.textContent).toBe("<b>x</b>");
    expect(t.childElementCount).toBe(0);
    expect(t.namespaceURI).toBe("http://www.w3.org/2000/svg");
  });
  it("button() calls back on click", () => {
    const onClick = vi.fn();
    button("Step", onClick).click();
    expect(onClick).toHaveBeenCalledOnce();
  });
  it("errorBanner() hides when empty", () => {
    const banner = errorBanner();
    banner.show("bad <input>");
    expect(banner.el.hidden).toBe(false);
    expect(banner.el.textContent).toBe("bad <input>");
    banner.show("");
    expect(banner.el.hidden).toBe(true);
  });
  it("formats numbers compactly", () => {
    expect(formatNumber(0.0706508248531642)).toBe("0.07065");
    expect(formatNumber(-3)).toBe("-3");
    expect(formatNumber(1234567)).toBe("1.235e+6");
    expect(formatNumber(Number.NaN)).toBe("NaN");
    expect(formatNumber(Number.NEGATIVE_INFINITY)).toBe("-∞");
  });
});

describe("binary traits", () => {
  it("copies a DataView at an unaligned offset before viewing it as floats", () => {
    const floats = new Float32Array([1.5, -2.25, 3]);
    const raw = new Uint8Array(1 + floats.byteLength);
    raw.set(new Uint8Array(floats.buffer), 1); // offset 1: Float32Array can't start there
    const view = new DataView(raw.buffer, 1, floats.byteLength);
    expect(Array.from(toFloat32(view))).toEqual([1.5, -2.25, 3]);
    expect(toFloat64(null).length).toBe(0);
  });
});

describe("throttle", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  it("runs the first call at once and the last call of a burst later", () => {
    const calls: number[] = [];
    const f = throttle((x: number) => calls.push(x), 100);
    f(1);
    f(2);
    f(3);
    expect(calls).toEqual([1]);
    vi.advanceTimersByTime(100);
    expect(calls).toEqual([1, 3]);
  });
});
