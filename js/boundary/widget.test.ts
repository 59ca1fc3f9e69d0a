// The boundary view in jsdom (no canvas drawing there): controls and clicks become messages,
// and Python's message is shown as text.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import view from "./widget";

function fakeModel(state: Record<string, unknown>) {
  const listeners: Record<string, (() => void)[]> = {};
  const sent: any[] = [];
  return {
    sent,
    get: (key: string) => state[key],
    set: (key: string, value: unknown) => {
      state[key] = value;
      for (const cb of listeners[`change:${key}`] ?? []) cb();
    },
    save_changes: () => {},
    on: (event: string, cb: () => void) => {
      (listeners[event] ??= []).push(cb);
    },
    off: () => {},
    send: (content: unknown) => sent.push(content),
  };
}

const state = () => ({
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

beforeEach(() => {
  vi.stubGlobal("requestAnimationFrame", (cb: FrameRequestCallback) => {
    cb(0);
    return 0;
  });
  HTMLCanvasElement.prototype.getContext = (() => null) as any; // jsdom has no 2-D canvas
});
afterEach(() => vi.unstubAllGlobals());

describe("boundary view", () => {
  it("sends clicks as add_point / remove_point in data coordinates", () => {
    const model = fakeModel(state());
    const el = document.createElement("div");
    view.render({ model: model as any, el });
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
    const model = fakeModel(state());
    const el = document.createElement("div");
    view.render({ model: model as any, el });
    const root = el.querySelector(".mgw-boundary") as HTMLElement;
    expect(root.dataset.step).toBe("3");
    expect(root.dataset.status).toBe("paused");
    expect(root.dataset.framesDrawn).toBe("1");
    for (const b of el.querySelectorAll("button")) b.click();
    expect(model.sent.map((m) => m.type)).toEqual(["play", "step", "reset"]); // pause is disabled
  });

  it("shows Python's message as text, never as HTML", () => {
    const model = fakeModel(state());
    const el = document.createElement("div");
    view.render({ model: model as any, el });
    model.set("message", "<img src=x onerror=alert(1)> diverged");
    const overlay = el.querySelector(".mgw-boundary-overlay") as HTMLElement;
    expect(overlay.hidden).toBe(false);
    expect(overlay.textContent).toBe("<img src=x onerror=alert(1)> diverged");
    expect(overlay.querySelector("img")).toBeNull();
  });
});
