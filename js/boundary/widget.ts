// DecisionBoundary view: draws the frames Python computes (score grid, points, curves) and sends
// the user's actions back as custom messages. It computes nothing about the model itself.
import "./widget.css";
import { sendAction, type Render } from "../shared/anywidget";
import { columns, toFloat32 } from "../shared/binary";
import { drawHeatmap, fitCanvas, zeroContour } from "../shared/canvas";
import { drawChart } from "../shared/chart";
import { cssColor, diverging, maxAbs, themePalette } from "../shared/colors";
import { button, formatNumber, h, showText } from "../shared/dom";
import { mountView } from "../shared/view";
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

function percent(x: number | null | undefined): string {
  return x == null ? "–" : `${(x * 100).toFixed(1)}%`;
}

function number(x: number | null | undefined): string {
  return x == null ? "–" : formatNumber(x);
}

const render: Render<BoundaryState> = ({ model, el }) => {
  const { root, redraw, onChange, cleanup } = mountView(model, el, { className: "mgw-boundary", draw: drawNow });

  // ---- toolbar ----
  const send = (type: string, payload: object = {}) => sendAction(model, type, payload);
  const play = button("▶ Play", () => send("play"), { title: "Train in the background" });
  const pause = button("❚❚ Pause", () => send("pause"), { title: "Pause after the current step" });
  const stepButton = button("Step", () => send("step"), { title: "One training step" });
  const reset = button("Reset", () => send("reset"), { title: "Back to the initial weights" });
  const removeMode = button("Remove points", () => {
    removing = !removing;
    removeMode.setAttribute("aria-pressed", String(removing));
  }, { "aria-pressed": "false", title: "While on, a click removes the nearest point (or alt-click)" });
  const lrInput = h("input", {
    type: "number",
    min: "0",
    step: "any",
    class: "mgw-boundary-lr",
    "aria-label": "learning rate",
  });
  lrInput.addEventListener("change", () => {
    const text = lrInput.value.trim();
    send("set_lr", { value: text === "" ? null : Number(text) });
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
  const lossChart = h("canvas", { class: "mgw-boundary-chart", "aria-label": "loss curve" });
  const accuracyChart = h("canvas", { class: "mgw-boundary-chart", "aria-label": "accuracy curve" });
  const metricsText = h("div", { class: "mgw-boundary-metrics mgw-mono" });
  const side = h("div", { class: "mgw-boundary-side" }, [lossChart, accuracyChart, metricsText]);
  const slider = h("input", {
    type: "range",
    min: "0",
    max: "0",
    value: "0",
    class: "mgw-boundary-slider",
    "aria-label": "scrub through the recorded run",
  });
  const scrubLabel = h("span", { class: "mgw-muted mgw-mono" }, ["live"]);
  const live = button("Live", () => {
    scrubIndex = null;
    slider.value = slider.max;
    redraw();
  });
  const scrub = h("div", { class: "mgw-toolbar mgw-boundary-scrub" }, ["recorded run ", slider, live, scrubLabel]);
  const hint = h("div", { class: "mgw-muted mgw-boundary-hint" }, [
    "click: add a + point · shift-click: add a − point · alt-click or “Remove points”: remove the nearest point",
  ]);
  root.append(toolbar, h("div", { class: "mgw-boundary-body" }, [plot, side]), scrub, hint);

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
      title: "loss (dashed: test)",
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
    const message = model.get("message");
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
    stepLabel.textContent = `step ${model.get("step")}`;
    statusLabel.textContent = status;
    const lr = metrics.lr ?? null;
    const schedule = model.get("lr_schedule");
    metricsText.textContent =
      `loss ${number(metrics.loss)} · accuracy ${percent(metrics.accuracy)}\n` +
      (metrics.test_loss != null || metrics.test_accuracy != null
        ? `test loss ${number(metrics.test_loss)} · test accuracy ${percent(metrics.test_accuracy)}\n`
        : "") +
      `learning rate ${number(lr)}${schedule ? ` (schedule ${schedule})` : ""}\n` +
      `${points.count} training points${testPoints.count ? `, ${testPoints.count} test points` : ""}`;
    if (document.activeElement !== lrInput) {
      const constant = model.get("lr");
      lrInput.value = constant == null ? "" : String(constant);
      lrInput.placeholder = schedule ? "schedule" : "";
    }
    showText(overlay, message);
    canvas.classList.toggle("mgw-boundary-dimmed", message !== "");
    play.disabled = status === "running" || status === "diverged";
    pause.disabled = status !== "running";
    stepButton.disabled = status === "diverged";
    Object.assign(root.dataset, {
      step: String(model.get("step")),
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
  onChange(["step", "metrics", "status", "message", "lr", "lr_schedule", "extent"], redraw);
  readCurves();
  readPoints();
  readRecording();
  readFrame();
  return cleanup;
};

export default { render };
