// The detail panel for one node: label, op, data, grad and the local derivative on each input.
import { button, formatCount, formatNumber, h } from "../shared/dom";
import { NEEDS_KERNEL } from "../shared/view";
import type { GradCheck, Numbers, Topology } from "./types";

/** What the panel adds to a node's numbers: the step-through's state of its grad and the
 * numeric check. */
export interface DetailExtras {
  status?: string; // "p" not computed yet, "s" partial, "f" final
  sum?: string; // Python's `+=` sum of this step-through
  check?: GradCheck | null; // the numeric check of this node, if one was made
  onCheck?: () => void; // ask Python for the check (absent: nothing to check, or no kernel)
  noKernel?: boolean; // a group cannot be opened (Python builds its contents)
}

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
export function detailContent(topology: Topology, numbers: Numbers, unit: number, extras: DetailExtras = {}): Node[] {
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
    parts.push(hint(extras.noKernel ? "Opening a group needs the kernel." : "Click the dashed box to open this group."));
    return parts;
  }
  parts.push(title(u.name));
  parts.push(row("op", u.op ? u.op : "leaf (an input or a parameter)"));
  if (u.order) parts.push(row("backward", `step ${u.order}: its chain rule runs after every node that uses it`));
  const pending = extras.status === "p";
  parts.push(row("data", String(numbers.data[unit])), row("grad", pending ? "— (not computed yet)" : String(numbers.grad[unit])));
  const sum = pending ? "" : extras.sum || derivedSum(topology, numbers, unit);
  if (sum) parts.push(h("div", { class: "mgw-mono mgw-graph-sum" }, [extras.status === "s" ? `${sum}  (more to come)` : sum]));
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
  if (!u.op) parts.push(...checkContent(extras));
  return parts;
}

/** The numeric check of a leaf: the central difference beside autograd, with their error. */
function checkContent(extras: DetailExtras): Node[] {
  const parts: Node[] = [];
  const c = extras.check;
  if (c) {
    parts.push(
      row("autograd", String(c.autograd)),
      row("numeric", `${c.numeric}  (central difference, h = ${c.h.toExponential(1)})`),
      row("rel. error", c.relative_error.toExponential(1)),
    );
    if (c.note) parts.push(hint(c.note));
  }
  if (extras.onCheck) {
    parts.push(
      button(c ? "Check again" : "Check numerically", extras.onCheck, {
        class: "mgw-button mgw-graph-check",
        title: "Re-evaluate the graph with this leaf ± h (in Python) and compare with autograd",
        [NEEDS_KERNEL]: true,
      }),
    );
  }
  return parts;
}

/** "a.grad = 0 + 0.3 (from n1) + -0.2 (from n2) = 0.1" from the drawn numbers: each consumer's
 * grad × its local derivative, in the backward order ("" when a consumer is not drawn). */
export function derivedSum(topology: Topology, numbers: Numbers, unit: number): string {
  const terms: { order: number; edge: number; text: string; value: number }[] = [];
  let complete = true;
  topology.edges.forEach(([src, dst], e) => {
    if (src !== unit) return;
    const consumer = topology.units[dst];
    const local = numbers.local[e];
    if (consumer.kind !== "value" || Number.isNaN(local)) {
      complete = false;
      return;
    }
    const value = numbers.grad[dst] * local;
    terms.push({ order: consumer.order ?? 0, edge: e, value, text: `${formatNumber(value)} (from ${consumer.name})` });
  });
  if (!complete || !terms.length) return "";
  terms.sort((a, b) => a.order - b.order || a.edge - b.edge);
  const total = terms.reduce((acc, t) => acc + t.value, 0);
  const grad = numbers.grad[unit];
  if (Math.abs(total - grad) > 1e-12 * Math.max(1, Math.abs(grad))) return ""; // earlier passes added in
  return `${unitName(topology, unit)}.grad = 0 + ${terms.map((t) => t.text).join(" + ")} = ${formatNumber(grad)}`;
}
