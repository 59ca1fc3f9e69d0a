// The detail panel for one node: label, op, data, grad and the local derivative on each input.
import { formatCount, formatNumber, h } from "../shared/dom";
import type { Numbers, Topology } from "./types";

/** A line of help or explanation, in muted text. */
function hint(text: string): HTMLElement {
  return h("div", { class: "mgw-muted" }, [text]);
}

function title(text: string): HTMLElement {
  return h("div", { class: "mgw-graph-detail-title" }, [text]);
}

function row(name: string, value: string): HTMLElement {
  return h("div", { class: "mgw-graph-row" }, [h("span", { class: "mgw-muted" }, [name]), h("span", { class: "mgw-mono" }, [value])]);
}

function unitName(topology: Topology, unit: number): string {
  const u = topology.units[unit];
  if (u.kind === "more") return `${u.count} hidden nodes`;
  return u.name;
}

/** Children of the panel for `unit` (-1: a hint what to do). All text is set as text. */
export function detailContent(topology: Topology, numbers: Numbers, unit: number): Node[] {
  const u = topology.units[unit];
  if (!u) return [hint("Hover or click a node to see its data, grad and local derivatives.")];
  if (u.kind === "more") {
    return [h("div", {}, [`${formatCount(u.count)} nodes are not drawn: ${topology.note}`])];
  }
  const parts: Node[] = [];
  if (u.kind === "group") {
    parts.push(title(u.title || u.name));
    parts.push(row("nodes", formatCount(u.count)));
    if (!Number.isNaN(numbers.data[unit])) {
      parts.push(row("output data", formatNumber(numbers.data[unit])), row("output grad", formatNumber(numbers.grad[unit])));
    }
    parts.push(hint("Click the dashed box to open this group."));
    return parts;
  }
  parts.push(title(u.name));
  parts.push(row("op", u.op ? u.op : "leaf (an input or a parameter)"));
  parts.push(row("data", String(numbers.data[unit])), row("grad", String(numbers.grad[unit])));
  const incoming: Node[] = [];
  const usedBy = new Set<string>();
  topology.edges.forEach(([src, dst, formula], e) => {
    if (dst === unit) {
      const local = numbers.local[e];
      const value = Number.isNaN(local) ? "" : ` = ${formatNumber(local)}`;
      const derivative = formula ? `∂${u.name}/∂${unitName(topology, src)} = ${formula}${value}` : `from ${unitName(topology, src)}`;
      incoming.push(h("li", { class: "mgw-mono" }, [derivative]));
    }
    if (src === unit) usedBy.add(unitName(topology, dst));
  });
  if (incoming.length) {
    parts.push(hint("local derivative on each input edge:"), h("ul", { class: "mgw-graph-edges" }, incoming));
  }
  if (usedBy.size) parts.push(row("used by", [...usedBy].join(", ")));
  return parts;
}
