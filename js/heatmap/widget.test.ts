// The heatmap view in jsdom: hovering a cell names its parameter; the mode buttons send messages.
import { describe, expect, it } from "vitest";
import { joinLink, type LinkMessage } from "../shared/link";
import { renderView } from "../shared/testing";
import { encodeRecording } from "./fixtures";
import type { HeatmapState } from "./types";
import view from "./widget";

const f32 = (xs: number[]) => new DataView(new Float32Array(xs).buffer);

// one layer: 2 neurons × (1 input + bias)
const state = (): HeatmapState => ({
  layers: [{ name: "layers.0", nin: 1, nout: 2, activation: "relu" }],
  param_names: ["layers.0.neurons.0.w.0", "layers.0.neurons.0.b", "layers.0.neurons.1.w.0", "<b>bold</b>"],
  values: f32([0.5, -0.25, 1, 2]),
  grads: f32([0.125, 0, -3, 4]),
  updates: f32([0, 0, 0, 0]),
  mode: "grads",
  dead: new DataView(new Uint8Array([0, 1]).buffer),
  dead_note: "",
  norms: null,
  step: 7,
  status: "running",
  message: "",
  error: "",
});

describe("heatmap view", () => {
  it("names the hovered parameter and shows its numbers as text", () => {
    const { model, el, frames } = renderView(view, state());
    const root = el.querySelector(".mgw-heatmap") as HTMLElement;
    const canvas = el.querySelector("canvas[data-layer='0']") as HTMLCanvasElement;
    expect(canvas.dataset.dead).toBe("1");
    // nothing recorded yet: the scrubber is there (the layout stays put) but off
    expect((el.querySelector(".mgw-heatmap-slider") as HTMLInputElement).disabled).toBe(true);
    // the canvas at its drawing size: 24 + 2 × 16 + 2 wide
    canvas.getBoundingClientRect = () => ({ left: 0, top: 0, width: 58, height: 48 }) as DOMRect;
    // geometry: left 24, top 14, 16 px cells -> row 1, column 1 = the bias of neuron 1
    canvas.dispatchEvent(new MouseEvent("mousemove", { clientX: 24 + 1.5 * 16, clientY: 14 + 1.5 * 16 }));
    frames.run();
    expect(root.dataset.hoverName).toBe("<b>bold</b>");
    const tooltip = el.querySelector(".mgw-heatmap-tooltip") as HTMLElement;
    expect(tooltip.hidden).toBe(false);
    expect(tooltip.textContent).toContain("<b>bold</b>");
    expect(tooltip.textContent).toContain("grad 4");
    expect(tooltip.querySelector("b")).toBeNull();
    canvas.dispatchEvent(new MouseEvent("mousemove", { clientX: 24 + 0.5 * 16, clientY: 14 + 0.5 * 16 }));
    frames.run();
    expect(root.dataset.hoverName).toBe("layers.0.neurons.0.w.0");
    expect(tooltip.textContent).toContain("value 0.5 · grad 0.125");

    (el.querySelector("button[data-mode='weights']") as HTMLButtonElement).click();
    expect(model.sent).toEqual([{ type: "set_mode", mode: "weights" }]);
  });

  it("draws a new state once per frame and detaches everything on cleanup", () => {
    const { model, el, frames, cleanup } = renderView(view, state());
    const root = el.querySelector(".mgw-heatmap") as HTMLElement;
    model.update({ step: 8, mode: "weights", dead: new DataView(new Uint8Array([1, 1]).buffer) });
    expect(root.dataset.step).toBe("7"); // drawn in the next frame, not per trait
    expect(frames.pending).toBe(1);
    frames.run();
    expect([root.dataset.step, root.dataset.mode, root.dataset.dead]).toEqual(["8", "weights", "2"]);
    expect(el.querySelector("button[data-mode='weights']")!.getAttribute("aria-pressed")).toBe("true");

    model.set("step", 9);
    cleanup();
    expect(model.listenerCount()).toBe(0);
    expect(frames.pending).toBe(0);
  });

  it("finds the hovered cell on a canvas shrunk to a narrow container", () => {
    const { el, frames } = renderView(view, state());
    const root = el.querySelector(".mgw-heatmap") as HTMLElement;
    const canvas = el.querySelector("canvas[data-layer='0']") as HTMLCanvasElement;
    canvas.getBoundingClientRect = () => ({ left: 0, top: 0, width: 29, height: 24 }) as DOMRect; // half size
    canvas.dispatchEvent(new MouseEvent("mousemove", { clientX: (24 + 1.5 * 16) / 2, clientY: (14 + 1.5 * 16) / 2 }));
    frames.run();
    expect(root.dataset.hoverName).toBe("<b>bold</b>");
  });

  it("says what the dead marks mean (or why there are none) as text", () => {
    const { model, el, frames } = renderView(view, state());
    const note = el.querySelector(".mgw-heatmap-dead-note") as HTMLElement;
    expect(note.hidden).toBe(true);
    model.set("dead_note", "No dead-ReLU marks: they need the data.");
    frames.run();
    expect([note.hidden, note.textContent]).toEqual([false, "No dead-ReLU marks: they need the data."]);
  });

  it("once the kernel is gone: no running claim, and the mode buttons switch the view locally", () => {
    const { model, el, frames } = renderView(view, state());
    const root = el.querySelector(".mgw-heatmap") as HTMLElement;
    model.emit("comm_live_update");
    frames.run();
    expect(el.querySelector(".mgw-heatmap-step")!.textContent).toBe("step 7 · no kernel");
    const weights = el.querySelector("button[data-mode='weights']") as HTMLButtonElement;
    expect(weights.disabled).toBe(false);
    weights.click();
    frames.run();
    expect(model.sent).toEqual([]); // nothing to send it to
    expect(root.dataset.mode).toBe("weights");
  });
});

describe("heatmap view: timeline, modes without a kernel, neuron link, formula", () => {
  // 2 neurons × (1 input + bias) = 4 parameters; recorded at steps 0 and 5 (grads, weights, updates)
  const recorded = () => {
    const zero = [0, 0, 0, 0];
    const { recording, meta } = encodeRecording([
      { step: 0, modes: [zero, [127, 0, 0, 0], zero], scales: [[0], [1], [0]], dead: [0, 0] },
      { step: 5, modes: [[127, 127, 127, 127], [0, 0, 0, -127], zero], scales: [[2], [9], [0]], dead: [1, 1] },
    ]);
    return { recording, recording_meta: meta, recording_modes: ["grads", "weights", "updates"], link: "L1" };
  };
  const hover = (el: HTMLElement, row: number, col: number) => {
    const canvas = el.querySelector("canvas[data-layer='0']") as HTMLCanvasElement;
    canvas.getBoundingClientRect = () => ({ left: 0, top: 0, width: 58, height: 48 }) as DOMRect;
    canvas.dispatchEvent(new MouseEvent("mousemove", { clientX: 24 + (col + 0.5) * 16, clientY: 14 + (row + 0.5) * 16 }));
    return canvas;
  };

  it("a timeline message shows the recorded step at or before it; null goes live", () => {
    const { el, frames, cleanup } = renderView(view, { ...state(), ...recorded() });
    const root = el.querySelector(".mgw-heatmap") as HTMLElement;
    const other = joinLink("L1", () => {});
    expect(root.dataset.shownStep).toBe("live");
    hover(el, 1, 1).dispatchEvent(new MouseEvent("mouseleave")); // the readout keeps that cell
    frames.run();
    const info = el.querySelector(".mgw-heatmap-info") as HTMLElement;
    expect(info.textContent).toContain("value 2 · grad 4");
    expect(root.dataset.shownSum).toBe((0.125 + 0 + 3 + 4).toPrecision(6));
    other.publish({ kind: "timeline", step: 7 });
    frames.run();
    expect(root.dataset.shownStep).toBe("5");
    expect(root.dataset.shownSum).toBe("8.00000"); // 4 × 127 · 2/127
    expect(root.dataset.dead).toBe("2"); // the dead marks of step 5, not the live ones
    expect(el.querySelector(".mgw-heatmap-step")!.textContent).toBe("step 5 (recorded) · live: step 7 · running");
    expect(info.textContent).toContain("· step 5 (recorded)\ngradients ≈ 2 · weights ≈ -9 · last update ≈ 0");
    other.publish({ kind: "timeline", step: null });
    frames.run();
    expect(root.dataset.shownStep).toBe("live");
    // before the recording: its first frame, and the label says so; nonsense: live
    other.publish({ kind: "timeline", step: -3 });
    frames.run();
    expect(el.querySelector(".mgw-heatmap-step")!.textContent).toContain("step 0 (recorded; the recording starts there)");
    other.publish({ kind: "timeline", step: "7" as unknown as number });
    frames.run();
    expect(root.dataset.shownStep).toBe("live");
    other.publish({ kind: "neuron", layer: 9, neuron: 99 }); // no such row: nothing outlined, no error
    frames.run();
    expect(root.dataset.linkedNeuron).toBe("9:99");
    other.close();
    cleanup();
  });

  it("the slider publishes the timeline; a view rendered later starts at the last step published", () => {
    const { el, frames, cleanup } = renderView(view, { ...state(), ...recorded(), link: "L2" });
    const heard: LinkMessage[] = [];
    const other = joinLink("L2", (m) => heard.push(m));
    const slider = el.querySelector(".mgw-heatmap-slider") as HTMLInputElement;
    expect(slider.disabled).toBe(false);
    expect([slider.max, slider.value]).toEqual(["2", "2"]); // the end is live
    slider.value = "0";
    slider.dispatchEvent(new Event("input"));
    frames.run();
    expect(heard).toEqual([{ kind: "timeline", step: 0 }]);
    const later = renderView(view, { ...state(), ...recorded(), link: "L2" });
    expect((later.el.querySelector(".mgw-heatmap") as HTMLElement).dataset.shownStep).toBe("0");
    (el.querySelector(".mgw-heatmap-scrub button") as HTMLButtonElement).click();
    expect(heard[heard.length - 1]).toEqual({ kind: "timeline", step: null });
    other.close();
    later.cleanup();
    cleanup();
  });

  it("switches modes from the recorded frame with no kernel, and tells Python when it can", () => {
    const { model, el, frames, cleanup } = renderView(view, { ...state(), ...recorded(), link: "L3" });
    const root = el.querySelector(".mgw-heatmap") as HTMLElement;
    joinLink("L3", () => {}).publish({ kind: "timeline", step: 5 });
    model.emit("comm_live_update");
    frames.run();
    (el.querySelector("button[data-mode='weights']") as HTMLButtonElement).click();
    frames.run();
    expect(model.sent).toEqual([]);
    expect([root.dataset.mode, root.dataset.shownSum]).toEqual(["weights", "9.00000"]);
    cleanup();
  });

  it("offers the optimizer's state as modes and writes its formula with the numbers", () => {
    const adam: HeatmapState = {
      ...state(),
      modes: ["grads", "weights", "updates", "m", "sqrt_v"],
      state_names: ["m", "sqrt_v"],
      state: f32([0.1, 0.2, 0.3, 0.4, 1, 1, 1, 1]),
      updates: f32([0.01, 0, 0, 0]),
      optimizer: { name: "adam", rule: "…", lr: 0.01, t: 1, betas: [0.9, 0.999], eps: 1e-8 },
    };
    const { model, el, frames, cleanup } = renderView(view, adam);
    const root = el.querySelector(".mgw-heatmap") as HTMLElement;
    expect(root.dataset.modes).toBe("grads,weights,updates,m,sqrt_v");
    expect(el.querySelector("button[data-mode='sqrt_v']")!.textContent).toBe("√v");
    expect(el.querySelector("button[data-mode='sqrt_v']")!.getAttribute("title")).toContain("typical gradient size");
    (el.querySelector("button[data-mode='m']") as HTMLButtonElement).click();
    frames.run();
    expect(model.sent).toEqual([{ type: "set_mode", mode: "m" }]);
    expect([root.dataset.mode, root.dataset.shownSum]).toEqual(["m", (1.0).toPrecision(6)]);
    hover(el, 0, 0);
    frames.run();
    const text = el.querySelector(".mgw-heatmap-tooltip")!.textContent!;
    expect(text).toContain("m̂ = m / (1 − β1^t) = 0.1 / (1 − 0.9^1) = 1");
    expect(text).toContain("w ← w − lr·m̂ / (√v̂ + ε) = 0.49 − 0.01·1 / (31.62 + 1.000e-8) = 0.5");
    // SGD: the brief's example
    model.update({
      values: f32([0.352, 0, 0, 0]),
      grads: f32([-0.42, 0, 0, 0]),
      updates: f32([0.042, 0, 0, 0]),
      modes: ["grads", "weights", "updates"],
      state_names: [],
      state: null,
      optimizer: { name: "sgd", rule: "w ← w − lr·grad", lr: 0.1, t: 3 },
    });
    frames.run();
    expect(el.querySelector(".mgw-heatmap-tooltip")!.textContent).toContain(
      "w ← w − lr·grad = 0.31 − 0.1·(−0.42) = 0.352",
    );
    expect(root.dataset.mode).toBe("grads"); // m is no longer offered
    cleanup();
  });

  it("hovering a row publishes its neuron; a neuron from another view is outlined", () => {
    const { el, frames, cleanup } = renderView(view, { ...state(), link: "L4" });
    const root = el.querySelector(".mgw-heatmap") as HTMLElement;
    const heard: LinkMessage[] = [];
    const other = joinLink("L4", (m) => heard.push(m));
    const canvas = hover(el, 1, 0);
    hover(el, 1, 1); // same row: nothing new
    canvas.dispatchEvent(new MouseEvent("mouseleave"));
    expect(heard).toEqual([
      { kind: "neuron", layer: 0, neuron: 1 },
      { kind: "neuron", layer: 0, neuron: null },
    ]);
    other.publish({ kind: "neuron", layer: 0, neuron: 0 });
    frames.run();
    expect(root.dataset.linkedNeuron).toBe("0:0");
    other.publish({ kind: "neuron", layer: 0, neuron: null });
    frames.run();
    expect(root.dataset.linkedNeuron).toBe("");
    other.close();
    cleanup();
  });

  it("labels a k-output last layer's rows by class, as text", () => {
    const { el, cleanup } = renderView(view, {
      ...state(),
      layers: [
        { name: "layers.0", nin: 1, nout: 1, activation: "relu" },
        { name: "layers.1", nin: 1, nout: 2, activation: "none" },
      ],
      param_names: ["a", "b", "c", "d", "e", "f"],
      values: f32([1, 2, 3, 4, 5, 6]),
      grads: f32([1, 2, 3, 4, 5, 6]),
      updates: f32([0, 0, 0, 0, 0, 0]),
      dead: new DataView(new Uint8Array([0, 0, 0]).buffer),
      output_labels: ["class 0", "<i>long name</i>"],
    });
    const last = el.querySelector("canvas[data-layer='1']") as HTMLCanvasElement;
    expect(last.dataset.rowLabels).toBe("class 0|<i>long…");
    expect((el.querySelector("canvas[data-layer='0']") as HTMLCanvasElement).dataset.rowLabels).toBe("");
    cleanup();
  });
});
