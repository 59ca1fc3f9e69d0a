// GradientHeatmap view: one colour matrix per layer (grads / weights / last update), dead-ReLU
// marks, per-layer gradient norms over time, and a hover readout. Python computes; this draws.
import "./widget.css";
import { sendAction, type Render } from "../shared/anywidget";
import { columns, copyBytes, toFloat32 } from "../shared/binary";
import { drawHeatmap, fitCanvas } from "../shared/canvas";
import { drawChart, type Series } from "../shared/chart";
import { maxAbs, seriesColor, themePalette, type ThemePalette } from "../shared/colors";
import { button, formatNumber, h, showText } from "../shared/dom";
import { mountView } from "../shared/view";
import {
  columnLabel,
  geometry,
  hitCell,
  labelledColumns,
  layerOffsets,
  neuronOffsets,
  type MatrixGeometry,
} from "./layout";
import type { HeatmapState, LayerInfo } from "./types";

const MODES: [string, string][] = [
  ["grads", "gradients"],
  ["weights", "weights"],
  ["updates", "last update"],
];
const NORM_WIDTH = 340;
const NORM_HEIGHT = 140;

interface LayerView {
  info: LayerInfo;
  geometry: MatrixGeometry;
  canvas: HTMLCanvasElement;
  title: HTMLDivElement;
}

const render: Render<HeatmapState> = ({ model, el }) => {
  const shell = mountView(model, el, { className: "mgw-heatmap", draw: drawNow });
  const { root, redraw, onChange, cleanup } = shell;
  // the three matrices are all in the view: without a kernel, the buttons switch them here
  let localMode: string | null = null;
  const modeButtons = MODES.map(([mode, label]) =>
    button(
      label,
      () => {
        if (shell.kernelLost()) {
          localMode = mode;
          redraw();
        } else sendAction(model, "set_mode", { mode });
      },
      { "data-mode": mode },
    ),
  );
  const stepLabel = h("span", { class: "mgw-mono mgw-heatmap-step" });
  const toolbar = h("div", { class: "mgw-toolbar" }, ["show ", ...modeButtons, stepLabel]);
  const message = h("div", { class: "mgw-heatmap-message", role: "status", hidden: true });
  const matrices = h("div", { class: "mgw-heatmap-layers" });
  const info = h("div", { class: "mgw-heatmap-info mgw-mono" }, ["hover a cell to see its parameter"]);
  const tooltip = h("div", { class: "mgw-heatmap-tooltip mgw-mono", hidden: true });
  const normChart = h("canvas", { class: "mgw-heatmap-norms", "aria-label": "gradient norm per layer" });
  const legend = h("div", { class: "mgw-heatmap-legend mgw-muted" });
  const deadNote = h("div", { class: "mgw-heatmap-dead-note mgw-muted", hidden: true });
  root.append(toolbar, message, matrices, deadNote, info, normChart, legend, tooltip);

  let layerViews: LayerView[] = [];
  let values: Float32Array = new Float32Array(0);
  let grads: Float32Array = new Float32Array(0);
  let updates: Float32Array = new Float32Array(0);
  let dead: Uint8Array = new Uint8Array(0);
  let hovered: { layer: number; row: number; col: number } | null = null;
  let normSeries: Series[] = []; // gradient norm per layer, by step (drawn on a log scale)

  const currentMode = (): string => localMode ?? model.get("mode");
  const shown = (): Float32Array => {
    const mode = currentMode();
    return mode === "weights" ? values : mode === "updates" ? updates : grads;
  };

  function buildLayers(): void {
    matrices.replaceChildren();
    layerViews = model.get("layers").map((layer, index) => {
      const canvas = h("canvas", { class: "mgw-heatmap-matrix", "data-layer": index });
      const title = h("div", { class: "mgw-heatmap-title mgw-muted" });
      const view: LayerView = { info: layer, geometry: geometry(layer), canvas, title };
      canvas.addEventListener("mousemove", (event) => onHover(index, event));
      canvas.addEventListener("mouseleave", clearHover);
      matrices.append(h("div", { class: "mgw-heatmap-layer" }, [title, canvas]));
      return view;
    });
    legend.replaceChildren(
      ...layerViews.map(({ info }, i) =>
        h("span", { class: "mgw-heatmap-key", style: `--mgw-key: ${seriesColor(i)}` }, [info.name]),
      ),
    );
  }

  function paramIndex(layer: number, row: number, col: number): number {
    const g = layerViews[layer].geometry;
    return layerOffsets(layerViews.map((v) => v.info))[layer] + row * g.cols + col;
  }

  function describe(index: number): string {
    const name = model.get("param_names")[index] ?? `#${index}`;
    return `${name}\nvalue ${formatNumber(values[index])} · grad ${formatNumber(grads[index])} · last update ${formatNumber(updates[index])}`;
  }

  function clearHover(): void {
    hovered = null;
    tooltip.hidden = true;
    redraw();
  }

  function onHover(layer: number, event: MouseEvent): void {
    const view = layerViews[layer];
    const box = view.canvas.getBoundingClientRect();
    // the canvas may be shrunk to a narrow container: back to drawing coordinates
    const scale = box.width > 0 ? view.geometry.width / box.width : 1;
    const hit = hitCell(view.geometry, (event.clientX - box.left) * scale, (event.clientY - box.top) * scale);
    if (!hit) {
      clearHover();
      return;
    }
    hovered = { layer, row: hit[0], col: hit[1] };
    const rootBox = root.getBoundingClientRect();
    tooltip.style.left = `${event.clientX - rootBox.left + 12}px`;
    tooltip.style.top = `${event.clientY - rootBox.top + 12}px`;
    tooltip.hidden = false;
    redraw();
  }

  function drawLayer(
    view: LayerView,
    index: number,
    data: Float32Array,
    offset: number,
    deadOffset: number,
    colors: ThemePalette,
  ): void {
    const g = view.geometry;
    const ctx = fitCanvas(view.canvas, g.width, g.height);
    const count = g.rows * g.cols;
    const slice = data.subarray(offset, offset + count);
    const scale = maxAbs(slice);
    const deadRows: number[] = [];
    for (let r = 0; r < g.rows; r++) if (dead[deadOffset + r]) deadRows.push(r);
    view.title.textContent =
      `${view.info.name} · ${view.info.activation} · ${g.rows} × (${view.info.nin} + bias) · ±${formatNumber(scale)}` +
      (deadRows.length ? ` · ${deadRows.length} dead` : "");
    view.canvas.dataset.dead = deadRows.join(",");
    if (!ctx) return;
    if (slice.length === count) {
      const rect = { x: g.left, y: g.top, width: g.cols * g.cell, height: g.rows * g.cell };
      drawHeatmap(ctx, slice, g.rows, g.cols, scale, rect, false);
    }
    ctx.font = "9px sans-serif";
    ctx.fillStyle = colors.muted;
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    // label as many columns as fit without two labels touching (measured in this font)
    const width = (text: string) => ctx.measureText(text).width;
    const labelled = labelledColumns(g, width);
    for (const c of labelled) ctx.fillText(columnLabel(c, g.cols), g.left + (c + 0.5) * g.cell, g.top - 2);
    view.canvas.dataset.columnLabels = labelled.join(",");
    // the narrowest room between two labels, for the browser tests (at least LABEL_GAP)
    const rooms = labelled.slice(1).map((c, i) => {
      const a = labelled[i];
      return (c - a) * g.cell - (width(columnLabel(a, g.cols)) + width(columnLabel(c, g.cols))) / 2;
    });
    view.canvas.dataset.labelRoom = rooms.length ? Math.min(...rooms).toFixed(1) : "none";
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (let r = 0; r < g.rows; r += Math.max(1, Math.ceil(11 / g.cell))) {
      ctx.fillStyle = dead[deadOffset + r] ? colors.error : colors.muted;
      ctx.fillText(String(r), g.left - 4, g.top + (r + 0.5) * g.cell);
    }
    // dead ReLU neurons: a hatched outline across the row
    ctx.strokeStyle = colors.error;
    ctx.lineWidth = 1.5;
    ctx.setLineDash([3, 2]);
    for (const r of deadRows) {
      const y = g.top + r * g.cell;
      ctx.strokeRect(g.left + 0.5, y + 0.5, g.cols * g.cell - 1, g.cell - 1);
      ctx.beginPath();
      ctx.moveTo(g.left, y + g.cell / 2);
      ctx.lineTo(g.left + g.cols * g.cell, y + g.cell / 2);
      ctx.stroke();
    }
    ctx.setLineDash([]);
    if (hovered && hovered.layer === index) {
      ctx.strokeStyle = colors.fg;
      ctx.lineWidth = 2;
      ctx.strokeRect(g.left + hovered.col * g.cell, g.top + hovered.row * g.cell, g.cell, g.cell);
    }
  }

  /** Decode the norms once per change (a hover redraws every frame, the norms stay the same). */
  function readNorms(): void {
    const layers = model.get("layers");
    const cols = columns(model.get("norms"), layers.length + 1);
    normSeries = layers.map((_, i) => ({
      xs: cols[0],
      ys: cols[i + 1],
      color: seriesColor(i),
    }));
  }

  function drawNorms(colors: ThemePalette): void {
    drawChart(normChart, NORM_WIDTH, NORM_HEIGHT, normSeries, {
      title: "|gradient| per layer, by step (log scale)",
      yLog: true,
      axisColor: colors.border,
      textColor: colors.muted,
    });
  }

  function drawNow(): void {
    const data = shown();
    const infos = layerViews.map((v) => v.info);
    const offsets = layerOffsets(infos);
    const deadOffsets = neuronOffsets(infos);
    const colors = themePalette(root);
    layerViews.forEach((view, i) => drawLayer(view, i, data, offsets[i], deadOffsets[i], colors));
    drawNorms(colors);
    const mode = currentMode();
    for (const b of modeButtons) b.setAttribute("aria-pressed", String(b.dataset.mode === mode));
    stepLabel.textContent = `step ${model.get("step")} · ${shell.kernelLost() ? "no kernel" : model.get("status")}`;
    showText(message, model.get("message"));
    showText(deadNote, model.get("dead_note") ?? "");
    if (hovered) {
      const index = paramIndex(hovered.layer, hovered.row, hovered.col);
      const description = describe(index);
      tooltip.textContent = description;
      info.textContent = description;
      root.dataset.hoverName = model.get("param_names")[index] ?? "";
    } else {
      delete root.dataset.hoverName;
    }
    let deadCount = 0;
    for (const d of dead) deadCount += d;
    Object.assign(root.dataset, {
      step: String(model.get("step")),
      mode,
      status: model.get("status"),
      dead: String(deadCount),
    });
  }

  const readArrays = () => {
    values = toFloat32(model.get("values"));
    grads = toFloat32(model.get("grads"));
    updates = toFloat32(model.get("updates"));
    dead = copyBytes(model.get("dead"));
    redraw();
  };
  onChange(["layers"], () => {
    buildLayers();
    readNorms();
    redraw();
  });
  onChange(["values", "grads", "updates", "dead"], readArrays);
  onChange(["norms"], () => {
    readNorms();
    redraw();
  });
  onChange(["mode", "step", "status", "message", "param_names", "dead_note"], redraw);
  buildLayers();
  readNorms();
  readArrays();
  return cleanup;
};

export default { render };
