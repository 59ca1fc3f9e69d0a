// Layout of the units Python sent, in micrograd's style: each value that
// an op produced gets a small op node just before it (inputs -> op -> value).
import { formatCount } from "../shared/dom";
import { layered, type LayeredNode } from "./layered";
import type { Topology, Unit, ValueUnit } from "./types";

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
  points: { x: number; y: number }[]; // cubic Bézier: start, control 1, control 2, end
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
  numberChars: number; // room for "grad -0.7453"
  maxLabelChars: number;
}

export function metricsFor(fontSize: number): Metrics {
  // 11 characters fit "grad -0.7453"; longer numbers are squeezed into the field (textLength)
  return { fontSize, charWidth: fontSize * 0.62, pad: fontSize * 0.6, numberChars: 11, maxLabelChars: 24 };
}

/** A label as drawn in a node: long ones are shortened (the detail panel shows them whole). */
export function shortLabel(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : chars.slice(0, max - 1).join("") + "…";
}

export function textWidth(text: string, m: Metrics): number {
  return Array.from(text).length * m.charWidth;
}

/** Widths of the three record fields of a value node: name (as drawn) | data | grad. */
export function valueFields(name: string, m: Metrics): [number, number, number] {
  const nameWidth = Math.max(textWidth(name, m), 2 * m.charWidth) + 2 * m.pad;
  const numberWidth = m.numberChars * m.charWidth + 2 * m.pad;
  return [nameWidth, numberWidth, numberWidth];
}

/** The text lines of a folded group or of the "more" node (the last group line holds numbers). */
export function groupLines(unit: Unit): string[] {
  if (unit.kind === "group") {
    return [`▸ ${shortLabel(unit.name, 40)}`, `${formatCount(unit.count)} nodes · click to open`, ""];
  }
  if (unit.kind === "more") return [`⋯ ${formatCount(unit.count)} more nodes`, "not drawn (max_nodes)"];
  return [];
}

/** The text drawn in a value node's first field. */
export function displayName(unit: ValueUnit, m: Metrics): string {
  return shortLabel(unit.short || unit.name, m.maxLabelChars);
}

export function unitSize(unit: Unit, m: Metrics): Size {
  const lineHeight = m.fontSize * 1.5;
  if (unit.kind === "value") {
    const [a, b, c] = valueFields(displayName(unit, m), m);
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

/** Lay out `topology` (see layered.ts for how). */
export function layoutGraph(topology: Topology, m: Metrics, rankdir = "LR"): Layout {
  // every enclosing box of a unit, outermost first
  const chains = topology.boxes.map(() => [] as number[]);
  const chainOf = (box: number): number[] => {
    if (box < 0) return [];
    if (!chains[box].length) chains[box] = [...chainOf(topology.boxes[box].parent), box];
    return chains[box];
  };
  const nodes: LayeredNode[] = [];
  const placed: Omit<LaidOutNode, "x" | "y" | "width" | "height">[] = [];
  const index = new Map<string, number>();
  const add = (id: string, unit: number, kind: LaidOutNode["kind"], size: Size, box: number) => {
    index.set(id, nodes.length);
    nodes.push({ ...size, boxes: chainOf(box) });
    placed.push({ id, unit, kind });
  };
  topology.units.forEach((unit, i) => {
    add(unitId(i), i, unit.kind, unitSize(unit, m), unit.box);
    if (unit.kind === "value" && unit.op) add(opId(i), i, "op", opSize(unit.op, m), unit.box);
  });
  // input unit -> the op node of its output (or the output itself for groups); a * a: one line
  const lines = new Map<string, Omit<LaidOutEdge, "points">>();
  topology.edges.forEach(([src, dst], e) => {
    const target = topology.units[dst];
    const to = target.kind === "value" && target.op ? opId(dst) : unitId(dst);
    const from = unitId(src);
    const line = lines.get(`${from}>${to}`);
    if (line) line.edges.push(e);
    else lines.set(`${from}>${to}`, { from, to, edges: [e] });
  });
  topology.units.forEach((unit, i) => {
    if (unit.kind === "value" && unit.op) lines.set(`${opId(i)}>${unitId(i)}`, { from: opId(i), to: unitId(i), edges: [] });
  });
  const edgeList = [...lines.values()];
  const result = layered(
    nodes,
    edgeList.map((l) => ({ from: index.get(l.from) as number, to: index.get(l.to) as number })),
    topology.boxes.map((box) => box.parent),
    {
      rankdir,
      rankSep: m.fontSize * 2.4,
      nodeSep: m.fontSize * 0.8,
      boxPad: m.fontSize * 0.5,
      boxTitle: m.fontSize * 1.6,
    },
  );
  return {
    nodes: placed.map((p, k) => ({ ...p, ...result.nodes[k] })),
    edges: edgeList.map((l, k) => ({ ...l, points: result.edges[k] })),
    boxes: result.boxes.flatMap((b, box) => (b ? [{ box, ...b }] : [])),
    width: result.width,
    height: result.height,
  };
}
