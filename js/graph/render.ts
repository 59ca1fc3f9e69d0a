// Draws a laid-out graph as SVG, then updates only numbers, colours and highlights in place.
import { svg, formatNumber } from "../shared/dom";
import { cssColor, diverging, textColorOn } from "../shared/colors";
import { displayName, groupLines, shortLabel, valueFields, type Layout, type Metrics } from "./layout";
import type { Numbers, StepState, Topology } from "./types";

export interface DrawingHandlers {
  select(unit: number): void;
  toggle(scope: number): void;
  hover(unit: number): void; // -1 when the pointer leaves a node
}

interface UnitElements {
  group: SVGGElement;
  body: SVGRectElement;
  texts: SVGTextElement[]; // the texts drawn on the coloured body
  data?: SVGTextElement;
  grad?: SVGTextElement;
  op?: SVGGElement;
}

interface EdgeElements {
  path: SVGPathElement;
  from: number; // unit
  to: number;
  edges: number[]; // indices into topology.edges
  label: SVGTextElement; // "upstream × local = contribution" while the step applies it
  mid: { x: number; y: number };
}

/** The point halfway along a cubic Bézier edge. */
function midpoint(points: { x: number; y: number }[]): { x: number; y: number } {
  if (points.length !== 4) return points[0] ?? { x: 0, y: 0 };
  const [a, b, c, d] = points;
  return { x: (a.x + 3 * b.x + 3 * c.x + d.x) / 8, y: (a.y + 3 * b.y + 3 * c.y + d.y) / 8 };
}

let instances = 0;

// Text placed by its vertical centre (and, for CENTRED, its horizontal centre too).
const MIDDLE = { "dominant-baseline": "central" };
const CENTRED = { ...MIDDLE, "text-anchor": "middle" };

function pathThrough(points: { x: number; y: number }[]): string {
  const xy = (p: { x: number; y: number }) => `${p.x.toFixed(1)} ${p.y.toFixed(1)}`;
  if (points.length !== 4) return "";
  return `M${xy(points[0])} C${xy(points[1])} ${xy(points[2])} ${xy(points[3])}`;
}

export class GraphDrawing {
  readonly svg: SVGSVGElement;
  private readonly units = new Map<number, UnitElements>();
  private readonly lines: EdgeElements[] = [];
  private readonly hatchId: string;

  constructor(
    private readonly topology: Topology,
    readonly layout: Layout,
    private readonly m: Metrics,
    handlers: DrawingHandlers,
  ) {
    const arrowId = `mgw-arrow-${++instances}`;
    this.svg = svg("svg", {
      class: "mgw-graph-svg",
      viewBox: `0 0 ${layout.width.toFixed(1)} ${layout.height.toFixed(1)}`,
      role: "img",
      "aria-label": `computation graph with ${topology.total} nodes`,
      "font-size": m.fontSize,
    });
    const defs = svg("defs");
    const marker = svg("marker", {
      id: arrowId,
      viewBox: "0 0 10 10",
      refX: 9,
      refY: 5,
      markerWidth: m.fontSize * 0.6,
      markerHeight: m.fontSize * 0.6,
      markerUnits: "userSpaceOnUse", // thick highlighted edges keep normal arrowheads
      orient: "auto-start-reverse",
    });
    marker.append(svg("path", { d: "M0 0 L10 5 L0 10 z", class: "mgw-garrow" }));
    // the fill of a node whose grad is not computed yet
    this.hatchId = `mgw-hatch-${instances}`;
    const hatch = svg("pattern", {
      id: this.hatchId,
      class: "mgw-ghatch",
      patternUnits: "userSpaceOnUse",
      width: 6,
      height: 6,
      patternTransform: "rotate(45)",
    });
    hatch.append(svg("line", { x1: 0, y1: 0, x2: 0, y2: 6 }));
    defs.append(marker, hatch);
    const boxLayer = svg("g", { class: "mgw-gboxes" });
    const edgeLayer = svg("g", { class: "mgw-gedges" });
    const nodeLayer = svg("g", { class: "mgw-gnodes" });
    this.svg.append(defs, boxLayer, edgeLayer, nodeLayer);

    for (const placed of layout.boxes) {
      const box = topology.boxes[placed.box];
      const name = box.title || box.name;
      const x = placed.x - placed.width / 2;
      const y = placed.y - placed.height / 2;
      const g = svg("g", { class: "mgw-gbox", "data-scope": box.scope });
      g.append(svg("rect", { x, y, width: placed.width, height: placed.height, rx: 6 }));
      const title = svg("text", { x: x + m.pad, y: y + m.fontSize * 1.3, class: "mgw-gbox-title" },
        `▾ ${shortLabel(name, Math.max(8, Math.floor(placed.width / m.charWidth) - 3))}`);
      title.append(svg("title", {}, `${name} — click to fold`));
      title.addEventListener("click", () => handlers.toggle(box.scope));
      g.append(title);
      boxLayer.append(g);
    }

    const labelLayer = svg("g", { class: "mgw-gedge-labels" });
    for (const line of layout.edges) {
      const path = svg("path", { d: pathThrough(line.points), class: "mgw-gedge", "marker-end": `url(#${arrowId})` });
      edgeLayer.append(path);
      const bend = midpoint(line.points);
      const mid = { x: bend.x, y: bend.y - m.fontSize * 0.8 }; // just above the edge, off the nodes
      const label = svg("text", { x: mid.x, y: mid.y, ...CENTRED, class: "mgw-gedge-label" });
      labelLayer.append(label);
      this.lines.push({ path, from: Number(line.from.slice(1)), to: Number(line.to.slice(1)), edges: line.edges, label, mid });
    }

    const lineHeight = m.fontSize * 1.5;
    const pendingOps = new Map<number, SVGGElement>(); // op ellipses met before their value node
    for (const node of layout.nodes) {
      const unit = topology.units[node.unit];
      const x = node.x - node.width / 2;
      const y = node.y - node.height / 2;
      if (node.kind === "op") {
        const g = svg("g", { class: "mgw-gop", "data-unit": node.unit });
        g.append(
          svg("ellipse", { cx: node.x, cy: node.y, rx: node.width / 2, ry: node.height / 2 }),
          svg("text", { x: node.x, y: node.y, ...CENTRED }, unit.kind === "value" ? unit.op : ""),
        );
        const order = unit.kind === "value" ? unit.order ?? 0 : 0;
        if (order > 0) {
          // its place in the backward order: the step that applies this node's chain rule
          const r = m.fontSize * 0.62;
          const bx = node.x + node.width / 2 - r * 0.4;
          const by = node.y - node.height / 2 - r * 0.2;
          const badge = svg("g", { class: "mgw-gorder", "data-order": order });
          badge.append(
            svg("rect", { x: bx - r * 1.1, y: by - r * 0.8, width: r * 2.2, height: r * 1.6, rx: r * 0.8 }),
            svg("text", { x: bx, y: by, ...CENTRED, "font-size": (m.fontSize * 0.72).toFixed(1) }, String(order)),
          );
          badge.append(svg("title", {}, `step ${order} of the backward pass applies this node's chain rule`));
          g.append(badge);
        }
        nodeLayer.append(g);
        const owner = this.units.get(node.unit);
        if (owner) owner.op = g;
        else pendingOps.set(node.unit, g);
        continue;
      }
      // the output is marked (tests and screenshots find it; a thicker outline for readers)
      const output = node.unit === topology.root ? " is-output" : "";
      const g = svg("g", { class: `mgw-gnode mgw-g${node.kind}${output}`, "data-unit": node.unit });
      const body = svg("rect", { x, y, width: node.width, height: node.height, rx: 3, class: "mgw-gbody" });
      g.append(body);
      const elements: UnitElements = { group: g, body, texts: [] };
      if (unit.kind === "value") {
        const shown = displayName(unit, m);
        const [nameW, dataW] = valueFields(shown, m);
        const cy = node.y;
        const nameText = svg("text", { x: x + nameW / 2, y: cy, ...CENTRED,
          class: unit.label ? "mgw-gname" : "mgw-gname mgw-gunnamed" }, shown);
        const dataText = svg("text", { x: x + nameW + m.pad, y: cy, ...MIDDLE, class: "mgw-gdata" }, "data");
        const gradText = svg("text", { x: x + nameW + dataW + m.pad, y: cy, ...MIDDLE, class: "mgw-ggrad" }, "grad");
        const separator = (sx: number) => svg("line", { x1: sx, x2: sx, y1: y, y2: y + node.height, class: "mgw-gsep" });
        g.append(separator(x + nameW), separator(x + nameW + dataW), nameText, dataText, gradText);
        g.append(svg("title", {}, `${unit.name}${unit.op ? ` (${unit.op})` : ""}`));
        elements.texts.push(nameText, dataText, gradText);
        elements.data = dataText;
        elements.grad = gradText;
        elements.op = pendingOps.get(node.unit);
      } else {
        body.setAttribute("class", "mgw-gbody mgw-gfolded");
        groupLines(unit).forEach((text, k) => {
          const t = svg("text", { x: x + m.pad, y: y + m.pad / 2 + lineHeight * (k + 0.5), ...MIDDLE }, text);
          g.append(t);
          elements.texts.push(t);
          if (unit.kind === "group" && k === 2) elements.data = t;
        });
        if (unit.kind === "group") g.append(svg("title", {}, `${unit.title} — click to open`));
      }
      g.addEventListener("click", () => {
        if (unit.kind === "group") handlers.toggle(unit.scope);
        else if (unit.kind === "value") handlers.select(node.unit);
      });
      g.addEventListener("mouseenter", () => handlers.hover(node.unit));
      g.addEventListener("mouseleave", () => handlers.hover(-1));
      nodeLayer.append(g);
      this.units.set(node.unit, elements);
    }
    this.svg.append(labelLayer); // on top: the flowing edge's arithmetic stays readable
  }

  /** New data/grads: rewrite the numbers and recolour by grad (same layout). */
  updateNumbers(numbers: Numbers, maxGrad: number): void {
    for (const [unit, el] of this.units) {
      const data = numbers.data[unit];
      const grad = numbers.grad[unit];
      const kind = this.topology.units[unit].kind;
      if (kind === "value") {
        this.setNumberText(el.data!, `data ${formatNumber(data)}`);
        this.setNumberText(el.grad!, `grad ${formatNumber(grad)}`);
      } else if (kind === "group" && el.data) {
        el.data.textContent = Number.isNaN(data) ? "" : `out ${formatNumber(data)} · grad ${formatNumber(grad)}`;
      }
      // inline style: it must win over the theme's CSS (a fill attribute would not)
      if (Number.isNaN(grad)) {
        el.body.style.removeProperty("fill");
        for (const t of el.texts) t.style.removeProperty("fill");
        continue;
      }
      const colour = diverging(grad, maxGrad);
      el.body.style.fill = cssColor(colour);
      const ink = textColorOn(colour);
      for (const t of el.texts) t.style.fill = ink;
    }
  }

  /** Numbers longer than their field ("grad -1.235e-5") are squeezed to fit, not cut. */
  private setNumberText(text: SVGTextElement, value: string): void {
    text.textContent = value;
    if (value.length > this.m.numberChars) {
      text.setAttribute("textLength", (this.m.numberChars * this.m.charWidth).toFixed(1));
      text.setAttribute("lengthAdjust", "spacingAndGlyphs");
    } else {
      text.removeAttribute("textLength");
      text.removeAttribute("lengthAdjust");
    }
  }

  /** Mark the node of the last chain-rule step, its inputs, the selected node, and each grad's
   * state: not computed yet ("grad —", hatched: unlike a grad of 0), a partial sum, or final. On
   * the edges the step applied: upstream × local = contribution. */
  highlight(step: StepState | undefined, selected: number, numbers: Numbers): void {
    const active = step?.active ?? -1;
    const children = new Set(step?.children ?? []);
    const status = step?.status ?? "";
    for (const [unit, el] of this.units) {
      const classes = el.group.classList;
      classes.toggle("is-active", unit === active);
      classes.toggle("is-child", children.has(unit));
      classes.toggle("is-selected", unit === selected);
      el.op?.classList.toggle("is-active", unit === active);
      const state = status[unit] ?? "f";
      classes.toggle("is-pending", state === "p");
      classes.toggle("is-partial", state === "s");
      if (state === "p" && el.grad) {
        this.setNumberText(el.grad, "grad —");
        el.body.style.fill = `url(#${this.hatchId})`;
        for (const t of el.texts) t.style.removeProperty("fill");
      } else if (state === "s" && el.grad) {
        this.setNumberText(el.grad, `grad ${formatNumber(numbers.grad[unit])}+…`); // more to come
      }
    }
    const upstream = numbers.grad[active];
    for (const line of this.lines) {
      // the step pushed grad from `active` back along its input edges
      const flows = (line.to === active && children.has(line.from)) || (line.from === active && line.to === active);
      line.path.classList.toggle("is-flow", flows);
      const texts = flows && line.from !== line.to ? line.edges.map((e) => numbers.local[e]).filter((v) => !Number.isNaN(v)) : [];
      line.label.textContent = texts
        .map((local) => `${formatNumber(upstream)} × ${formatNumber(local)} = ${formatNumber(upstream * local)}`)
        .join("; ");
    }
  }

  /** Pixel size of the drawing at `zoom` (the SVG scales through its viewBox). */
  setZoom(zoom: number): void {
    this.svg.setAttribute("width", (this.layout.width * zoom).toFixed(0));
    this.svg.setAttribute("height", (this.layout.height * zoom).toFixed(0));
  }
}
