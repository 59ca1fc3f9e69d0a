// The heatmap view in jsdom: hovering a cell names its parameter; the mode buttons send messages.
import { describe, expect, it } from "vitest";
import { renderView } from "../shared/testing";
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
