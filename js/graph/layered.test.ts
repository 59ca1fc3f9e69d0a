import { describe, expect, it } from "vitest";
import { assignRanks, isotonic, layered, type LayeredEdge, type LayeredNode, type Rect } from "./layered";
import { layoutGraph, metricsFor } from "./layout";
import type { Topology, Unit } from "./types";

const options = { rankdir: "LR", rankSep: 30, nodeSep: 10, boxPad: 6, boxTitle: 20 };

function overlap(a: Rect, b: Rect): boolean {
  return Math.abs(a.x - b.x) * 2 < a.width + b.width - 0.01 && Math.abs(a.y - b.y) * 2 < a.height + b.height - 0.01;
}

/** A micrograd-like random DAG: each new node combines one or two earlier ones. */
function randomGraph(n: number, seed = 7): { nodes: LayeredNode[]; edges: LayeredEdge[] } {
  let s = seed;
  const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const nodes: LayeredNode[] = [];
  const edges: LayeredEdge[] = [];
  for (let i = 0; i < n; i++) {
    nodes.push({ width: 40 + Math.floor(rnd() * 80), height: 20, boxes: [] });
    if (i >= 4) {
      edges.push({ from: Math.floor(rnd() * i), to: i });
      edges.push({ from: i - 1, to: i });
    }
  }
  return { nodes, edges };
}

describe("assignRanks", () => {
  it("puts outputs at rank 0 and each input one rank before its furthest consumer", () => {
    // 0 -> 2, 1 -> 2, 2 -> 3, 0 -> 3
    const succ = [[2, 3], [2], [3], []];
    expect(Array.from(assignRanks(4, succ))).toEqual([2, 2, 1, 0]);
  });
  it("terminates on a cycle", () => {
    const ranks = assignRanks(3, [[1], [2], [0]]);
    expect(Array.from(ranks).every((r) => r >= 0)).toBe(true);
  });
});

describe("isotonic", () => {
  it("pools adjacent violators", () => {
    const out = new Float64Array(4);
    isotonic(Float64Array.from([1, 3, 2, 4]), out);
    expect(Array.from(out)).toEqual([1, 2.5, 2.5, 4]);
    isotonic(Float64Array.from([3, 2, 1, 0]), out);
    expect(Array.from(out)).toEqual([1.5, 1.5, 1.5, 1.5]);
  });
  it("moves a heavy item less than a light one", () => {
    const out = new Float64Array(2);
    isotonic(Float64Array.from([0, -10]), out, Float64Array.from([9, 1]));
    expect(Array.from(out)).toEqual([-1, -1]);
  });
});

/** `h = (h * 0.9999).tanh() + 0.001`, `steps` times, as GraphWidget sends it. */
function chainTopology(steps: number): Topology {
  const units: Unit[] = [{ kind: "value", name: "h", label: "h", op: "", box: -1 }];
  const edges: [number, number, string][] = [];
  let h = 0;
  const add = (op: string, inputs: number[]) => {
    units.push({ kind: "value", name: `${op || "leaf"}·${units.length}`, label: "", op, box: -1 });
    inputs.forEach((input) => edges.push([input, units.length - 1, ""]));
    return units.length - 1;
  };
  for (let k = 0; k < steps; k++) {
    const times = add("*", [h, add("", [])]);
    h = add("+", [add("tanh", [times]), add("", [])]);
  }
  return { version: 1, units, edges, boxes: [], root: h, total: units.length, shown: units.length, note: "" };
}

describe("layered", () => {
  it("places inputs left of outputs and never overlaps nodes", () => {
    const { nodes, edges } = randomGraph(300);
    const result = layered(nodes, edges, [], options);
    for (const e of edges) expect(result.nodes[e.from].x).toBeLessThan(result.nodes[e.to].x);
    for (let i = 0; i < nodes.length; i++) {
      for (let j = i + 1; j < nodes.length; j++) expect(overlap(result.nodes[i], result.nodes[j])).toBe(false);
      const r = result.nodes[i];
      expect(r.x - r.width / 2).toBeGreaterThanOrEqual(0);
      expect(r.x + r.width / 2).toBeLessThanOrEqual(result.width);
      expect(r.y + r.height / 2).toBeLessThanOrEqual(result.height);
    }
  });

  it("runs top to bottom for TB and mirrors for RL", () => {
    const nodes = [0, 1, 2].map(() => ({ width: 50, height: 20, boxes: [] }));
    const edges = [{ from: 0, to: 2 }, { from: 1, to: 2 }];
    const tb = layered(nodes, edges, [], { ...options, rankdir: "TB" });
    expect(tb.nodes[2].y).toBeGreaterThan(tb.nodes[0].y);
    const rl = layered(nodes, edges, [], { ...options, rankdir: "RL" });
    expect(rl.nodes[2].x).toBeLessThan(rl.nodes[0].x);
  });

  it("keeps box members inside their box and other nodes outside", () => {
    // two "neurons" (boxes 1, 2) inside a "layer" (box 0), plus an input and an output outside
    const nodes: LayeredNode[] = [
      { width: 40, height: 20, boxes: [] }, // 0: input
      { width: 40, height: 20, boxes: [0, 1] },
      { width: 40, height: 20, boxes: [0, 1] },
      { width: 40, height: 20, boxes: [0, 2] },
      { width: 40, height: 20, boxes: [0, 2] },
      { width: 40, height: 20, boxes: [] }, // 5: output
    ];
    const edges = [
      { from: 0, to: 1 }, { from: 1, to: 2 }, { from: 0, to: 3 }, { from: 3, to: 4 },
      { from: 2, to: 5 }, { from: 4, to: 5 },
    ];
    const result = layered(nodes, edges, [-1, 0, 0], options);
    const [layer, n1, n2] = result.boxes as Rect[];
    const inside = (outer: Rect, inner: Rect) =>
      inner.x - inner.width / 2 >= outer.x - outer.width / 2 - 0.01 &&
      inner.x + inner.width / 2 <= outer.x + outer.width / 2 + 0.01 &&
      inner.y - inner.height / 2 >= outer.y - outer.height / 2 - 0.01 &&
      inner.y + inner.height / 2 <= outer.y + outer.height / 2 + 0.01;
    expect(inside(n1, result.nodes[1]) && inside(n1, result.nodes[2])).toBe(true);
    expect(inside(n2, result.nodes[3]) && inside(n2, result.nodes[4])).toBe(true);
    expect(inside(layer, n1) && inside(layer, n2)).toBe(true);
    expect(overlap(n1, n2)).toBe(false);
    for (const outside of [0, 5]) expect(overlap(layer, result.nodes[outside])).toBe(false);
    expect(result.nodes[0].x).toBeLessThan(layer.x - layer.width / 2);
    expect(result.nodes[5].x).toBeGreaterThan(layer.x + layer.width / 2);
  });

  it("runs a long chain with constants on the side straight, not drifting across rows", () => {
    const m = metricsFor(13);
    const layout = layoutGraph(chainTopology(40), m);
    const rowHeight = m.fontSize * 1.5 + m.pad;
    // the chain plus one row of constants beside it (drifting, it was ~1,200 px tall)
    expect(layout.height).toBeLessThan(4 * rowHeight);
    expect(layout.width).toBeGreaterThan(20_000);
  });

  it("lays out 2,000 nodes quickly", () => {
    const { nodes, edges } = randomGraph(2000);
    const start = performance.now();
    layered(nodes, edges, [], options);
    expect(performance.now() - start).toBeLessThan(1500);
  });
});
