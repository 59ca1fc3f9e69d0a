// GraphWidget's view: draws the computation graph Python sends, recolours it when the numbers
// change (without a new layout), and sends clicks back as messages. Python holds all state.
import "./widget.css";
import { sendAction, type Render } from "../shared/anywidget";
import { toFloat32, toFloat64 } from "../shared/binary";
import { cssColor, diverging, maxAbs } from "../shared/colors";
import { button, formatCount, formatNumber, h, showText } from "../shared/dom";
import { joinLink, type Link } from "../shared/link";
import { mountView, NEEDS_KERNEL } from "../shared/view";
import { detailContent } from "./details";
import { download, standaloneSvg } from "./export";
import { fitZoom, outputScroll, readableZoom } from "./framing";
import { layoutGraph, metricsFor, unitId } from "./layout";
import { GraphDrawing } from "./render";
import { recordedFrame } from "./timeline";
import { replayFor, replayStepState, resetReplay, startReplay, stepReplay, type ReplayState } from "./replay";
import { splitNumbers, type Followed, type GradCheck, type GraphState, type Numbers, type StepState, type Topology } from "./types";

// The zoom buttons go this far (an overview); opening and Fit stop at a readable zoom.
const MIN_ZOOM = 0.1;
const MAX_ZOOM = 4;

const render: Render<GraphState> = ({ model, el }) => {
  const { root, redraw, onChange, on, cleanup } = mountView(model, el, { className: "mgw-graph", draw: drawNow });
  root.dataset.layoutCount = root.dataset.numbersCount = "0";
  const needsKernel = { [NEEDS_KERNEL]: true }; // the view shell turns these off without a kernel
  const stepButton = button("Step", () => act("step"), {
    title: "Apply the next node's chain rule",
    ...needsKernel,
  });
  const runButton = button("Run", () => act("run"), { title: "Apply all remaining steps", ...needsKernel });
  const resetButton = button("Reset grads", () => act("reset"), {
    title: "Set every grad to 0",
    ...needsKernel,
  });
  const zoomBy = (factor: number) => {
    autoFramed = false;
    setZoom(zoom * factor);
  };
  const zoomOut = button("−", () => zoomBy(1 / 1.25), { title: "Zoom out (or Ctrl + wheel)", "aria-label": "zoom out" });
  const zoomIn = button("+", () => zoomBy(1.25), { title: "Zoom in (or Ctrl + wheel)", "aria-label": "zoom in" });
  const fitButton = button("Fit", () => fit(), {
    title: "Fit the graph to the width (never below a readable size: scroll for the rest) and show its output",
  });
  const saveButton = button("Save SVG", () => download(currentSvg(), "computation-graph.svg"), {
    title: "Download the drawing as a standalone SVG",
  });
  const legendBar = h("span", { class: "mgw-graph-legend-bar" });
  const legendStops = [-1, -0.5, 0, 0.5, 1].map((t) => cssColor(diverging(t, 1)));
  legendBar.style.background = `linear-gradient(to right, ${legendStops.join(", ")})`;
  const legendMin = h("span", { class: "mgw-mono" });
  const legendMax = h("span", { class: "mgw-mono" });
  const legend = h("span", { class: "mgw-graph-legend", title: "Node colour: the sign and size of its grad" }, [
    "grad ",
    legendMin,
    legendBar,
    legendMax,
  ]);
  const toolbar = h("div", { class: "mgw-toolbar" }, [
    stepButton,
    runButton,
    resetButton,
    h("span", { class: "mgw-graph-sep" }),
    zoomOut,
    zoomIn,
    fitButton,
    saveButton,
    legend,
  ]);
  const note = h("div", { class: "mgw-graph-note" });
  const followLine = h("div", { class: "mgw-graph-follow mgw-mono", hidden: true });
  const canvas = h("div", { class: "mgw-graph-canvas", tabindex: 0 });
  const stepTitle = h("div", { class: "mgw-graph-panel-title" });
  const stepLines = h("div", { class: "mgw-graph-lines mgw-mono" });
  const stepPanel = h("div", { class: "mgw-graph-panel mgw-graph-steps" }, [stepTitle, stepLines]);
  const detailPanel = h("div", { class: "mgw-graph-panel mgw-graph-details" });
  root.append(toolbar, followLine, note, canvas, h("div", { class: "mgw-graph-info" }, [stepPanel, detailPanel]));
  el.classList.add("mgw-graph-host"); // lets the view share the row in an ipywidgets HBox

  let topology: Topology = model.get("topology");
  let drawing: GraphDrawing | null = null;
  let numbers: Numbers = splitNumbers(new Float64Array(0), 0, 0);
  let zoom = 1;
  let hovered = -1;
  let layoutCount = 0;
  let focusScope: number | null = null; // the group the user just opened or folded
  let framePending = false; // a new graph waits for the canvas to have a size to be framed
  let autoFramed = false; // framed by fit() and not moved since: a resize frames it again
  let numbersCount = 0;
  // Python sends topology, numbers and step_state in one message: draw them in one frame, each
  // once (a new layout draws the numbers into the new drawing too).
  let layoutChanged = true;
  let numbersChanged = true;

  function drawNow(): void {
    if (layoutChanged) relayout();
    else if (numbersChanged) applyNumbers();
    layoutChanged = numbersChanged = false;
    if (kernelLost() && retitled !== drawing) retitleFolding();
    applyStep();
    showFollowed();
    showDetails();
  }

  /** The followed sample: which one, its inputs, label and loss, at which training step. */
  function showFollowed(): void {
    const f = model.get("followed") as Followed | undefined;
    if (!f || f.sample === undefined) {
      followLine.hidden = true;
      return;
    }
    followLine.hidden = false;
    const x = f.x.map((v) => formatNumber(v)).join(", ");
    const label = f.label_text ?? formatNumber(f.label);
    const loss = shownStep === null ? f.loss : numbers.data[topology.root];
    const when = shownStep === null ? `at step ${formatCount(f.step)}` : `step ${formatCount(shownStep)} (recorded) · Live in the timeline returns`;
    followLine.textContent =
      `sample ${formatCount(f.sample)} of ${formatCount(f.count)} · x = (${x}) · label ${label} · ` +
      `loss ${formatNumber(loss)} · ${when}`;
    followLine.classList.toggle("is-recorded", shownStep !== null);
    Object.assign(root.dataset, { sample: String(f.sample), followedStep: String(f.step), followedLoss: String(f.loss) });
  }

  function setZoom(z: number): void {
    zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, z));
    drawing?.setZoom(zoom);
    root.dataset.zoom = zoom.toFixed(3);
  }

  /** As much of the graph as fits the width at a readable size, scrolled to its output. */
  function fit(): void {
    if (!drawing) return;
    const available = canvas.clientWidth - 4;
    if (available <= 0) {
      framePending = true; // not laid out in the page yet (a hidden tab): frame when it is
      return;
    }
    framePending = false;
    autoFramed = true;
    setZoom(fitZoom(drawing.layout.width, available, fontSize()));
    showOutput();
    root.dataset.framed = String(Number(root.dataset.framed || 0) + 1);
  }

  /** Scroll so the output is in view, at the far end, with its inputs filling the rest. */
  function showOutput(): void {
    const output = drawing?.layout.nodes.find((n) => n.id === unitId(topology.root));
    if (!output) return;
    const rankdir = model.get("rankdir") || "LR";
    const scroll = outputScroll(output, zoom, rankdir, canvas.clientWidth, canvas.clientHeight);
    canvas.scrollLeft = scroll.left;
    canvas.scrollTop = scroll.top;
  }

  function fontSize(): number {
    return model.get("font_size") || 13;
  }

  function relayout(): void {
    topology = model.get("topology");
    if (!topology?.units) return;
    const start = performance.now();
    const metrics = metricsFor(fontSize());
    const laidOut = layoutGraph(topology, metrics, model.get("rankdir") || "LR");
    const layoutOnlyMs = performance.now() - start;
    drawing = new GraphDrawing(topology, laidOut, metrics, {
      select: (unit) => {
        const next = unit === selected() ? -1 : unit;
        if (!kernelLost()) return sendAction(model, "select", { unit: next });
        offlineSelected = next; // no Python to keep it: this view selects
        redraw();
      },
      toggle: (scope) => {
        if (kernelLost()) return; // Python builds the opened or folded graph
        focusScope = scope;
        sendAction(model, "toggle", { scope });
      },
      hover: (unit) => {
        hovered = unit;
        showDetails();
      },
    });
    canvas.replaceChildren(drawing.svg);
    showText(note, topology.note);
    applyNumbers();
    const ms = performance.now() - start;
    Object.assign(root.dataset, {
      layoutMs: ms.toFixed(1), // layout + drawing, as a user waits for it
      layoutOnlyMs: layoutOnlyMs.toFixed(1), // without building the SVG
      layoutNodes: String(laidOut.nodes.length),
      layoutCount: String(++layoutCount),
      readableZoom: readableZoom(fontSize()).toFixed(3),
    });
    if (focusScope === null) {
      // a new graph opens on its output: natural size, or shrunk to the width down to a
      // readable size, scrolled so the output is in view and its inputs fill the rest
      setZoom(1);
      fit();
    } else {
      autoFramed = false;
      setZoom(zoom); // the user opened or folded a group: keep the zoom, show that group
      scrollToScope(laidOut, focusScope);
      focusScope = null;
    }
  }

  function scrollToScope(laidOut: ReturnType<typeof layoutGraph>, scope: number): void {
    const box = laidOut.boxes.find((b) => topology.boxes[b.box].scope === scope);
    const node = laidOut.nodes.find((n) => {
      const unit = topology.units[n.unit];
      return unit.kind === "group" && unit.scope === scope;
    });
    const target = box ?? node;
    if (!target) return;
    canvas.scrollLeft = Math.max(0, (target.x - target.width / 2) * zoom - 24);
    canvas.scrollTop = Math.max(0, (target.y - target.height / 2) * zoom - 24);
  }

  // The step a linked view's timeline shows (null: live). While set, the drawing shows the
  // recorded numbers of the last recorded step at or before it.
  let timelineStep: number | null = null;
  let shownStep: number | null = null; // the recorded step drawn, null when live

  // Without a kernel, the step-through replays the backward pass Python recorded (`replay`).
  let offline: ReplayState | null = null;

  function kernelLost(): boolean {
    return root.dataset.kernel === "lost";
  }

  // Without a kernel groups cannot open or fold: their hover text stops offering it (once per drawing).
  let retitled: GraphDrawing | null = null;
  function retitleFolding(): void {
    retitled = drawing;
    for (const title of canvas.querySelectorAll("title")) {
      title.textContent = title.textContent!.replace(/ — click to (open|fold)$/, " (opening and folding need the kernel)");
    }
  }

  // Without a kernel a click selects here (Python's `selected` cannot follow).
  let offlineSelected: number | null = null;
  const selected = (): number => offlineSelected ?? model.get("selected");

  function act(kind: "step" | "run" | "reset"): void {
    const replay = replayFor(model.get("replay"), topology);
    if (!kernelLost() || !replay) {
      sendAction(model, kind);
      return;
    }
    if (!offline) {
      const live = model.get("step_state");
      const liveGrads = splitNumbers(toFloat64(model.get("numbers")), topology.units.length, topology.edges.length).grad;
      offline = startReplay(live?.seeded ? live.done : 0, liveGrads);
    }
    if (kind === "reset") offline = resetReplay(topology.units.length);
    else if (kind === "step") offline = stepReplay(replay, offline);
    else while (offline.done < replay.steps.length) offline = stepReplay(replay, offline);
    numbersChanged = true;
    redraw();
  }

  /** The step-through's state: Python's, or the replay's when stepping without a kernel. */
  function currentStep(): StepState {
    const replay = replayFor(model.get("replay"), topology);
    return offline && replay && kernelLost() ? replayStepState(replay, offline, topology) : model.get("step_state");
  }

  function currentNumbers(): Numbers {
    const units = topology.units.length;
    const edges = topology.edges.length;
    shownStep = null;
    if (offline && timelineStep === null) {
      const live = splitNumbers(toFloat64(model.get("numbers")), units, edges);
      return { data: live.data, grad: offline.grads, local: live.local };
    }
    if (timelineStep !== null) {
      const frame = recordedFrame(toFloat32(model.get("recording")), model.get("recording_steps") || [], units, edges, timelineStep);
      if (frame) {
        shownStep = frame.step;
        return frame.numbers;
      }
    }
    return splitNumbers(toFloat64(model.get("numbers")), units, edges);
  }

  function applyNumbers(): void {
    if (!drawing) return;
    const start = performance.now();
    numbers = currentNumbers();
    root.dataset.timelineStep = shownStep === null ? "live" : String(shownStep);
    const maxGrad = maxAbs(numbers.grad);
    drawing.updateNumbers(numbers, maxGrad);
    legendMin.textContent = formatNumber(-maxGrad); // "0" while every grad is 0
    legendMax.textContent = formatNumber(maxGrad);
    root.dataset.numbersCount = String(++numbersCount);
    root.dataset.numbersMs = (performance.now() - start).toFixed(2); // layout-free update
  }

  function applyStep(): void {
    const replay = replayFor(model.get("replay"), topology);
    const replaying = kernelLost() && replay !== null;
    // no kernel but a recorded pass: the step buttons replay it here
    for (const b of [stepButton, runButton, resetButton]) {
      b.toggleAttribute(NEEDS_KERNEL, !replaying);
      if (replaying) {
        b.disabled = false;
        b.removeAttribute("aria-disabled");
      }
    }
    root.dataset.replay = replaying ? "offline" : replay ? "ready" : "none";
    const step = currentStep();
    // a recorded step has no step-through state: draw its numbers plainly
    drawing?.highlight(shownStep === null ? step : undefined, selected(), numbers);
    if (!step || step.total === undefined) return;
    const finished = step.finished;
    stepButton.disabled = runButton.disabled = finished;
    root.dataset.stepDone = String(step.seeded ? step.done : -1);
    root.dataset.stepFinished = String(finished);
    const steps = `${formatCount(step.total)} step${step.total === 1 ? "" : "s"}`;
    const progress = step.seeded ? `${formatCount(step.done)} of ${steps}` : steps;
    const next = finished ? "done: every grad is final" : step.next ? `next: ${step.next}` : "";
    const where = replaying ? " · replayed in the page (no kernel)" : "";
    stepTitle.textContent = `Backward step-through · ${progress}${next ? " · " + next : ""}${where}`;
    const lines = step.lines.length
      ? step.lines
      : ["Press Step to apply the chain rule one node at a time, root first (as backward() does)."];
    stepLines.replaceChildren(...lines.map((line) => h("div", {}, [line])));
  }

  function showDetails(): void {
    const unit = hovered >= 0 ? hovered : selected();
    const step = currentStep();
    const check = model.get("check") as GradCheck | undefined;
    const live = root.dataset.kernel !== "lost";
    detailPanel.replaceChildren(
      ...detailContent(topology, numbers, unit, {
        status: step?.status?.[unit],
        sum: step?.sums?.[String(unit)],
        check: check && check.unit === unit ? check : null,
        onCheck: live ? () => sendAction(model, "check", { unit }) : undefined,
        noKernel: !live,
      }),
    );
  }

  // Linked views of the followed trainer (js/shared/link.ts): a sample inspected in the
  // boundary makes this graph follow it (Python rebuilds the graph).
  let link: Link = joinLink(model.get("link") || "", onLink);
  function onLink(message: Parameters<Parameters<typeof joinLink>[1]>[0]): void {
    if (message.kind === "timeline") {
      timelineStep = message.step;
      numbersChanged = true;
      redraw();
    }
    if (message.kind === "sample" && message.index !== null && model.get("sample") >= 0 && !kernelLost()) {
      if (message.index !== model.get("sample")) sendAction(model, "follow_sample", { index: message.index });
    }
  }
  timelineStep = link.last("timeline")?.step ?? null; // a view rendered later starts in step
  onChange(["link"], () => {
    link.close();
    link = joinLink(model.get("link") || "", onLink);
  });

  function currentSvg(): string {
    if (!drawing) return "";
    const background = getComputedStyle(root).backgroundColor || "#fff";
    return standaloneSvg(drawing.svg, drawing.layout.width, drawing.layout.height, background);
  }

  // Python asks for the drawing (widget.save_svg): answer with the standalone SVG.
  on("msg:custom", (content: { type?: string; request?: number }) => {
    if (content?.type === "export_svg") sendAction(model, "svg", { request: content.request, svg: currentSvg() });
  });

  // Pan by dragging the background; zoom with Ctrl/⌘ + wheel (plain wheel scrolls the notebook).
  let drag: { x: number; y: number; left: number; top: number } | null = null;
  canvas.addEventListener("pointerdown", (event) => {
    const target = event.target as Element;
    if (event.button !== 0 || target.closest(".mgw-gnode, .mgw-gbox-title")) return;
    drag = { x: event.clientX, y: event.clientY, left: canvas.scrollLeft, top: canvas.scrollTop };
    canvas.setPointerCapture(event.pointerId);
    canvas.classList.add("is-panning");
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drag) return;
    canvas.scrollLeft = drag.left - (event.clientX - drag.x);
    canvas.scrollTop = drag.top - (event.clientY - drag.y);
  });
  const endDrag = () => {
    drag = null;
    canvas.classList.remove("is-panning");
  };
  canvas.addEventListener("pointerup", endDrag);
  canvas.addEventListener("pointercancel", endDrag);
  canvas.addEventListener(
    "wheel",
    (event) => {
      if (!(event.ctrlKey || event.metaKey)) return;
      event.preventDefault();
      zoomBy(event.deltaY < 0 ? 1.1 : 1 / 1.1);
    },
    { passive: false },
  );

  function applySize(): void {
    canvas.style.maxHeight = `${model.get("height") || 520}px`;
    root.style.setProperty("--mgw-graph-font", `${model.get("font_size") || 13}px`);
  }

  onChange(["topology", "rankdir", "font_size"], () => {
    offline = null; // a new layout: the replay starts from what Python sent
    layoutChanged = true;
    redraw();
  });
  onChange(["numbers", "recording", "recording_steps"], () => {
    numbersChanged = true;
    redraw();
  });
  onChange(["step_state", "selected", "followed", "check", "replay"], redraw);
  onChange(["height", "font_size"], applySize);
  applySize();
  // a view rendered before it has a size (a hidden tab, an output scrolled away) is framed once
  // it gets one; one framed automatically follows the cell's width until the user moves it
  for (const event of ["pointerdown", "wheel", "keydown"]) canvas.addEventListener(event, () => (autoFramed = false));
  const resizes =
    typeof ResizeObserver === "undefined" ? null : new ResizeObserver(() => (framePending || autoFramed) && fit());
  resizes?.observe(canvas);
  redraw();
  return () => {
    resizes?.disconnect();
    link.close();
    cleanup();
  };
};

export default { render };
