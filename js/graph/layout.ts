// Layered left-to-right layout of the units Python sent, in micrograd's style: each value that
// an op produced gets a small op node just before it (inputs -> op -> value).
import { Graph, layout as dagreLayout } from "@dagrejs/dagre";
import type { Topology, Unit } from "./types";

export interface Size {
  width: number;
  height: number;
}
export interface Placed extends Size {
  x: number; // centre
  y: number;
}
export interface LaidOutNode extends Placed {
  id: string;
  unit: number;
  kind: "value" | "op" | "group" | "more";
}
export interface LaidOutEdge {
  from: string;
  to: string;
  points: { x: number; y: number }[];
  edges: number[]; // indices into topology.edges drawn by this line (a * a draws one line)
}
export interface LaidOutBox extends Placed {
  box: number;
}
export interface Layout {
  nodes: LaidOutNode[];
  edges: LaidOutEdge[];
  boxes: LaidOutBox[];
  width: number;
  height: number;
}

/** Fixed text metrics so a refresh (new numbers) never needs a new layout. */
export interface Metrics {
  fontSize: number;
  charWidth: number; // monospace advance
  pad: number;
  numberChars: number; // room for "grad -1.235e+5"
  maxLabelChars: number;
}

export function metricsFor(fontSize: number): Metrics {
  return { fontSize, charWidth: fontSize * 0.62, pad: fontSize * 0.6, numberChars: 14, maxLabelChars: 24 };
}

/** A label as drawn in a node: long ones are shortened (the detail panel shows them whole). */
export function shortLabel(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : chars.slice(0, max - 1).join("") + "…";
}

export function textWidth(text: string, m: Metrics): number {
  return Array.from(text).length * m.charWidth;
}

/** Widths of the three record fields of a value node: name | data | grad. */
export function valueFields(name: string, m: Metrics): [number, number, number] {
  const nameWidth = Math.max(textWidth(shortLabel(name, m.maxLabelChars), m), 2 * m.charWidth) + 2 * m.pad;
  const numberWidth = m.numberChars * m.charWidth + 2 * m.pad;
  return [nameWidth, numberWidth, numberWidth];
}

/** The text lines of a folded group or of the "more" node (the last group line holds numbers). */
export function groupLines(unit: Unit): string[] {
  if (unit.kind === "group") {
    return [`▸ ${shortLabel(unit.name, 40)}`, `${unit.count.toLocaleString("en-US")} nodes · click to open`, ""];
  }
  if (unit.kind === "more") return [`⋯ ${unit.count.toLocaleString("en-US")} more nodes`, "not drawn (max_nodes)"];
  return [];
}

export function unitSize(unit: Unit, m: Metrics): Size {
  const lineHeight = m.fontSize * 1.5;
  if (unit.kind === "value") {
    const [a, b, c] = valueFields(unit.name, m);
    return { width: a + b + c, height: lineHeight + m.pad };
  }
  const lines = groupLines(unit);
  const longest = Math.max(...lines.map((l) => textWidth(l, m)), m.numberChars * 2 * m.charWidth);
  return { width: longest + 2 * m.pad, height: lines.length * lineHeight + m.pad };
}

export function opSize(op: string, m: Metrics): Size {
  const d = m.fontSize * 2.2;
  return { width: Math.max(d, textWidth(op, m) + m.pad * 1.5), height: d };
}

export const opId = (unit: number) => `o${unit}`;
export const unitId = (unit: number) => `u${unit}`;
const boxId = (box: number) => `b${box}`;

/** Lay out `topology`; network-simplex ranking for small graphs, a faster ranker for big ones. */
export function layoutGraph(topology: Topology, m: Metrics, rankdir = "LR"): Layout {
  const compound = topology.boxes.length > 0;
  const g = new Graph({ compound, multigraph: false });
  let nodeCount = topology.units.length;
  for (const u of topology.units) if (u.kind === "value" && u.op) nodeCount++;
  g.setGraph({
    rankdir,
    nodesep: m.fontSize * 0.9,
    ranksep: m.fontSize * 2.2,
    edgesep: m.fontSize * 0.5,
    marginx: m.fontSize,
    marginy: m.fontSize,
    ranker: nodeCount <= 250 ? "network-simplex" : "tight-tree",
  });
  g.setDefaultEdgeLabel(() => ({}));

  topology.boxes.forEach((box, i) => {
    // the title sits inside the top padding of the box
    g.setNode(boxId(i), { width: 0, height: 0, paddingTop: m.fontSize * 2 });
    if (box.parent >= 0) g.setParent(boxId(i), boxId(box.parent));
  });
  topology.units.forEach((unit, i) => {
    g.setNode(unitId(i), { ...unitSize(unit, m) });
    if (compound && unit.box >= 0) g.setParent(unitId(i), boxId(unit.box));
    if (unit.kind === "value" && unit.op) {
      g.setNode(opId(i), { ...opSize(unit.op, m) });
      if (compound && unit.box >= 0) g.setParent(opId(i), boxId(unit.box));
      g.setEdge(opId(i), unitId(i));
    }
  });
  // input unit -> the op node of its output (or the output itself for groups)
  const lines = new Map<string, LaidOutEdge>();
  topology.edges.forEach(([src, dst], e) => {
    const target = topology.units[dst];
    const to = target.kind === "value" && target.op ? opId(dst) : unitId(dst);
    const from = unitId(src);
    const key = `${from}>${to}`;
    const line = lines.get(key);
    if (line) line.edges.push(e);
    else {
      lines.set(key, { from, to, points: [], edges: [e] });
      g.setEdge(from, to);
    }
  });
  for (let i = 0; i < topology.units.length; i++) {
    const unit = topology.units[i];
    if (unit.kind === "value" && unit.op) {
      lines.set(`${opId(i)}>${unitId(i)}`, { from: opId(i), to: unitId(i), points: [], edges: [] });
    }
  }

  dagreLayout(g);

  const place = (id: string): Placed => {
    const n = g.node(id);
    return { x: n.x ?? 0, y: n.y ?? 0, width: n.width, height: n.height };
  };
  const nodes: LaidOutNode[] = [];
  topology.units.forEach((unit, i) => {
    nodes.push({ id: unitId(i), unit: i, kind: unit.kind, ...place(unitId(i)) });
    if (unit.kind === "value" && unit.op) nodes.push({ id: opId(i), unit: i, kind: "op", ...place(opId(i)) });
  });
  const edges = [...lines.values()].map((line) => ({
    ...line,
    points: (g.edge(line.from, line.to)?.points ?? []).map((p: { x: number; y: number }) => ({ x: p.x, y: p.y })),
  }));
  const boxes = topology.boxes.map((_, i) => ({ box: i, ...place(boxId(i)) }));
  const graph = g.graph();
  return { nodes, edges, boxes, width: graph.width ?? 0, height: graph.height ?? 0 };
}
