// GradientHeatmap view: one colour matrix per layer (grads / weights / last update / the
// optimizer's state), dead-ReLU marks, per-layer gradient norms over time, a hover readout with
// the update formula, and the recorded run. Python computes; this draws.
//
// What works without the kernel lives here: the mode is the view's choice (the buttons switch at
// once from the arrays in the page and tell Python, which keeps it), and the timeline (a
// `timeline` link message or this view's slider) shows the recorded frame at or before a step.
import "./widget.css";
import { sendAction, type Render } from "../shared/anywidget";
import { columns, copyBytes, toFloat32 } from "../shared/binary";
import { drawHeatmap, fitCanvas } from "../shared/canvas";
import { drawChart, type Series } from "../shared/chart";
import { maxAbs, seriesColor, themePalette, type ThemePalette } from "../shared/colors";
import { button, formatNumber, h, showText } from "../shared/dom";
import { joinLink, type Link, type LinkMessage } from "../shared/link";
import { mountView } from "../shared/view";
import { updateFormula } from "./formula";
import {
  columnLabel,
  geometry,
  hitCell,
  hitRow,
  labelledColumns,
  layerOffsets,
  neuronOffsets,
  shortLabel,
  type MatrixGeometry,
} from "./layout";
import { Recording, type RecordedFrame } from "./recording";
import type { HeatmapState, LayerInfo } from "./types";

const BASE_MODES = ["grads", "weights", "updates"];
/** Each mode's button label and its one-line explanation (the button's hover text). */
const MODE_TEXT: Record<string, [string, string]> = {
  grads: ["gradients", "∂loss/∂w of the last step: which way, and how hard, the loss pushes each parameter"],
  weights: ["weights", "each parameter's current value"],
  updates: ["last update", "the change the last step applied to each parameter (new − old)"],
  velocity: ["velocity", "momentum's memory v ← μ·v + grad: the direction each parameter keeps moving in"],
  m: ["m", "Adam's running mean of the gradient (as stored, before the bias correction m̂)"],
  sqrt_v: ["√v", "√ of Adam's running mean of grad²: each parameter's typical gradient size; its step is divided by it"],
};
const modeText = (mode: string): [string, string] => MODE_TEXT[mode] ?? [mode, `the optimizer's state "${mode}"`];
/** Lines of the update formula per optimizer (the readout has two more). */
const FORMULA_LINES: Record<string, number> = { momentum: 2, adam: 3, adamw: 3 };
const NORM_WIDTH = 340;
const NORM_HEIGHT = 140;
const LABELLED_LEFT = 52; // room for class names left of the output layer

interface LayerView {
  info: LayerInfo;
  geometry: MatrixGeometry;
  canvas: HTMLCanvasElement;
  title: HTMLDivElement;
  rowLabels: string[] | null; // class names of a k-output last layer
}

const render: Render<HeatmapState> = ({ model, el }) => {
  const shell = mountView(model, el, { className: "mgw-heatmap", draw: drawNow });
  const { root, redraw, onChange, cleanup } = shell;

  // ---- the view's own state: chosen mode, timeline, hover, the linked neuron ----
  let chosenMode: string = model.get("mode");
  let timelineStep: number | null = null; // null = live
  type Cell = { layer: number; row: number; col: number };
  let hovered: Cell | null = null;
  let lastHovered: Cell | null = null;
  let pointer = { x: 0, y: 0 }; // where the tooltip goes, in the root's coordinates // the readout under the matrices keeps it, kept current
  let publishedNeuron: { layer: number; neuron: number } | null = null;
  let linkedNeuron: { layer: number; neuron: number } | null = null;

  const modeBar = h("span", { class: "mgw-heatmap-modes" });
  let modeButtons: HTMLButtonElement[] = [];
  let modeKey = "";
  const stepLabel = h("span", {
    class: "mgw-mono mgw-heatmap-step",
    title: "the step the matrices show (live, or recorded when scrubbed) and the trainer's status",
  });
  const toolbar = h("div", { class: "mgw-toolbar" }, ["show ", modeBar, stepLabel]);
  const slider = h("input", {
    type: "range",
    min: 0,
    max: 0,
    step: 1,
    value: 0,
    class: "mgw-heatmap-slider",
    "aria-label": "scrub through the recorded run",
    title: "scrub through the recorded run: every view of this trainer moves to the same step",
  });
  const live = button("Live", () => setTimeline(null, true), {
    title: "back to the live matrices (every linked view too)",
  });
  // always there (disabled until two steps are recorded): a row appearing later would move the
  // matrices from under the pointer
  const scrub = h("div", { class: "mgw-toolbar mgw-heatmap-scrub" }, ["recorded run ", slider, live]);
  const message = h("div", { class: "mgw-heatmap-message", role: "status", hidden: true });
  const matrices = h("div", { class: "mgw-heatmap-layers" });
  const info = h("div", { class: "mgw-heatmap-info mgw-mono" }, ["hover a cell to see its parameter and its update"]);
  const tooltip = h("div", { class: "mgw-heatmap-tooltip mgw-tooltip mgw-mono", hidden: true });
  const normChart = h("canvas", {
    class: "mgw-heatmap-norms",
    "aria-label": "gradient norm per layer",
    title: "each layer's gradient norm ‖∂loss/∂W‖ by step, on a log scale: vanishing or exploding gradients show here",
  });
  const legend = h("div", { class: "mgw-heatmap-legend mgw-muted", title: "the norm chart's line for each layer" });
  const deadNote = h("div", { class: "mgw-heatmap-dead-note mgw-muted", hidden: true });
  root.append(toolbar, scrub, message, matrices, deadNote, info, normChart, legend, tooltip);

  let layerViews: LayerView[] = [];
  let values: Float32Array = new Float32Array(0);
  let grads: Float32Array = new Float32Array(0);
  let updates: Float32Array = new Float32Array(0);
  let state: Float32Array = new Float32Array(0);
  let dead: Uint8Array = new Uint8Array(0);
  let recording: Recording | null = null;
  let normSeries: Series[] = []; // gradient norm per layer, by step (drawn on a log scale)

  // ---- link: one timeline and the hovered neuron, shared in the page with no kernel ----
  let link: Link = joinLink("", () => {});
  function joinTrainerLink(): void {
    link.close();
    link = joinLink(model.get("link") ?? "", onLinkMessage);
    const timeline = link.last("timeline");
    if (timeline) setTimeline(timeline.step, false);
    const neuron = link.last("neuron");
    if (neuron) onLinkMessage(neuron);
  }
  function onLinkMessage(message: LinkMessage): void {
    if (message.kind === "timeline") setTimeline(message.step, false);
    else if (message.kind === "neuron") {
      linkedNeuron = message.neuron === null ? null : { layer: message.layer, neuron: message.neuron };
      redraw();
    }
  }
  function setTimeline(step: number | null, publish: boolean): void {
    timelineStep = typeof step === "number" && Number.isFinite(step) ? step : null;
    if (publish) link.publish({ kind: "timeline", step: timelineStep });
    placeSlider();
    redraw();
  }
  function publishNeuron(next: { layer: number; neuron: number } | null): void {
    const same = next?.layer === publishedNeuron?.layer && next?.neuron === publishedNeuron?.neuron;
    if (same) return;
    // leaving a row: "none" on the layer left, as link.ts's neuron message says
    if (next) link.publish({ kind: "neuron", layer: next.layer, neuron: next.neuron });
    else if (publishedNeuron) link.publish({ kind: "neuron", layer: publishedNeuron.layer, neuron: null });
    publishedNeuron = next;
  }

  // ---- what is shown: the live arrays, or a recorded frame ----
  /** The recorded frame the timeline points at (null = live), and whether it was clamped. */
  function shownFrame(): { frame: RecordedFrame; before: boolean } | null {
    if (timelineStep === null || !recording || recording.length === 0) return null;
    const index = recording.indexAtOrBefore(timelineStep);
    return { frame: recording.frame(Math.max(0, index)), before: index < 0 };
  }
  const offeredModes = (frame: RecordedFrame | null): string[] =>
    frame ? [...frame.arrays.keys()] : (model.get("modes") ?? BASE_MODES);
  const effectiveMode = (frame: RecordedFrame | null): string =>
    offeredModes(frame).includes(chosenMode) ? chosenMode : "grads";
  function liveArray(mode: string): Float32Array {
    if (mode === "weights") return values;
    if (mode === "updates") return updates;
    if (mode === "grads") return grads;
    const k = (model.get("state_names") ?? []).indexOf(mode);
    return k < 0 ? new Float32Array(0) : state.subarray(k * values.length, (k + 1) * values.length);
  }
  function chooseMode(mode: string): void {
    chosenMode = mode; // shown at once, from the arrays in the page
    redraw();
    if (!shell.kernelLost()) sendAction(model, "set_mode", { mode }); // Python learns it
  }
  function buildModeButtons(modes: string[]): void {
    const key = modes.join(",");
    if (key === modeKey) return;
    modeKey = key;
    modeButtons = modes.map((mode) => {
      const [label, help] = modeText(mode);
      return button(label, () => chooseMode(mode), { "data-mode": mode, title: help });
    });
    modeBar.replaceChildren(...modeButtons);
  }

  function buildLayers(): void {
    matrices.replaceChildren();
    hovered = lastHovered = null; // a new model: its cells are other parameters
    const layers = model.get("layers");
    const labels = model.get("output_labels") ?? [];
    layerViews = layers.map((layer, index) => {
      const rowLabels = index === layers.length - 1 && labels.length === layer.nout && labels.length > 1 ? labels : null;
      const canvas = h("canvas", {
        class: "mgw-heatmap-matrix",
        "data-layer": index,
        title: `${layer.name}: one row per neuron, one column per input weight then the bias; red > 0, blue < 0, white 0`,
      });
      const title = h("div", { class: "mgw-heatmap-title mgw-muted" });
      const g = geometry(layer, rowLabels ? LABELLED_LEFT : undefined);
      const view: LayerView = { info: layer, geometry: g, canvas, title, rowLabels };
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
    readRecording();
  }

  function paramIndex(layer: number, row: number, col: number): number {
    const g = layerViews[layer].geometry;
    return layerOffsets(layerViews.map((v) => v.info))[layer] + row * g.cols + col;
  }

  function neuronName(layer: number, row: number): string {
    const view = layerViews[layer];
    const label = view.rowLabels ? ` (${view.rowLabels[row]})` : "";
    return `neuron ${row} of ${view.info.name}${label}`;
  }

  function describe(layer: number, row: number, index: number, shown: ReturnType<typeof shownFrame>): string {
    const name = model.get("param_names")[index] ?? `#${index}`;
    const head = `${name} · ${neuronName(layer, row)}`;
    if (shown) {
      const numbers = [...shown.frame.arrays].map(([mode, a]) => `${modeText(mode)[0]} ≈ ${formatNumber(a[index])}`);
      return [
        `${head} · step ${shown.frame.step} (recorded)`,
        numbers.join(" · "),
        `${model.get("optimizer")?.rule ?? ""} (recorded frames keep 127 levels per layer; the formula with its numbers is live only)`,
      ].join("\n");
    }
    const names = model.get("state_names") ?? [];
    const stateNumbers: Record<string, number> = {};
    for (const mode of names) stateNumbers[mode] = liveArray(mode)[index];
    const extra = names.map((mode) => ` · ${modeText(mode)[0]} ${formatNumber(stateNumbers[mode])}`).join("");
    const formula = updateFormula(model.get("optimizer") ?? {}, {
      weight: values[index],
      update: updates[index],
      grad: grads[index],
      state: stateNumbers,
    });
    return [
      head,
      `value ${formatNumber(values[index])} · grad ${formatNumber(grads[index])} · last update ${formatNumber(updates[index])}${extra}`,
      ...formula,
    ].join("\n");
  }

  function clearHover(): void {
    hovered = null;
    tooltip.hidden = true;
    publishNeuron(null);
    redraw();
  }

  function onHover(layer: number, event: MouseEvent): void {
    const view = layerViews[layer];
    const box = view.canvas.getBoundingClientRect();
    // the canvas may be shrunk to a narrow container: back to drawing coordinates
    const scale = box.width > 0 ? view.geometry.width / box.width : 1;
    const x = (event.clientX - box.left) * scale;
    const y = (event.clientY - box.top) * scale;
    const row = hitRow(view.geometry, x, y);
    publishNeuron(row === null ? null : { layer, neuron: row });
    const hit = hitCell(view.geometry, x, y);
    if (!hit) {
      hovered = null;
      tooltip.hidden = true;
      redraw();
      return;
    }
    hovered = lastHovered = { layer, row: hit[0], col: hit[1] };
    const rootBox = root.getBoundingClientRect();
    pointer = { x: event.clientX - rootBox.left, y: event.clientY - rootBox.top };
    tooltip.hidden = false;
    redraw();
  }

  /** Beside the pointer, kept inside the widget: left of the pointer where right would overflow. */
  function placeTooltip(): void {
    const room = root.clientWidth;
    const width = tooltip.offsetWidth;
    let left = pointer.x + 12;
    if (room > 0 && left + width > room) left = Math.max(0, Math.min(pointer.x - 12 - width, room - width));
    tooltip.style.left = `${left}px`;
    tooltip.style.top = `${pointer.y + 12}px`;
  }

  function outlineRow(ctx: CanvasRenderingContext2D, g: MatrixGeometry, row: number, color: string, width: number): void {
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.strokeRect(g.left - 1, g.top + row * g.cell - 1, g.cols * g.cell + 2, g.cell + 2);
  }

  function drawLayer(
    view: LayerView,
    index: number,
    data: Float32Array,
    deadMask: Uint8Array,
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
    for (let r = 0; r < g.rows; r++) if (deadMask[deadOffset + r]) deadRows.push(r);
    view.title.textContent =
      `${view.info.name} · ${view.info.activation} · ${g.rows} × (${view.info.nin} + bias) · ±${formatNumber(scale)}` +
      (deadRows.length ? ` · ${deadRows.length} dead` : "");
    view.canvas.dataset.dead = deadRows.join(",");
    const rowText = (r: number) => (view.rowLabels ? shortLabel(view.rowLabels[r]) : String(r));
    view.canvas.dataset.rowLabels = view.rowLabels ? view.rowLabels.map((_, r) => rowText(r)).join("|") : "";
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
    for (let r = 0; r < g.rows; r += view.rowLabels ? 1 : Math.max(1, Math.ceil(11 / g.cell))) {
      ctx.fillStyle = deadMask[deadOffset + r] ? colors.error : colors.muted;
      ctx.fillText(rowText(r), g.left - 4, g.top + (r + 0.5) * g.cell);
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
    // a neuron hovered in another view of this trainer (e.g. its line on the plane)
    if (linkedNeuron && linkedNeuron.layer === index && linkedNeuron.neuron < g.rows) {
      outlineRow(ctx, g, linkedNeuron.neuron, colors.accent, 2.5);
    }
    if (hovered && hovered.layer === index) {
      outlineRow(ctx, g, hovered.row, colors.muted, 1);
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

  function drawNorms(colors: ThemePalette, step: number | null): void {
    drawChart(normChart, NORM_WIDTH, NORM_HEIGHT, normSeries, {
      title: step === null ? "|gradient| per layer, by step (log scale)" : `|gradient| per layer (log scale) · showing step ${step}`,
      yLog: true,
      axisColor: colors.border,
      textColor: colors.muted,
    });
  }

  function readRecording(): void {
    const infos = model.get("layers");
    recording = new Recording(
      model.get("recording"),
      model.get("recording_meta"),
      model.get("recording_modes") ?? [],
      infos.map((l) => l.nout * (l.nin + 1)),
      infos.reduce((n, l) => n + l.nout, 0),
    );
    slider.max = String(recording.length);
    slider.disabled = recording.length < 2;
    placeSlider();
  }

  /** The slider at the shown frame (its last position, past the frames, is live). */
  function placeSlider(): void {
    if (!recording) return;
    const shown = timelineStep === null ? -1 : recording.indexAtOrBefore(timelineStep);
    slider.value = String(timelineStep === null ? recording.length : Math.max(0, shown));
  }

  slider.addEventListener("input", () => {
    const index = Number(slider.value);
    const step = recording && index < recording.length ? recording.steps[index] : null;
    setTimeline(step, true);
  });

  function drawNow(): void {
    const shown = shownFrame();
    const frame = shown?.frame ?? null;
    buildModeButtons(offeredModes(frame));
    const mode = effectiveMode(frame);
    const data = frame ? (frame.arrays.get(mode) ?? new Float32Array(0)) : liveArray(mode);
    const deadMask = frame ? frame.dead : dead;
    const infos = layerViews.map((v) => v.info);
    const offsets = layerOffsets(infos);
    const deadOffsets = neuronOffsets(infos);
    const colors = themePalette(root);
    layerViews.forEach((view, i) => drawLayer(view, i, data, deadMask, offsets[i], deadOffsets[i], colors));
    drawNorms(colors, frame ? frame.step : null);
    for (const b of modeButtons) b.setAttribute("aria-pressed", String(b.dataset.mode === mode));
    live.disabled = !frame;
    const liveText = `step ${model.get("step")} · ${shell.kernelLost() ? "no kernel" : model.get("status")}`;
    if (!shown) stepLabel.textContent = liveText;
    else if (shown.before)
      stepLabel.textContent = `step ${frame!.step} (recorded; the recording starts there) · live: ${liveText}`;
    else stepLabel.textContent = `step ${frame!.step} (recorded) · live: ${liveText}`;
    // room for the whole readout before the first hover: a readout growing under the pointer
    // would scroll the notebook and move the matrices away from it
    const formulaLines = FORMULA_LINES[model.get("optimizer")?.name ?? ""] ?? 1;
    info.style.minHeight = `${(2 + formulaLines) * 1.3}em`;
    showText(message, model.get("message"));
    showText(deadNote, model.get("dead_note") ?? "");
    if (lastHovered && lastHovered.layer < layerViews.length) {
      // redrawn every frame: the numbers follow the step shown (live or recorded)
      const index = paramIndex(lastHovered.layer, lastHovered.row, lastHovered.col);
      const description = describe(lastHovered.layer, lastHovered.row, index, shown);
      info.textContent = description;
      if (hovered) {
        tooltip.textContent = description;
        placeTooltip();
      }
    }
    if (hovered) root.dataset.hoverName = model.get("param_names")[paramIndex(hovered.layer, hovered.row, hovered.col)] ?? "";
    else delete root.dataset.hoverName;
    let deadCount = 0;
    for (const d of deadMask) deadCount += d;
    let sum = 0;
    for (const x of data) sum += Math.abs(x);
    Object.assign(root.dataset, {
      step: String(model.get("step")),
      mode,
      modes: offeredModes(frame).join(","),
      status: model.get("status"),
      dead: String(deadCount),
      shownStep: frame ? String(frame.step) : "live",
      shownSum: sum.toPrecision(6),
      recorded: String(recording?.length ?? 0),
      linkedNeuron: linkedNeuron ? `${linkedNeuron.layer}:${linkedNeuron.neuron}` : "",
    });
  }

  const readArrays = () => {
    values = toFloat32(model.get("values"));
    grads = toFloat32(model.get("grads"));
    updates = toFloat32(model.get("updates"));
    state = toFloat32(model.get("state"));
    dead = copyBytes(model.get("dead"));
    redraw();
  };
  onChange(["layers", "output_labels"], () => {
    buildLayers();
    readNorms();
    redraw();
  });
  onChange(["values", "grads", "updates", "dead", "state"], readArrays);
  onChange(["norms"], () => {
    readNorms();
    redraw();
  });
  onChange(["recording", "recording_meta", "recording_modes"], () => {
    readRecording();
    redraw();
  });
  onChange(["mode"], () => {
    chosenMode = model.get("mode"); // set from Python (or Python's echo of a click)
    redraw();
  });
  onChange(["link"], joinTrainerLink);
  onChange(["modes", "step", "status", "message", "param_names", "dead_note", "optimizer", "state_names"], redraw);
  buildLayers();
  readNorms();
  readArrays();
  joinTrainerLink();
  return () => {
    link.close();
    cleanup();
  };
};

export default { render };
