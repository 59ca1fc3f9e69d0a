// DecisionBoundary view: draws the frames Python computes (score or class grid, points, curves,
// neuron lines and thumbnails) and sends the user's actions back as custom messages. It computes
// nothing about the model itself. Views of one trainer share a timeline, the hovered neuron and
// the inspected point through the page's link (../shared/link.ts), without the kernel.
import "./widget.css";
import { sendAction, type Render } from "../shared/anywidget";
import { columns, copyBytes, toFloat32 } from "../shared/binary";
import { drawHeatmap, fitCanvas, zeroContour, type Segment as GridSegment } from "../shared/canvas";
import { chartXAt, drawChart } from "../shared/chart";
import { cssColor, diverging, maxAbs, themePalette } from "../shared/colors";
import { button, formatNumber, h, showText } from "../shared/dom";
import { joinLink, type LinkMessage } from "../shared/link";
import { mountView, NEEDS_KERNEL } from "../shared/view";
import { classColor, classIndicator, classPixels } from "./classes";
import {
  canvasToData,
  dataToCanvas,
  decodeClassRecording,
  decodeLines,
  decodePoints,
  decodeRecording,
  decodeThumbnails,
  type Extent,
  type NeuronThumb,
  type Points,
  type RecordedClasses,
  type RecordedFrame,
} from "./data";
import { clipLine, distanceToSegment, nearestPoint, type Segment } from "./geometry";
import { frameAtOrBefore } from "./timeline";
import type { BoundaryState } from "./types";

const PLOT_SIZE = 360;
const CHART_WIDTH = 280;
const CHART_HEIGHT = 150;
const THUMB_SIZE = 44;
const PICK_RADIUS = 10; // screen pixels: a click this close to a point inspects it
const LINE_HOVER_RADIUS = 5;
const POSITIVE = cssColor(diverging(1, 1, 1));
const NEGATIVE = cssColor(diverging(-1, 1, 1));
const ACCURACY_COLOR = "#2e7d32"; // the loss curve takes the theme's accent
const LINE_COLOR = "rgba(40, 40, 40, 0.75)";
const HIGHLIGHT_COLOR = "#ff6f00";
/** Where a discretised one-score picture sits on the colour scale (of its saturation). */
const DISCRETE_STRENGTH = 0.3;
/** The speeds the toolbar offers (steps per second; "max": as fast as possible). */
const SPEEDS = ["1", "10", "30", "100", "max"];

function byteLength(view: DataView | null): number {
  return view ? view.byteLength : 0;
}

/** Not available (None from Python, or not a finite number, e.g. NaN from an old recording). */
function missing(x: number | null | undefined): x is null | undefined {
  return x == null || !Number.isFinite(x);
}

function percent(x: number | null | undefined): string {
  return missing(x) ? "–" : `${(x * 100).toFixed(1)}%`;
}

function number(x: number | null | undefined): string {
  return missing(x) ? "–" : formatNumber(x);
}

function signed(label: number): string {
  return label > 0 ? "+1" : "−1";
}

const needsKernel = { [NEEDS_KERNEL]: true };

// one off-screen canvas for the class pictures (drawImage scales it onto the plot)
let classTile: HTMLCanvasElement | null = null;

function drawPixels(ctx: CanvasRenderingContext2D, pixels: Uint8ClampedArray<ArrayBuffer>, n: number, size: number, smooth: boolean): void {
  classTile ??= document.createElement("canvas");
  classTile.width = n;
  classTile.height = n;
  classTile.getContext("2d")?.putImageData(new ImageData(pixels, n, n), 0, 0);
  ctx.save();
  ctx.imageSmoothingEnabled = smooth;
  const d = smooth ? size / (n - 1 || 1) : 0; // cell centres on the grid's points, as drawHeatmap
  ctx.beginPath();
  ctx.rect(0, 0, size, size);
  ctx.clip();
  ctx.drawImage(classTile, -d / 2, -d / 2, size + d, size + d);
  ctx.restore();
}

/** A plain table of counts (text only): the confusion matrix, rows = true class. */
function confusionTable(title: string, counts: number[][]): HTMLElement {
  const k = counts.length;
  const head = h("tr", {}, [h("th", { title: "rows: true class · columns: predicted class" }, ["true ╲ pred"])]);
  for (let c = 0; c < k; c++) head.append(h("th", {}, [String(c)]));
  const rows = counts.map((row, r) =>
    h("tr", {}, [
      h("th", {}, [String(r)]),
      ...row.map((n, c) => h("td", { class: r === c ? "mgw-boundary-diagonal" : "" }, [String(n)])),
    ]),
  );
  return h("div", { class: "mgw-boundary-confusion-block" }, [
    h("div", { class: "mgw-muted" }, [title]),
    h("table", { class: "mgw-boundary-confusion-table mgw-mono" }, [head, ...rows]),
  ]);
}

const render: Render<BoundaryState> = ({ model, el }) => {
  const shell = mountView(model, el, { className: "mgw-boundary", draw: drawNow });
  const { root, redraw, onChange, on, cleanup } = shell;
  const link = joinLink(model.get("link") ?? "", onLinkMessage);

  // ---- toolbar ----
  const send = (type: string, payload: object = {}) => sendAction(model, type, payload);
  // an action on the model shows the live model: leave a scrubbed-back picture first
  const act = (type: string) => () => {
    goLive(true);
    send(type);
  };
  const play = button("▶ Play", act("play"), { title: "Train in the background (back to the live picture)", ...needsKernel });
  const pause = button("❚❚ Pause", () => send("pause"), { title: "Pause after the current step", ...needsKernel });
  const stepButton = button("Step", act("step"), { title: "One training step", ...needsKernel });
  const reset = button("Reset", act("reset"), { title: "Back to the initial weights; clears the curves and the recording", ...needsKernel });
  const toggle = (label: string, title: string, onToggle: (on: boolean) => void, attrs: Record<string, string | boolean> = {}) => {
    let on = false;
    const b = button(label, () => {
      on = !on;
      b.setAttribute("aria-pressed", String(on));
      onToggle(on);
      redraw();
    }, { "aria-pressed": "false", title, ...attrs });
    return b;
  };
  const removeMode = toggle("Remove points", "While on, a click removes the nearest point (or alt-click)", (on) => {
    removing = on;
  }, needsKernel);
  const inspectMode = toggle("Inspect", "While on, a click on a point inspects it: ringed, and every linked view (a followed sample graph) shows that point. Adds no point.", (on) => {
    inspecting = on;
  });
  const linesToggle = toggle("Neuron lines", "Draw each first-layer neuron's line w·x + b = 0: where that neuron's input to its activation is 0", (on) => {
    showLines = on;
  });
  const discreteToggle = toggle("Discretise", "Sharp class regions instead of shading by the model's score (or confidence)", (on) => {
    discrete = on;
  });
  const lrInput = h("input", {
    type: "number",
    min: "0",
    step: "any",
    class: "mgw-boundary-lr mgw-field",
    "aria-label": "learning rate",
    title: "The learning rate of the next steps (empty: the default schedule)",
    ...needsKernel,
  });
  // Python answers every set_lr with the rate it holds ({type: "lr"}): until then the box is
  // pending, and then it shows that rate, also when the typed one was refused.
  let lrPending = false;
  const showLr = (value: number | null) => {
    lrInput.value = value == null ? "" : String(value);
  };
  lrInput.addEventListener("change", () => {
    const text = lrInput.value.trim();
    lrPending = true;
    lrInput.dataset.pending = "";
    lrInput.title = "sent: waiting for the kernel";
    send("set_lr", { value: text === "" ? null : Number(text) });
    redraw();
  });
  on("msg:custom", (content: { type?: string; value?: number | null }) => {
    if (content?.type !== "lr") return;
    lrPending = false;
    delete lrInput.dataset.pending;
    lrInput.title = "The learning rate of the next steps (empty: the default schedule)";
    showLr(content.value ?? null);
    redraw();
  });
  const speedSelect = h(
    "select",
    { class: "mgw-boundary-speed mgw-field", "aria-label": "speed", title: "Training speed in steps per second: slow a run down to narrate it", ...needsKernel },
    SPEEDS.map((s) => h("option", { value: s }, [s === "max" ? "max" : `${s}/s`])),
  );
  speedSelect.addEventListener("change", () => {
    const v = speedSelect.value;
    send("set_speed", { value: v === "max" ? null : Number(v) });
  });
  const measuredSpeed = h("span", { class: "mgw-muted mgw-mono mgw-boundary-measured", title: "Steps per second measured in this view" });
  const classPicker = h("select", { class: "mgw-boundary-class mgw-field", "aria-label": "class of added points", title: "The class a click adds", ...needsKernel });
  const classLabel = h("label", { class: "mgw-boundary-class-label", hidden: true }, ["add class ", classPicker]);
  const stepLabel = h("span", { class: "mgw-boundary-step mgw-mono" });
  const statusLabel = h("span", { class: "mgw-muted mgw-boundary-status" });
  // hidden from the start inside a Playground (no one-frame flash of a second toolbar)
  const toolbar = h("div", { class: "mgw-toolbar", hidden: model.get("run_controls") === false }, [
    play,
    pause,
    stepButton,
    reset,
    h("label", { class: "mgw-boundary-lr-label" }, ["learning rate ", lrInput]),
    h("label", { class: "mgw-boundary-speed-label" }, ["speed ", speedSelect, measuredSpeed]),
    stepLabel,
    statusLabel,
  ]);
  const viewTools = h("div", { class: "mgw-toolbar mgw-boundary-view-tools" }, [
    inspectMode,
    linesToggle,
    discreteToggle,
    removeMode,
    classLabel,
  ]);

  // ---- plot, curves, scrubber ----
  const canvas = h("canvas", { class: "mgw-boundary-canvas", "aria-label": "decision boundary" });
  const overlay = h("div", { class: "mgw-boundary-overlay", role: "status", hidden: true });
  const tooltip = h("div", { class: "mgw-boundary-tooltip mgw-tooltip mgw-mono", role: "tooltip", hidden: true });
  const caption = h("div", { class: "mgw-boundary-caption", hidden: true });
  const plot = h("div", { class: "mgw-boundary-plot" }, [canvas, overlay, caption, tooltip]);
  const testKey = h("span", { class: "mgw-boundary-key", title: "Held-out points: evaluated, never trained on" }, [h("i", { class: "mgw-boundary-square" }), "test points"]);
  const scoreKey = h("span", { class: "mgw-boundary-key", title: "Red where the model's score is positive (class +1), blue where negative; pale near 0" }, [
    h("i", { class: "mgw-boundary-swatch", style: `background: ${POSITIVE}` }),
    "+1 ",
    h("i", { class: "mgw-boundary-swatch", style: `background: ${NEGATIVE}` }),
    "−1 (colour: the model's score)",
  ]);
  const zeroKey = h("span", { class: "mgw-boundary-key", title: "The decision boundary: where the score is 0" }, [h("i", { class: "mgw-boundary-line" }), "score 0"]);
  const classKeys = h("span", { class: "mgw-boundary-key mgw-boundary-class-keys", hidden: true });
  const lineKey = h("span", { class: "mgw-boundary-key", title: "A first-layer neuron's w·x + b = 0: on one side its input is positive", hidden: true }, [
    h("i", { class: "mgw-boundary-neuron-line" }),
    "first-layer neuron: w·x + b = 0",
  ]);
  const legend = h("div", { class: "mgw-boundary-legend mgw-muted" }, [
    h("span", { class: "mgw-boundary-key" }, [h("i", { class: "mgw-boundary-dot" }), "training points"]),
    testKey,
    scoreKey,
    classKeys,
    zeroKey,
    lineKey,
  ]);
  const plotColumn = h("div", { class: "mgw-boundary-plot-column" }, [plot, legend]);
  const lossChart = h("canvas", { class: "mgw-boundary-chart", "aria-label": "loss curve", title: "Click or drag: show that step in every view of this trainer" });
  let logLoss = false; // this view's choice: one early spike would flatten a linear curve
  const logToggle = button("log scale", () => {
    logLoss = !logLoss;
    logToggle.setAttribute("aria-pressed", String(logLoss));
    root.dataset.lossScale = logLoss ? "log" : "linear";
    redraw();
  }, { "aria-pressed": "false", class: "mgw-button mgw-boundary-log", title: "Loss on a log scale" });
  root.dataset.lossScale = "linear";
  const accuracyChart = h("canvas", { class: "mgw-boundary-chart", "aria-label": "accuracy curve", title: "Click or drag: show that step in every view of this trainer" });
  const metricsText = h("div", { class: "mgw-boundary-metrics mgw-mono" });
  const confusionBox = h("div", { class: "mgw-boundary-confusion", hidden: true });
  const side = h("div", { class: "mgw-boundary-side" }, [
    h("div", { class: "mgw-boundary-chart-tools" }, [logToggle]),
    lossChart,
    accuracyChart,
    metricsText,
    confusionBox,
  ]);
  const slider = h("input", {
    type: "range",
    min: "0",
    max: "0",
    value: "0",
    class: "mgw-boundary-slider",
    "aria-label": "scrub through the recorded run",
    title: "Scrub through the recorded run: every view of this trainer follows",
  });
  const scrubLabel = h("span", { class: "mgw-muted mgw-mono" }, ["live"]);
  const live = button("Live", () => goLive(true), { title: "Back to the live picture, in every view of this trainer" });
  const recordingNote = h("div", { class: "mgw-muted mgw-boundary-recording-note", hidden: true });
  const scrub = h("div", { class: "mgw-toolbar mgw-boundary-scrub" }, ["recorded run ", slider, live, scrubLabel]);
  const thumbsPanel = h("div", { class: "mgw-boundary-neurons", hidden: true, "aria-label": "hidden neurons' outputs" });
  const hint = h("div", { class: "mgw-muted mgw-boundary-hint" });
  root.append(toolbar, viewTools, h("div", { class: "mgw-boundary-body" }, [plotColumn, side]), scrub, recordingNote, thumbsPanel, hint);

  // ---- view state (what to draw; the model state lives in Python) ----
  let removing = false;
  let inspecting = false;
  let showLines = false;
  let discrete = false;
  let scrubStep: number | null = null; // the step the timeline asks for; null = live
  let recorded: RecordedFrame[] = [];
  let recordedClasses: RecordedClasses[] = [];
  let recordedLines: Float32Array[] = [];
  let points: Points = decodePoints(null, null);
  let testPoints: Points = decodePoints(null, null);
  let frame: Float32Array = new Float32Array(0);
  let classFrame: Uint8Array = new Uint8Array(0);
  let pointScores: Float32Array = new Float32Array(0);
  let pointLosses: Float32Array = new Float32Array(0);
  let lines: Float32Array = new Float32Array(0);
  let thumbs: NeuronThumb[] = [];
  let curves: Float32Array[] = columns(null, 5); // steps, loss, accuracy, test loss, test accuracy
  let framesDrawn = 0;
  let framesReceived = 0; // frames that arrived (several may be drawn as one)
  let drawMsTotal = 0; // milliseconds spent in drawNow so far
  let frameDirty = false;
  let inspected: number | null = null;
  let hoverLine: number | null = null; // the line under this view's pointer
  let linkedNeuron: { layer: number; neuron: number } | null = null; // hovered in another view
  let bigNeuron: NeuronThumb | null = null; // the thumbnail under the pointer, shown big
  let lineSegments: (Segment | null)[] = []; // the drawn lines, in plot pixels
  const stepTimes: [number, number][] = []; // (time, step) samples: the measured speed

  const classes = () => model.get("classes") ?? 0;
  const recordedSteps = (): number[] => (classes() ? recordedClasses : recorded).map((f) => f.step);
  /** The recorded frame the timeline shows, or null for the live picture. */
  const shownIndex = (): number | null => (scrubStep === null ? null : frameAtOrBefore(recordedSteps(), scrubStep));

  /** Show recorded step `step` (null: live); `publish` tells the other views of the trainer. */
  function scrubTo(step: number | null, publish: boolean): void {
    scrubStep = step;
    if (publish) link.publish({ kind: "timeline", step });
    redraw();
  }

  /** Show the live picture again (the slider at its end). */
  function goLive(publish: boolean): void {
    scrubTo(null, publish);
  }

  function setInspected(index: number | null, publish: boolean): void {
    if (index === inspected) return;
    inspected = index;
    if (publish) link.publish({ kind: "sample", index });
    redraw();
  }

  function onLinkMessage(message: LinkMessage): void {
    if (message.kind === "timeline") scrubTo(message.step, false);
    else if (message.kind === "neuron") {
      linkedNeuron = message.neuron === null ? null : { layer: message.layer, neuron: message.neuron };
      redraw();
    } else if (message.kind === "sample") {
      const index = message.index !== null && message.index >= 0 && message.index < points.count ? message.index : null;
      setInspected(index, false);
      // Python's `selected` follows the page (a followed graph picked another sample)
      if (!shell.kernelLost() && (index ?? -1) !== model.get("selected")) send("select", { index });
    }
  }

  const extent = (): Extent => {
    const e = model.get("extent");
    return e.length === 4 ? [e[0], e[1], e[2], e[3]] : [-1, 1, -1, 1];
  };

  /** Pointer position on the plot, in plot pixels (the canvas may be shrunk in a narrow window). */
  function plotXY(event: MouseEvent): [number, number, number] {
    const box = canvas.getBoundingClientRect();
    const scale = box.width > 0 ? PLOT_SIZE / box.width : 1;
    return [(event.clientX - box.left) * scale, (event.clientY - box.top) * (box.height > 0 ? PLOT_SIZE / box.height : 1), scale];
  }

  function pointColor(label: number): string {
    return classes() ? cssColor(classColor(label)) : label > 0 ? POSITIVE : NEGATIVE;
  }

  function drawPoints(ctx: CanvasRenderingContext2D, set: Points, test: boolean): void {
    const e = extent();
    for (let i = 0; i < set.count; i++) {
      const [px, py] = dataToCanvas(e, PLOT_SIZE, PLOT_SIZE, set.xy[2 * i], set.xy[2 * i + 1]);
      ctx.fillStyle = pointColor(set.labels[i]);
      ctx.beginPath();
      if (test) ctx.rect(px - 4, py - 4, 8, 8);
      else ctx.arc(px, py, 4, 0, 2 * Math.PI);
      ctx.fill();
      ctx.lineWidth = test ? 2 : 1;
      ctx.strokeStyle = test ? "#fff" : "#111";
      ctx.stroke();
    }
  }

  function drawContour(ctx: CanvasRenderingContext2D, segments: GridSegment[], n: number): void {
    const cell = PLOT_SIZE / Math.max(1, n - 1);
    ctx.beginPath();
    for (const [x1, y1, x2, y2] of segments) {
      ctx.moveTo(x1 * cell, y1 * cell);
      ctx.lineTo(x2 * cell, y2 * cell);
    }
    ctx.stroke();
  }

  /** The score picture of a one-score model (discretised: only the sign). */
  function drawScores(ctx: CanvasRenderingContext2D, values: Float32Array, n: number, scale: number): void {
    // discretised: one flat tint per side, lighter than the points so they stay visible
    const flat = DISCRETE_STRENGTH * scale;
    const shown = discrete ? values.map((v) => (v > 0 ? flat : v < 0 ? -flat : 0)) : values;
    drawHeatmap(ctx, shown, n, n, scale, { x: 0, y: 0, width: PLOT_SIZE, height: PLOT_SIZE }, !discrete);
    ctx.strokeStyle = "#111";
    ctx.lineWidth = 2;
    drawContour(ctx, zeroContour(values, n, n), n);
  }

  /** The class picture of a k-output model: argmax colour, shaded by confidence. */
  function drawClasses(ctx: CanvasRenderingContext2D, bytes: Uint8Array, n: number): void {
    const cells = n * n;
    if (bytes.length < 2 * cells) return;
    drawPixels(ctx, classPixels(bytes, cells, discrete), n, PLOT_SIZE, !discrete);
    ctx.strokeStyle = "rgba(17, 17, 17, 0.8)";
    ctx.lineWidth = 1.5;
    for (let k = 0; k < classes(); k++) drawContour(ctx, zeroContour(classIndicator(bytes, cells, k), n, n), n);
  }

  function highlightedLine(): number | null {
    if (hoverLine !== null) return hoverLine;
    return linkedNeuron && linkedNeuron.layer === 0 ? linkedNeuron.neuron : null;
  }

  function drawLines(ctx: CanvasRenderingContext2D, rows: Float32Array): void {
    const e = extent();
    const highlight = highlightedLine();
    lineSegments = [];
    let drawn = 0;
    for (let i = 0; 3 * i + 2 < rows.length; i++) {
      const segment = clipLine(rows[3 * i], rows[3 * i + 1], rows[3 * i + 2], e);
      const onPlot: Segment | null = segment
        ? [...dataToCanvas(e, PLOT_SIZE, PLOT_SIZE, segment[0], segment[1]), ...dataToCanvas(e, PLOT_SIZE, PLOT_SIZE, segment[2], segment[3])]
        : null;
      lineSegments.push(onPlot);
      if (!onPlot || (!showLines && i !== highlight)) continue;
      ctx.save();
      ctx.strokeStyle = i === highlight ? HIGHLIGHT_COLOR : LINE_COLOR;
      ctx.lineWidth = i === highlight ? 3 : 1.25;
      ctx.setLineDash(i === highlight ? [] : [5, 3]);
      ctx.beginPath();
      ctx.moveTo(onPlot[0], onPlot[1]);
      ctx.lineTo(onPlot[2], onPlot[3]);
      ctx.stroke();
      ctx.restore();
      drawn += 1;
    }
    root.dataset.linesDrawn = String(drawn);
    root.dataset.highlightedLine = highlight === null ? "" : String(highlight);
  }

  function drawRing(ctx: CanvasRenderingContext2D): void {
    if (inspected === null || inspected >= points.count) return;
    const [px, py] = dataToCanvas(extent(), PLOT_SIZE, PLOT_SIZE, points.xy[2 * inspected], points.xy[2 * inspected + 1]);
    ctx.save();
    ctx.lineWidth = 2.5;
    ctx.strokeStyle = HIGHLIGHT_COLOR;
    ctx.beginPath();
    ctx.arc(px, py, 9, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.restore();
  }

  /** The plane as the timeline says (live or a recorded frame), or a hovered neuron's output. */
  function drawPlot(index: number | null): void {
    const ctx = fitCanvas(canvas, PLOT_SIZE, PLOT_SIZE);
    if (!ctx) return;
    const k = classes();
    if (bigNeuron) {
      const n = model.get("neuron_resolution");
      drawHeatmap(ctx, bigNeuron.values, n, n, bigNeuron.scale || 1, { x: 0, y: 0, width: PLOT_SIZE, height: PLOT_SIZE }, true);
    } else if (index !== null) {
      const n = model.get("recording_resolution");
      if (k) drawClasses(ctx, recordedClasses[index].bytes, n);
      else drawScores(ctx, recorded[index].values, n, maxAbs(recorded[index].values));
    } else {
      const n = model.get("resolution");
      if (k) drawClasses(ctx, classFrame, n);
      else if (frame.length === n * n) drawScores(ctx, frame, n, model.get("frame_scale"));
    }
    const rows = index !== null ? (recordedLines[index] ?? new Float32Array(0)) : lines;
    drawLines(ctx, rows);
    drawPoints(ctx, points, false);
    drawPoints(ctx, testPoints, true);
    drawRing(ctx);
  }

  function drawCharts(): void {
    const [steps, loss, accuracy, testLoss, testAccuracy] = curves;
    const palette = themePalette(root);
    const style = { axisColor: palette.border, textColor: palette.muted };
    // each training curve with its dashed test twin
    const curve = (train: Float32Array, test: Float32Array, color: string) => [
      { xs: steps, ys: train, color },
      { xs: steps, ys: test, color, dashed: true },
    ];
    // the step the timeline shows: a vertical marker on both charts
    const index = shownIndex();
    const marker = index !== null ? recordedSteps()[index] : null;
    const markerSeries = (range: [number, number]) =>
      marker === null ? [] : [{ xs: [marker, marker], ys: range, color: HIGHLIGHT_COLOR }];
    const lossRange: [number, number] = [Math.min(...Array.from(loss).filter(Number.isFinite), Infinity), Math.max(...Array.from(loss).filter(Number.isFinite), -Infinity)];
    drawChart(lossChart, CHART_WIDTH, CHART_HEIGHT, [...curve(loss, testLoss, palette.accent), ...(Number.isFinite(lossRange[0]) && !logLoss ? markerSeries(lossRange) : [])], {
      title: logLoss ? "loss, log scale (dashed: test)" : "loss (dashed: test)",
      yLog: logLoss,
      ...style,
    });
    drawChart(accuracyChart, CHART_WIDTH, CHART_HEIGHT, [...curve(accuracy, testAccuracy, ACCURACY_COLOR), ...markerSeries([0, 1])], {
      title: "accuracy (dashed: test)",
      yRange: [0, 1],
      ...style,
    });
  }

  function drawLegend(): void {
    const k = classes();
    scoreKey.hidden = k > 0;
    zeroKey.hidden = k > 0;
    classKeys.hidden = k === 0;
    if (k > 0 && (classKeys.childElementCount !== k || classKeys.dataset.discrete !== String(discrete))) {
      classKeys.dataset.discrete = String(discrete);
      classKeys.replaceChildren(
        ...Array.from({ length: k }, (_, c) =>
          h("span", { class: "mgw-boundary-class-key" }, [h("i", { class: "mgw-boundary-swatch", style: `background: ${cssColor(classColor(c))}` }), `class ${c} `]),
        ),
        discrete ? "(colour: the predicted class)" : "(colour: the predicted class, pale where unsure)",
      );
      classKeys.title = "Each cell takes the colour of the class the model predicts there; the paler, the less sure (softmax)";
    }
    lineKey.hidden = !showLines;
    classLabel.hidden = k === 0;
    if (k > 0 && classPicker.options.length !== k) {
      const picked = classPicker.value;
      classPicker.replaceChildren(...Array.from({ length: k }, (_, c) => h("option", { value: String(c) }, [`class ${c}`])));
      classPicker.value = picked !== "" && Number(picked) < k ? picked : "0";
    }
    const edits = shell.kernelLost()
      ? "no kernel: points cannot be added or removed"
      : k
        ? "click: add a point of the picked class · alt-click or “Remove points”: remove the nearest point"
        : "click: add a + point · shift-click: add a − point · alt-click or “Remove points”: remove the nearest point";
    hint.textContent = `${edits} · Inspect: click a point to follow it · hover a point: its numbers`;
  }

  let confusionShown: [number[][], number[][]] | null = null;
  function drawConfusion(): void {
    const k = classes();
    const train = model.get("confusion") ?? [];
    const test = model.get("test_confusion") ?? [];
    confusionBox.hidden = k === 0 || train.length === 0;
    if (confusionBox.hidden || (confusionShown?.[0] === train && confusionShown[1] === test)) return;
    confusionShown = [train, test]; // rebuilt only when Python sends new counts
    confusionBox.replaceChildren(
      confusionTable("confusion, training points (rows: true class, columns: predicted)", train),
      ...(test.length ? [confusionTable("confusion, test points", test)] : []),
    );
  }

  // the thumbnails' canvases, made once per layout (hidden layer widths), painted per update
  let thumbCanvases: HTMLCanvasElement[] = [];
  let thumbLayout = "";
  let thumbsPainted: NeuronThumb[] | null = null;

  function buildThumbs(): void {
    const layers = model.get("neuron_layers") ?? [];
    thumbLayout = layers.join(",");
    thumbCanvases = [];
    const rows = layers.map((width, layer) => {
      const cells = Array.from({ length: width }, (_, index) => {
        const c = h("canvas", {
          class: "mgw-boundary-thumb",
          title: `layer ${layer}, neuron ${index}: its output over the plane (hover: show it big)`,
          "data-layer": layer,
          "data-neuron": index,
        });
        c.addEventListener("mouseenter", () => {
          bigNeuron = thumbs.find((t) => t.layer === layer && t.index === index) ?? null;
          link.publish({ kind: "neuron", layer, neuron: index });
          redraw();
        });
        c.addEventListener("mouseleave", () => {
          bigNeuron = null;
          link.publish({ kind: "neuron", layer, neuron: null });
          redraw();
        });
        thumbCanvases.push(c);
        return c;
      });
      return h("div", { class: "mgw-boundary-thumb-row" }, [h("span", { class: "mgw-muted mgw-mono" }, [`layer ${layer}`]), ...cells]);
    });
    thumbsPanel.replaceChildren(
      h("div", { class: "mgw-muted" }, ["hidden neurons: each one's output over the plane (red > 0, blue < 0, pale: 0); hover one to see it big"]),
      ...rows,
    );
    thumbsPainted = null;
  }

  function drawThumbs(): void {
    const on = model.get("neurons");
    thumbsPanel.hidden = !on;
    if (!on) return;
    if ((model.get("neuron_layers") ?? []).join(",") !== thumbLayout || thumbCanvases.length === 0) buildThumbs();
    const n = model.get("neuron_resolution");
    if (thumbsPainted !== thumbs) {
      thumbsPainted = thumbs;
      thumbs.forEach((t, j) => {
        const ctx = thumbCanvases[j] && fitCanvas(thumbCanvases[j], THUMB_SIZE, THUMB_SIZE);
        if (ctx) drawHeatmap(ctx, t.values, n, n, t.scale || 1, { x: 0, y: 0, width: THUMB_SIZE, height: THUMB_SIZE }, true);
      });
    }
    thumbs.forEach((t, j) => {
      const linked = linkedNeuron?.layer === t.layer && linkedNeuron.neuron === t.index;
      const big = bigNeuron?.layer === t.layer && bigNeuron.index === t.index;
      thumbCanvases[j]?.classList.toggle("mgw-boundary-thumb-linked", linked || big);
    });
  }

  function measureSpeed(step: number): string {
    const now = performance.now();
    const lastSample = stepTimes[stepTimes.length - 1];
    if (!lastSample || lastSample[1] !== step) stepTimes.push([now, step]);
    while (stepTimes.length > 2 && now - stepTimes[0][0] > 3000) stepTimes.shift();
    const [t0, s0] = stepTimes[0];
    const [t1, s1] = stepTimes[stepTimes.length - 1];
    return t1 - t0 > 500 && s1 >= s0 ? ((s1 - s0) / ((now - t0) / 1000)).toFixed(1) : "";
  }

  function drawNow(): void {
    const drawStarted = performance.now();
    const status = model.get("status");
    const metrics = model.get("metrics") ?? {};
    const current = model.get("current") ?? {};
    const message = model.get("message");
    const kernelLost = shell.kernelLost();
    toolbar.hidden = model.get("run_controls") === false;
    const index = shownIndex();
    const shot = index === null ? null : classes() ? recordedClasses[index] : recorded[index];
    drawPlot(index);
    if (shot) {
      scrubLabel.textContent = `step ${shot.step} · loss ${number(shot.loss)} · accuracy ${percent(shot.accuracy)}`;
      root.dataset.scrubStep = String(shot.step);
      slider.value = String(index);
    } else {
      if (frameDirty) {
        framesDrawn += 1;
        frameDirty = false;
      }
      scrubLabel.textContent = "live";
      delete root.dataset.scrubStep;
      slider.value = slider.max;
    }
    showText(caption, bigNeuron ? `layer ${bigNeuron.layer}, neuron ${bigNeuron.index}: its output` : "");
    drawCharts();
    drawLegend();
    drawConfusion();
    drawThumbs();
    const step = model.get("step");
    stepLabel.textContent = `step ${step}`;
    statusLabel.textContent = kernelLost ? "no kernel" : status;
    const schedule = model.get("lr_schedule");
    const lastStep = step - 1;
    // two sets of numbers, labelled: the model as the picture shows it, and the last step's
    // metrics, which (as in the seed's loop) are measured before that step's update
    metricsText.textContent =
      (shot
        ? `picture: step ${shot.step} (replay): loss ${number(shot.loss)} · accuracy ${percent(shot.accuracy)}\n`
        : `now: loss ${number(current.loss)} · accuracy ${percent(current.accuracy)}\n`) +
      (lastStep >= 0
        ? `step ${lastStep}, before its update: loss ${number(metrics.loss)} · accuracy ${percent(metrics.accuracy)}\n`
        : "") +
      (metrics.test_loss != null || metrics.test_accuracy != null
        ? `  test loss ${number(metrics.test_loss)} · test accuracy ${percent(metrics.test_accuracy)}\n`
        : "") +
      `next step's learning rate ${number(model.get("next_lr"))}${schedule ? ` (schedule ${schedule})` : ""}\n` +
      `${points.count} training points${testPoints.count ? `, ${testPoints.count} test points` : ""}`;
    if (kernelLost && lrPending) {
      // no answer will come: show the rate Python last said it holds, not a wait
      lrPending = false;
      delete lrInput.dataset.pending;
      lrInput.title = "The learning rate Python last reported (no kernel: it cannot change)";
      showLr(model.get("lr"));
    }
    if (document.activeElement !== lrInput && !lrPending) {
      showLr(model.get("lr"));
      lrInput.placeholder = schedule ? "schedule" : "";
    }
    lrInput.classList.toggle("mgw-pending", lrPending);
    const speed = model.get("speed");
    const speedValue = speed == null ? "max" : String(speed);
    if (![...speedSelect.options].some((o) => o.value === speedValue)) {
      speedSelect.append(h("option", { value: speedValue }, [`${formatNumber(speed ?? 0)}/s`]));
    }
    if (document.activeElement !== speedSelect) speedSelect.value = speedValue;
    // no kernel: nothing trains, whatever the last status said (a redraw on hover would
    // otherwise keep measuring a rate that decays from the last steps seen)
    if (kernelLost) stepTimes.length = 0;
    const measured = status === "running" && !kernelLost ? measureSpeed(step) : "";
    measuredSpeed.textContent = measured ? `≈ ${measured}/s` : "";
    testKey.hidden = testPoints.count === 0;
    const start = model.get("recording_start");
    showText(recordingNote, start > 0 ? `Recording starts at step ${start}: earlier steps have curves only.` : "");
    showText(overlay, message);
    canvas.classList.toggle("mgw-boundary-dimmed", message !== "");
    canvas.classList.toggle("mgw-boundary-inspecting", inspecting);
    play.disabled = status === "running" || status === "diverged";
    pause.disabled = status !== "running";
    stepButton.disabled = status === "diverged";
    Object.assign(root.dataset, {
      step: String(step),
      nextLr: String(model.get("next_lr")),
      lrPending: String(lrPending),
      framesDrawn: String(framesDrawn),
      status,
      message,
      points: String(points.count),
      frameBytes: String(byteLength(model.get("frame")) + byteLength(model.get("class_frame")) + byteLength(model.get("curves"))),
      recorded: String(recordedSteps().length),
      selected: inspected === null ? "" : String(inspected),
      speed: speedValue,
      measuredSpeed: measured,
      classes: String(classes()),
      discrete: String(discrete),
      thumbnails: String(thumbsPanel.hidden ? 0 : thumbs.length),
      bigNeuron: bigNeuron ? `${bigNeuron.layer}.${bigNeuron.index}` : "",
    });
    // for the browser tests' frame-rate report: is drawing or delivery the bottleneck?
    drawMsTotal += performance.now() - drawStarted;
    root.dataset.framesReceived = String(framesReceived);
    root.dataset.drawMsTotal = drawMsTotal.toFixed(1);
  }

  // ---- trait changes ----
  // each frame trait decoded once when it changes (not all five on each one's change)
  const frameReaders = {
    frame: () => {
      frame = toFloat32(model.get("frame"));
      framesReceived += 1;
    },
    class_frame: () => {
      classFrame = copyBytes(model.get("class_frame"));
      framesReceived += 1;
    },
    point_scores: () => (pointScores = toFloat32(model.get("point_scores"))),
    point_losses: () => (pointLosses = toFloat32(model.get("point_losses"))),
    first_layer: () => (lines = toFloat32(model.get("first_layer"))),
  };
  const readFrame = (read: () => unknown) => {
    read();
    frameDirty = true;
    redraw();
  };
  // decoded once per change: scrubbing redraws the charts without new curves
  const readCurves = () => {
    curves = columns(model.get("curves"), 5);
    redraw();
  };
  const readPoints = () => {
    points = decodePoints(model.get("points"), model.get("labels"));
    testPoints = decodePoints(model.get("test_points"), model.get("test_labels"));
    if (inspected !== null && inspected >= points.count) inspected = null;
    redraw();
  };
  const readRecording = () => {
    const res = model.get("recording_resolution");
    if (classes()) {
      recordedClasses = decodeClassRecording(model.get("recording"), model.get("recording_meta"), res);
      recorded = [];
    } else {
      recorded = decodeRecording(model.get("recording"), model.get("recording_meta"), res);
      recordedClasses = [];
    }
    const count = recordedSteps().length;
    recordedLines = decodeLines(model.get("recording_lines"), count);
    slider.max = String(count);
    slider.disabled = count === 0;
    redraw();
  };
  const readThumbs = () => {
    thumbs = decodeThumbnails(model.get("neuron_frames"), model.get("neuron_layers"), model.get("neuron_scales"), model.get("neuron_resolution"));
    if (bigNeuron) bigNeuron = thumbs.find((t) => t.layer === bigNeuron?.layer && t.index === bigNeuron.index) ?? null;
    redraw();
  };
  const readSelected = () => {
    const selected = model.get("selected");
    setInspected(selected >= 0 && selected < points.count ? selected : null, true);
  };
  slider.addEventListener("input", () => {
    const i = Number(slider.value);
    const steps = recordedSteps();
    if (i >= steps.length) goLive(true);
    else scrubTo(steps[i], true);
  });

  // a click or drag on a curve names a step: every view of the trainer shows it
  const scrubFromChart = (chart: HTMLCanvasElement) => (event: PointerEvent) => {
    if (event.type === "pointermove" && !(event.buttons & 1)) return;
    const steps = curves[0];
    if (steps.length === 0 || recordedSteps().length === 0) return;
    const box = chart.getBoundingClientRect();
    const px = ((event.clientX - box.left) / (box.width || CHART_WIDTH)) * CHART_WIDTH;
    scrubTo(Math.round(chartXAt(CHART_WIDTH, steps[0], steps[steps.length - 1], px)), true);
  };
  for (const chart of [lossChart, accuracyChart]) {
    chart.addEventListener("pointerdown", scrubFromChart(chart));
    chart.addEventListener("pointermove", scrubFromChart(chart));
  }

  canvas.addEventListener("click", (event: MouseEvent) => {
    const [px, py, scale] = plotXY(event);
    if (inspecting) {
      // a point within PICK_RADIUS screen pixels, else nothing (and no error)
      const index = nearestPoint(points, extent(), PLOT_SIZE, px, py, PICK_RADIUS * scale);
      if (index === null) return;
      setInspected(index, true);
      if (!shell.kernelLost()) send("select", { index });
      return;
    }
    if (shell.kernelLost()) return; // points live in Python
    goLive(true); // the point lands in the live data: show it
    const [x, y] = canvasToData(extent(), PLOT_SIZE, PLOT_SIZE, px, py);
    if (removing || event.altKey) send("remove_point", { x, y });
    else if (classes()) send("add_point", { x, y, label: Number(classPicker.value || 0) });
    else send("add_point", { x, y, label: event.shiftKey ? -1 : 1 });
  });

  /** The tooltip of point `i`: where it is, its label, and the model's score and loss there now. */
  function pointText(i: number): string {
    const x = points.xy[2 * i], y = points.xy[2 * i + 1], label = points.labels[i];
    const k = classes();
    const where = `point ${i} · (${formatNumber(x)}, ${formatNumber(y)})`;
    const loss = pointLosses.length > i ? number(pointLosses[i]) : "–";
    if (k) {
      const probs = pointScores.length >= (i + 1) * k ? pointScores.subarray(i * k, (i + 1) * k) : null;
      let predicted = -1;
      if (probs) for (let c = 0; c < k; c++) if (predicted < 0 || probs[c] > probs[predicted]) predicted = c;
      const p = probs && label >= 0 && label < k ? number(probs[label]) : "–";
      return `${where}\nclass ${label} · p(class ${label}) ${p} · predicted ${predicted < 0 ? "–" : predicted}\nloss ${loss} (now)`;
    }
    const score = pointScores.length > i ? number(pointScores[i]) : "–";
    return `${where}\nlabel ${signed(label)} · score ${score}\nloss ${loss} (now)`;
  }

  canvas.addEventListener("mousemove", (event: MouseEvent) => {
    const [px, py, scale] = plotXY(event);
    const index = nearestPoint(points, extent(), PLOT_SIZE, px, py, 8 * scale);
    if (index === null) {
      tooltip.hidden = true;
      delete root.dataset.tooltip;
    } else {
      tooltip.textContent = pointText(index);
      tooltip.hidden = false;
      tooltip.style.left = `${(px / PLOT_SIZE) * 100}%`;
      tooltip.style.top = `${(py / PLOT_SIZE) * 100}%`;
      tooltip.classList.toggle("mgw-boundary-tooltip-left", px > PLOT_SIZE / 2);
      root.dataset.tooltip = tooltip.textContent;
    }
    // a neuron's line under the pointer: highlight it here and in the linked views
    let line: number | null = null;
    if (showLines) {
      let best = LINE_HOVER_RADIUS * scale;
      lineSegments.forEach((segment, i) => {
        const d = segment ? distanceToSegment(segment, px, py) : Infinity;
        if (d <= best) [best, line] = [d, i];
      });
    }
    if (line !== hoverLine) {
      hoverLine = line;
      link.publish({ kind: "neuron", layer: 0, neuron: line });
      redraw();
    }
  });
  canvas.addEventListener("mouseleave", () => {
    tooltip.hidden = true;
    delete root.dataset.tooltip;
    if (hoverLine !== null) {
      hoverLine = null;
      link.publish({ kind: "neuron", layer: 0, neuron: null });
      redraw();
    }
  });

  for (const [key, read] of Object.entries(frameReaders)) onChange([key as keyof BoundaryState], () => readFrame(read));
  onChange(["points", "labels", "test_points", "test_labels"], readPoints);
  onChange(["recording", "recording_meta", "recording_resolution", "recording_lines", "classes"], readRecording);
  onChange(["neuron_frames", "neuron_layers", "neuron_scales", "neuron_resolution", "neurons"], readThumbs);
  onChange(["curves"], readCurves);
  onChange(["selected"], readSelected);
  onChange(
    ["step", "metrics", "current", "next_lr", "status", "message", "lr", "lr_schedule", "extent", "recording_start", "speed", "confusion", "test_confusion", "run_controls"],
    redraw,
  );
  readCurves();
  readPoints();
  readRecording();
  for (const read of Object.values(frameReaders)) read();
  framesReceived = 0;
  frameDirty = true;
  redraw();
  readThumbs();
  // start in step with the other views of this trainer (a view rendered later)
  const lastTimeline = link.last("timeline");
  if (lastTimeline) scrubStep = lastTimeline.step;
  const lastSample = link.last("sample");
  if (lastSample && lastSample.index !== null && lastSample.index < points.count) inspected = lastSample.index;
  else if (model.get("selected") >= 0 && model.get("selected") < points.count) inspected = model.get("selected");
  const lastNeuron = link.last("neuron");
  if (lastNeuron && lastNeuron.neuron !== null) linkedNeuron = { layer: lastNeuron.layer, neuron: lastNeuron.neuron };
  return () => {
    link.close();
    cleanup();
  };
};

export default { render };
