import { describe, expect, it } from "vitest";
import { drawChart, seriesRange } from "./chart";
import { stubCanvas } from "./testing";

/** A 2-D context that records what is drawn: ["moveTo", x, y], ["set", "strokeStyle", "red"], ... */
function recordingContext(): { ctx: unknown; calls: unknown[][] } {
  const calls: unknown[][] = [];
  const ctx = new Proxy(
    {},
    {
      get: (_, name) => (...args: unknown[]) => void calls.push([name, ...args]),
      set: (_, name, value) => {
        calls.push(["set", name, value]);
        return true;
      },
    },
  );
  return { ctx, calls };
}

describe("seriesRange", () => {
  it("ignores NaN and widens a flat range", () => {
    const xs = [0, 1, 2];
    expect(seriesRange([{ xs, ys: [1, Number.NaN, 3], color: "" }])).toEqual([1, 3]);
    expect(seriesRange([{ xs, ys: [2, 2, 2], color: "" }])).toEqual([1.5, 2.5]);
    expect(seriesRange([])).toEqual([0, 1]);
  });
});

describe("drawChart", () => {
  it("sizes the canvas, titles the chart, and leaves a gap at NaN", () => {
    const { ctx, calls } = recordingContext();
    stubCanvas(ctx);
    const canvas = document.createElement("canvas");
    const series = [
      { xs: [0, 1, 2, 3], ys: [1, 2, Number.NaN, 4], color: "red" },
      { xs: [0, 1, 2, 3], ys: [4, 3, 2, 1], color: "blue", dashed: true },
    ];
    drawChart(canvas, 200, 100, series, { title: "loss", axisColor: "grey", textColor: "black" });
    expect([canvas.style.width, canvas.style.maxWidth, canvas.style.height]).toEqual(["200px", "100%", "auto"]);
    expect(calls).toContainEqual(["clearRect", 0, 0, 200, 100]);
    expect(calls.filter((c) => c[0] === "fillText").map((c) => c[1])).toEqual(["loss", "4", "1", "0", "3"]);
    // red: moveTo, lineTo, (gap), moveTo; blue: moveTo and three lineTo, dashed
    const pen = calls.filter((c) => c[0] === "moveTo" || c[0] === "lineTo").map((c) => c[0]);
    expect(pen).toEqual(["moveTo", "lineTo", "moveTo", "moveTo", "lineTo", "lineTo", "lineTo"]);
    expect(calls).toContainEqual(["setLineDash", [4, 3]]);
    // the first point (0, 1): the y range [1, 4] spans both series, so y = 1 is the plot's
    // bottom edge (16 px padding + 68 px plot); x = 0 is its left edge, after 40 px of labels
    const firstMove = calls.find((c) => c[0] === "moveTo")!;
    expect(firstMove.slice(1)).toEqual([40, 84]);
  });

  it("draws a log10 y axis on request, labelled in the data's units, with gaps at values <= 0", () => {
    const { ctx, calls } = recordingContext();
    stubCanvas(ctx);
    const canvas = document.createElement("canvas");
    const series = [{ xs: [0, 1, 2, 3], ys: [1000, 0, 10, 1], color: "red" }];
    drawChart(canvas, 200, 100, series, { title: "loss", axisColor: "", textColor: "", yLog: true });
    expect(calls.filter((c) => c[0] === "fillText").map((c) => c[1])).toEqual(["loss", "1000", "1", "0", "3"]);
    const pen = calls.filter((c) => c[0] === "moveTo" || c[0] === "lineTo");
    expect(pen.map((c) => c[0])).toEqual(["moveTo", "moveTo", "lineTo"]); // a gap at 0
    // log10: 1000 at the top (y = 16), 10 a third of the way up from 1 at the bottom (y = 84)
    expect(pen[0].slice(1)).toEqual([40, 16]);
    expect(pen[1][2]).toBeCloseTo(84 - 68 / 3, 6);
  });

  it("draws nothing when the canvas has no 2-D context", () => {
    stubCanvas(null);
    const canvas = document.createElement("canvas");
    expect(() => drawChart(canvas, 10, 10, [], { title: "", axisColor: "", textColor: "" })).not.toThrow();
  });
});
