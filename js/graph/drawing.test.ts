import { describe, expect, it } from "vitest";
import { detailContent } from "./details";
import { standaloneSvg } from "./export";
import { buffer, topology, XSS } from "./fixtures";
import { layoutGraph, metricsFor } from "./layout";
import { GraphDrawing } from "./render";
import { splitNumbers } from "./types";

const numbers = splitNumbers(buffer, 4, 4);
const handlers = { select: () => {}, toggle: () => {}, hover: () => {} };

describe("layoutGraph", () => {
  it("adds an op node per computed value and draws a * a as one line", () => {
    const layout = layoutGraph(topology, metricsFor(13));
    expect(layout.nodes.filter((n) => n.kind === "op").map((n) => n.unit)).toEqual([1, 3]);
    const aToTimes = layout.edges.filter((e) => e.from === "u0" && e.to === "o1");
    expect(aToTimes).toHaveLength(1);
    expect(aToTimes[0].edges).toEqual([0, 1]);
    const out = layout.nodes.find((n) => n.id === "u3")!;
    for (const n of layout.nodes) if (n.id !== "u3") expect(n.x).toBeLessThan(out.x);
  });
});

describe("GraphDrawing", () => {
  const layout = layoutGraph(topology, metricsFor(13));
  const drawing = new GraphDrawing(topology, layout, metricsFor(13), handlers);

  it("renders labels as text, never as markup", () => {
    expect(drawing.svg.querySelector("img")).toBeNull();
    const names = [...drawing.svg.querySelectorAll(".mgw-gname")].map((t) => t.textContent);
    expect(names).toContain("a");
    expect(names.some((n) => n!.startsWith("<img src=x"))).toBe(true);
  });

  it("writes numbers and grad colours in place", () => {
    drawing.updateNumbers(numbers, 6);
    const node = drawing.svg.querySelector('g.mgw-gvalue[data-unit="0"]')!;
    expect(node.querySelector(".mgw-gdata")!.textContent).toBe("data 3");
    expect(node.querySelector(".mgw-ggrad")!.textContent).toBe("grad 6");
    const fill = (node.querySelector(".mgw-gbody") as SVGElement).style.fill;
    expect(fill).toMatch(/^rgba?\(178, 24, 43/); // full red: the largest positive grad
  });

  it("highlights the step's node and its inputs", () => {
    drawing.highlight({ done: 1, total: 2, seeded: true, finished: false, active: 3, children: [1, 2], lines: [], next: "" }, -1, numbers);
    const cls = (unit: number) => drawing.svg.querySelector(`g.mgw-gvalue[data-unit="${unit}"]`)!.classList;
    expect(cls(3).contains("is-active")).toBe(true);
    expect(cls(1).contains("is-child") && cls(2).contains("is-child")).toBe(true);
    expect(cls(0).contains("is-child")).toBe(false);
    expect(drawing.svg.querySelectorAll(".mgw-gedge.is-flow").length).toBe(3); // #1, c -> +, + -> out
  });

  it("exports a standalone SVG with the labels escaped", () => {
    const text = standaloneSvg(drawing.svg, layout.width, layout.height, "rgb(255, 255, 255)");
    expect(text.startsWith("<?xml")).toBe(true);
    expect(text).toContain("&lt;img src=x");
    const parsed = new DOMParser().parseFromString(text, "image/svg+xml");
    expect(parsed.querySelector("parsererror")).toBeNull();
    expect(parsed.querySelector("img")).toBeNull();
  });
});

describe("detailContent", () => {
  it("lists the local derivative on each input edge", () => {
    const panel = document.createElement("div");
    panel.append(...detailContent(topology, numbers, 1));
    const text = panel.textContent!;
    expect(text).toContain("∂*·1/∂a = a.data = 3");
    expect(text.match(/∂\*·1\/∂a/g)).toHaveLength(2); // a * a: two input edges
    expect(text).toContain("used by");
  });
  it("shows a hint when nothing is selected and labels as text", () => {
    const panel = document.createElement("div");
    panel.append(...detailContent(topology, numbers, -1));
    expect(panel.textContent).toContain("Hover or click");
    panel.replaceChildren(...detailContent(topology, numbers, 2));
    expect(panel.querySelector("img")).toBeNull();
    expect(panel.textContent).toContain(XSS);
  });
});

describe("splitNumbers", () => {
  it("returns NaN while topology and numbers disagree in size", () => {
    const split = splitNumbers(Float64Array.from([1, 2, 3]), 4, 4);
    expect(Number.isNaN(split.data[0])).toBe(true);
    expect(split.local).toHaveLength(4);
  });
});

describe("number fields", () => {
  it("squeeze long numbers into the fixed field instead of re-laying out", () => {
    const layout = layoutGraph(topology, metricsFor(13));
    const drawing = new GraphDrawing(topology, layout, metricsFor(13), handlers);
    const long = Float64Array.from(buffer);
    long[4] = -0.0012345; // grad of unit 0
    drawing.updateNumbers(splitNumbers(long, 4, 4), 1);
    const grad = drawing.svg.querySelector('g.mgw-gvalue[data-unit="0"] .mgw-ggrad')!;
    expect(grad.textContent).toBe("grad -0.001234");
    expect(grad.getAttribute("lengthAdjust")).toBe("spacingAndGlyphs");
    drawing.updateNumbers(numbers, 6);
    expect(grad.hasAttribute("textLength")).toBe(false);
  });
});
