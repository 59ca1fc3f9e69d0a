// Where a graph opens: readable zoom, and the output in view at the far end of the ranks.
import { describe, expect, it } from "vitest";
import { fitZoom, MIN_READABLE_PX, outputScroll, readableZoom } from "./framing";

describe("opening zoom", () => {
  it("keeps a graph that fits at its natural size", () => {
    expect(fitZoom(600, 1000, 13)).toBe(1);
  });

  it("shrinks a wider graph to the width, but never below readable text", () => {
    expect(fitZoom(1500, 1200, 13)).toBeCloseTo(0.8);
    const chain = fitZoom(35_000, 1200, 13); // a 40-step chain: fitting would give 0.03
    expect(chain).toBe(readableZoom(13));
    expect(chain * 13).toBeCloseTo(MIN_READABLE_PX);
  });

  it("lets big text shrink further, and never zooms in past 1", () => {
    expect(readableZoom(18)).toBeCloseTo(0.5);
    expect(readableZoom(6)).toBe(1);
    expect(fitZoom(0, 1000, 13)).toBe(1); // nothing laid out yet
    expect(fitZoom(1000, 0, 13)).toBe(1); // no width yet
  });
});

describe("scroll to the output", () => {
  // the output: 200 × 30 centred at (3000, 2000), in a 1000 × 500 view
  const output = { x: 3000, y: 2000, width: 200, height: 30 };
  const inside = (rankdir: string, zoom: number) => {
    const { left, top } = outputScroll(output, zoom, rankdir, 1000, 500);
    const x0 = (output.x - output.width / 2) * zoom - left;
    const x1 = (output.x + output.width / 2) * zoom - left;
    const y0 = (output.y - output.height / 2) * zoom - top;
    const y1 = (output.y + output.height / 2) * zoom - top;
    return { x0, x1, y0, y1, ok: x0 >= 0 && x1 <= 1000 && y0 >= 0 && y1 <= 500 };
  };

  it("puts the output at the far end of the ranks, its inputs before it", () => {
    for (const rankdir of ["LR", "RL", "TB", "BT"]) {
      for (const zoom of [0.7, 1, 2]) expect(inside(rankdir, zoom).ok, `${rankdir} at ${zoom}`).toBe(true);
    }
    expect(inside("LR", 1).x1).toBe(1000 - 12); // at the right edge, inputs to its left
    expect(inside("RL", 1).x0).toBe(12);
    expect(inside("TB", 1).y1).toBe(500 - 12);
    expect(inside("BT", 1).y0).toBe(12);
    expect(inside("LR", 1).y0 + inside("LR", 1).y1).toBe(500); // centred across
  });

  it("never scrolls before the start of the drawing", () => {
    const near = { x: 100, y: 20, width: 200, height: 30 };
    expect(outputScroll(near, 1, "LR", 1000, 500)).toEqual({ left: 0, top: 0 });
  });
});
