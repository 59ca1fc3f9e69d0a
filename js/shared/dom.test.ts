import { describe, expect, it, vi } from "vitest";
import { button, formatNumber, h, svg } from "./dom";

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
  it("formats numbers compactly", () => {
    expect(formatNumber(0.0706508248531642)).toBe("0.07065");
    expect(formatNumber(-3)).toBe("-3");
    expect(formatNumber(1234567)).toBe("1.235e+6");
    expect(formatNumber(Number.NaN)).toBe("NaN");
    expect(formatNumber(Number.NEGATIVE_INFINITY)).toBe("-∞");
  });
});
