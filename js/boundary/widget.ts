// DecisionBoundary view: draws the frames Python computes (score grid, points, curves) and sends
// the user's actions back as custom messages. It computes nothing about the model itself.
import "./widget.css";
import { sendAction, type Render } from "../shared/anywidget";
import { columns, toFloat32 } from "../shared/binary";
import { drawHeatmap, fitCanvas, zeroContour } from "../shared/canvas";
import { drawChart } from "../shared/chart";
import { cssColor, diverging, maxAbs, themePalette } from "../shared/colors";
import { button, formatNumber, h, showText } from "../shared/dom";
import { mountView, NEEDS_KERNEL } from "../shared/view";
import {
  canvasToData,
  dataToCanvas,
  decodePoints,
  decodeRecording,
  type Extent,
  type Points,
  type RecordedFrame,
} from "./data";
import type { BoundaryState } from "./types";

const PLOT_SIZE = 360;
const CHART_WIDTH = 280;
const CHART_HEIGHT = 150;
const POSITIVE = cssColor(diverging(1, 1, 1));
const NEGATIVE = cssColor(diverging(-1, 1, 1));
const ACCURACY_COLOR = "#2e7d32"; // the loss curve takes the theme's accent

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

const needsKernel = { [NEEDS_KERNEL]: true };

const render: Render<BoundaryState> = ({ model, el }) => {
  const shell = mountView(model, el, { className: "mgw-boundary", draw: drawNow });
  const { root, redraw, onChange, on, cleanup } = shell;

  // ---- toolbar ----
  const send = (type: string, payload: object = {}) => sendAction(model, type, payload);
  // an action on the model shows the live model: leave a scrubbed-back picture first
  const act = (type: string) => () => {
    goLive();
    send(type);
  };
  const play = button("▶ Play", act("play"), { title: "Train in the background", ...needsKernel });
  const pause = button("❚❚ Pause", () => send("pause"), { title: "Pause after the current step", ...needsKernel });
  const stepButton = button("Step", act("step"), { title: "One training step", ...needsKernel });
  const reset = button("Reset", act("reset"), { title: "Back to the initial weights", ...needsKernel });
  const removeMode = button("Remove points", () => {
    removing = !removing;
    removeMode.setAttribute("aria-pressed", String(removing));
  }, { "aria-pressed": "false", title: "While on, a click removes the nearest point (or alt-click)", ...needsKernel });
  const lrInput = h("input", {
    type: "number",
    min: "0",
    step: "any",
    class: "mgw-boundary-lr",
    "aria-label": "learning rate",
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
    lrInput.title = "";
    showLr(content.value ?? null);
    redraw();
  });
  const stepLabel = h("span", { class: "mgw-boundary-step mgw-mono" });
  const statusLabel = h("span", { class: "mgw-muted mgw-boundary-status" });
  const toolbar = h("div", { class: "mgw-toolbar" }, [
    play,
    pause,
    stepButton,
    reset,
    h("label", { class: "mgw-boundary-lr-label" }, ["learning rate ", lrInput]),
    removeMode,
    stepLabel,
    statusLabel,
  ]);

  // ---- plot, curves, scrubber ----
  const canvas = h("canvas", { class: "mgw-boundary-canvas", "aria-label": "decision boundary" });
  const overlay = h("div", { class: "mgw-boundary-overlay", role: "status", hidden: true });
  const plot = h("div", { class: "mgw-boundary-plot" }, [canvas, overlay]);
  const testKey = h("span", { class: "mgw-boundary-key" }, [h("i", { class: "mgw-boundary-square" }), "test points"]);
  const legend = h("div", { class: "mgw-boundary-legend mgw-muted" }, [
    h("span", { class: "mgw-boundary-key" }, [h("i", { class: "mgw-boundary-dot" }), "training points"]),
    testKey,
    h("span", { class: "mgw-boundary-key" }, [
      h("i", { class: "mgw-boundary-swatch", style: `background: ${POSITIVE}` }),
      "+1 ",
      h("i", { class: "mgw-boundary-swatch", style: `background: ${NEGATIVE}` }),
      "−1 (colour: the model's score)",
    ]),
    h("span", { class: "mgw-boundary-key" }, [h("i", { class: "mgw-boundary-line" }), "score 0"]),
  ]);
  const plotColumn = h("div", { class: "mgw-boundary-plot-column" }, [plot, legend]);
  const lossChart = h("canvas", { class: "mgw-boundary-chart", "aria-label": "loss curve" });
  let logLoss = false; // this view's choice: one early spike would flatten a linear curve
  const logToggle = button("log scale", () => {
    logLoss = !logLoss;
    logToggle.setAttribute("aria-pressed", String(logLoss));
    root.dataset.lossScale = logLoss ? "log" : "linear";
    redraw();
  }, { "aria-pressed": "false", class: "mgw-button mgw-boundary-log", title: "Loss on a log scale" });
  root.dataset.lossScale = "linear";
  const accuracyChart = h("canvas", { class: "mgw-boundary-chart", "aria-label": "accuracy curve" });
  const metricsText = h("div", { class: "mgw-boundary-metrics mgw-mono" });
  const side = h("div", { class: "mgw-boundary-side" }, [
    h("div", { class: "mgw-boundary-chart-tools" }, [logToggle]),
    lossChart,
    accuracyChart,
    metricsText,
  ]);
  const slider = h("input", {
    type: "range",
    min: "0",
    max: "0",
    value: "0",
    class: "mgw-boundary-slider",
    "aria-label": "scrub through the recorded run",
  });
  const scrubLabel = h("span", { class: "mgw-muted mgw-mono" }, ["live"]);
  const live = button("Live", goLive);
  const recordingNote = h("div", { class: "mgw-muted mgw-boundary-recording-note", hidden: true });
  const scrub = h("div", { class: "mgw-toolbar mgw-boundary-scrub" }, ["recorded run ", slider, live, scrubLabel]);
  const hint = h("div", { class: "mgw-muted mgw-boundary-hint" }, [
    "click: add a + point · shift-click: add a − point · alt-click or “Remove points”: remove the nearest point",
  ]);
  root.append(toolbar, h("div", { class: "mgw-boundary-body" }, [plotColumn, side]), scrub, recordingNote, hint);

  // ---- view state (what to draw; the model state lives in Python) ----
  let removing = false;
  let scrubIndex: number | null = null; // null = the live frame
  let recorded: RecordedFrame[] = [];
  let points: Points = decodePoints(null, null);
  let testPoints: Points = decodePoints(null, null);
  let frame: Float32Array = new Float32Array(0);
  let curves: Float32Array[] = columns(null, 5); // steps, loss, accuracy, test loss, test accuracy
  let framesDrawn = 0;
  let frameDirty = false;

  /** Show the live picture again (the slider at its end). */
  function goLive(): void {
    scrubIndex = null;
    slider.value = slider.max;
    redraw();
  }

  const extent = (): Extent => {
    const e = model.get("extent");
    return e.length === 4 ? [e[0], e[1], e[2], e[3]] : [-1, 1, -1, 1];
  };

  function drawPoints(ctx: CanvasRenderingContext2D, set: Points, test: boolean): void {
    const e = extent();
    for (let i = 0; i < set.count; i++) {
      const [px, py] = dataToCanvas(e, PLOT_SIZE, PLOT_SIZE, set.xy[2 * i], set.xy[2 * i + 1]);
      ctx.fillStyle = set.labels[i] > 0 ? POSITIVE : NEGATIVE;
      ctx.beginPath();
      if (test) ctx.rect(px - 4, py - 4, 8, 8);
      else ctx.arc(px, py, 4, 0, 2 * Math.PI);
      ctx.fill();
      ctx.lineWidth = test ? 2 : 1;
      ctx.strokeStyle = test ? "#fff" : "#111";
      ctx.stroke();
    }
  }

  function drawPlot(values: Float32Array, resolution: number, scale: number): void {
    const ctx = fitCanvas(canvas, PLOT_SIZE, PLOT_SIZE);
    if (!ctx) return;
    const rect = { x: 0, y: 0, width: PLOT_SIZE, height: PLOT_SIZE };
    drawHeatmap(ctx, values, resolution, resolution, scale, rect, true);
    // the decision boundary: where the score crosses 0
    const cell = PLOT_SIZE / Math.max(1, resolution - 1);
    ctx.strokeStyle = "#111";
    ctx.lineWidth = 2;
    ctx.beginPath();
    for (const [x1, y1, x2, y2] of zeroContour(values, resolution, resolution)) {
      ctx.moveTo(x1 * cell, y1 * cell);
      ctx.lineTo(x2 * cell, y2 * cell);
    }
    ctx.stroke();
    drawPoints(ctx, points, false);
    drawPoints(ctx, testPoints, true);
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
    drawChart(lossChart, CHART_WIDTH, CHART_HEIGHT, curve(loss, testLoss, palette.accent), {
      title: logLoss ? "loss, log scale (dashed: test)" : "loss (dashed: test)",
      yLog: logLoss,
      ...style,
    });
    drawChart(accuracyChart, CHART_WIDTH, CHART_HEIGHT, curve(accuracy, testAccuracy, ACCURACY_COLOR), {
      title: "accuracy (dashed: test)",
      yRange: [0, 1],
      ...style,
    });
  }

  function drawNow(): void {
    const status = model.get("status");
    const metrics = model.get("metrics") ?? {};
    const current = model.get("current") ?? {};
    const message = model.get("message");
    const kernelLost = shell.kernelLost();
    if (scrubIndex !== null && scrubIndex < recorded.length) {
      const shot = recorded[scrubIndex];
      const res = model.get("recording_resolution");
      drawPlot(shot.values, res, maxAbs(shot.values));
      scrubLabel.textContent = `step ${shot.step} · loss ${number(shot.loss)} · accuracy ${percent(shot.accuracy)}`;
      root.dataset.scrubStep = String(shot.step);
    } else {
      const res = model.get("resolution");
      if (frame.length === res * res) drawPlot(frame, res, model.get("frame_scale"));
      if (frameDirty) {
        framesDrawn += 1;
        frameDirty = false;
      }
      scrubLabel.textContent = "live";
      delete root.dataset.scrubStep;
    }
    drawCharts();
    const step = model.get("step");
    stepLabel.textContent = `step ${step}`;
    statusLabel.textContent = kernelLost ? "no kernel" : status;
    const schedule = model.get("lr_schedule");
    const lastStep = step - 1;
    // two sets of numbers, labelled: the model as the picture shows it, and the last step's
    // metrics, which (as in the seed's loop) are measured before that step's update
    const replay = scrubIndex !== null && scrubIndex < recorded.length ? recorded[scrubIndex] : null;
    metricsText.textContent =
      (replay
        ? `picture: step ${replay.step} (replay): loss ${number(replay.loss)} · accuracy ${percent(replay.accuracy)}\n`
        : `now: loss ${number(current.loss)} · accuracy ${percent(current.accuracy)}\n`) +
      (lastStep >= 0
        ? `step ${lastStep}, before its update: loss ${number(metrics.loss)} · accuracy ${percent(metrics.accuracy)}\n`
        : "") +
      (metrics.test_loss != null || metrics.test_accuracy != null
        ? `  test loss ${number(metrics.test_loss)} · test accuracy ${percent(metrics.test_accuracy)}\n`
        : "") +
      `next step's learning rate ${number(model.get("next_lr"))}${schedule ? ` (schedule ${schedule})` : ""}\n` +
      `${points.count} training points${testPoints.count ? `, ${testPoints.count} test points` : ""}`;
    if (document.activeElement !== lrInput && !lrPending) {
      showLr(model.get("lr"));
      lrInput.placeholder = schedule ? "schedule" : "";
    }
    lrInput.classList.toggle("mgw-pending", lrPending);
    testKey.hidden = testPoints.count === 0;
    const start = model.get("recording_start");
    showText(recordingNote, start > 0 ? `Recording starts at step ${start}: earlier steps have curves only.` : "");
    showText(overlay, message);
    canvas.classList.toggle("mgw-boundary-dimmed", message !== "");
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
      frameBytes: String(byteLength(model.get("frame")) + byteLength(model.get("curves"))),
      recorded: String(recorded.length),
    });
  }

  // ---- trait changes ----
  const readFrame = () => {
    frame = toFloat32(model.get("frame"));
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
    redraw();
  };
  const readRecording = () => {
    recorded = decodeRecording(model.get("recording"), model.get("recording_meta"), model.get("recording_resolution"));
    const atLive = scrubIndex === null;
    slider.max = String(recorded.length);
    if (atLive) slider.value = slider.max;
    slider.disabled = recorded.length === 0;
    redraw();
  };
  slider.addEventListener("input", () => {
    const index = Number(slider.value);
    scrubIndex = index >= recorded.length ? null : index;
    redraw();
  });

  canvas.addEventListener("click", (event: MouseEvent) => {
    if (shell.kernelLost()) return; // points live in Python
    goLive(); // the point lands in the live data: show it
    const box = canvas.getBoundingClientRect();
    const [x, y] = canvasToData(
      extent(),
      PLOT_SIZE,
      PLOT_SIZE,
      ((event.clientX - box.left) / box.width) * PLOT_SIZE,
      ((event.clientY - box.top) / box.height) * PLOT_SIZE,
    );
    if (removing || event.altKey) send("remove_point", { x, y });
    else send("add_point", { x, y, label: event.shiftKey ? -1 : 1 });
  });

  onChange(["frame"], readFrame);
  onChange(["points", "labels", "test_points", "test_labels"], readPoints);
  onChange(["recording", "recording_meta", "recording_resolution"], readRecording);
  onChange(["curves"], readCurves);
  onChange(
    ["step", "metrics", "current", "next_lr", "status", "message", "lr", "lr_schedule", "extent", "recording_start"],
    redraw,
  );
  readCurves();
  readPoints();
  readRecording();
  readFrame();
  return cleanup;
};

export default { render };
