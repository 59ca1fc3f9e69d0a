// The boundary view in jsdom (no canvas drawing there): controls and clicks become messages,
// and Python's message is shown as text.
import { describe, expect, it } from "vitest";
import { renderView } from "../shared/testing";
import type { BoundaryState } from "./types";
import view from "./widget";

const state = (): BoundaryState => ({
  resolution: 2,
  extent: [0, 4, 0, 2],
  frame: new DataView(new Float32Array([1, -1, 1, -1]).buffer),
  frame_scale: 1,
  points: new DataView(new Float32Array([1, 1]).buffer),
  labels: new DataView(new Int8Array([1]).buffer),
  test_points: null,
  test_labels: null,
  step: 3,
  metrics: { loss: 0.5, accuracy: 0.75, lr: 0.9 },
  curves: null,
  status: "paused",
  message: "",
  lr: null,
  lr_schedule: "1 − 0.9·k/100",
  recording: null,
  recording_meta: null,
  recording_resolution: 2,
  error: "",
});

describe("boundary view", () => {
  it("sends clicks as add_point / remove_point in data coordinates", () => {
    const { model, el } = renderView(view, state());
    const canvas = el.querySelector("canvas.mgw-boundary-canvas") as HTMLCanvasElement;
    canvas.getBoundingClientRect = () => ({ left: 0, top: 0, width: 360, height: 360 }) as DOMRect;
    canvas.dispatchEvent(new MouseEvent("click", { clientX: 90, clientY: 90 }));
    canvas.dispatchEvent(new MouseEvent("click", { clientX: 270, clientY: 270, shiftKey: true }));
    canvas.dispatchEvent(new MouseEvent("click", { clientX: 0, clientY: 0, altKey: true }));
    expect(model.sent).toEqual([
      { type: "add_point", x: 1, y: 1.5, label: 1 },
      { type: "add_point", x: 3, y: 0.5, label: -1 },
      { type: "remove_point", x: 0, y: 2 },
    ]);
  });

  it("maps buttons to messages and shows state as data attributes", () => {
    const { model, el } = renderView(view, state());
    const root = el.querySelector(".mgw-boundary") as HTMLElement;
    expect(root.dataset.step).toBe("3");
    expect(root.dataset.status).toBe("paused");
    expect(root.dataset.framesDrawn).toBe("1");
    for (const b of el.querySelectorAll("button")) b.click();
    expect(model.sent.map((m) => m.type)).toEqual(["play", "step", "reset"]); // pause is disabled
  });

  it("shows Python's message as text, never as HTML", () => {
    const { model, el, frames } = renderView(view, state());
    model.set("message", "<img src=x onerror=alert(1)> diverged");
    frames.run();
    const overlay = el.querySelector(".mgw-boundary-overlay") as HTMLElement;
    expect(overlay.hidden).toBe(false);
    expect(overlay.textContent).toBe("<img src=x onerror=alert(1)> diverged");
    expect(overlay.querySelector("img")).toBeNull();
  });

  it("draws a state message once, in the next frame, and detaches everything on cleanup", () => {
    const { model, el, frames, cleanup } = renderView(view, state());
    const root = el.querySelector(".mgw-boundary") as HTMLElement;
    model.update({ step: 4, status: "running", frame: new DataView(new Float32Array([1, 1, -1, -1]).buffer) });
    expect(root.dataset.step).toBe("3");
    frames.run();
    expect([root.dataset.step, root.dataset.status, root.dataset.framesDrawn]).toEqual(["4", "running", "2"]);
    const pause = [...el.querySelectorAll("button")].find((b) => b.textContent === "❚❚ Pause")!;
    expect(pause.disabled).toBe(false);

    model.set("step", 5);
    cleanup();
    expect(model.listenerCount()).toBe(0);
    expect(frames.pending).toBe(0);
  });
});
