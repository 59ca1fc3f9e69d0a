// The heatmap view in jsdom: hovering a cell names its parameter; the mode buttons send messages.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import view from "./widget";

function fakeModel(state: Record<string, unknown>) {
  const sent: any[] = [];
  return {
    sent,
    get: (key: string) => state[key],
    set: () => {},
    save_changes: () => {},
    on: () => {},
    off: () => {},
    send: (content: unknown) => sent.push(content),
  };
}

const f32 = (xs: number[]) => new DataView(new Float32Array(xs).buffer);

beforeEach(() => {
  vi.stubGlobal("requestAnimationFrame", (cb: FrameRequestCallback) => {
    cb(0);
    return 0;
  });
  HTMLCanvasElement.prototype.getContext = (() => null) as any;
});
afterEach(() => vi.unstubAllGlobals());

describe("heatmap view", () => {
  it("names the hovered parameter and shows its numbers as text", () => {
    // one layer: 2 neurons × (1 input + bias)
    const names = ["layers.0.neurons.0.w.0", "layers.0.neurons.0.b", "layers.0.neurons.1.w.0", "<b>bold</b>"];
    const model = fakeModel({
      layers: [{ name: "layers.0", nin: 1, nout: 2, activation: "relu" }],
      param_names: names,
      values: f32([0.5, -0.25, 1, 2]),
      grads: f32([0.125, 0, -3, 4]),
      updates: f32([0, 0, 0, 0]),
      mode: "grads",
      dead: new DataView(new Uint8Array([0, 1]).buffer),
      dead_window: 10,
      norms: null,
      step: 7,
      status: "running",
      message: "",
      error: "",
    });
    const el = document.createElement("div");
    document.body.append(el);
    view.render({ model: model as any, el });
    const root = el.querySelector(".mgw-heatmap") as HTMLElement;
    const canvas = el.querySelector("canvas[data-layer='0']") as HTMLCanvasElement;
    expect(canvas.dataset.dead).toBe("1");
    canvas.getBoundingClientRect = () => ({ left: 0, top: 0, width: 100, height: 100 }) as DOMRect;
    // geometry: left 24, top 14, 16 px cells -> row 1, column 1 = the bias of neuron 1
    canvas.dispatchEvent(new MouseEvent("mousemove", { clientX: 24 + 1.5 * 16, clientY: 14 + 1.5 * 16 }));
    expect(root.dataset.hoverName).toBe("<b>bold</b>");
    const tooltip = el.querySelector(".mgw-heatmap-tooltip") as HTMLElement;
    expect(tooltip.hidden).toBe(false);
    expect(tooltip.textContent).toContain("<b>bold</b>");
    expect(tooltip.textContent).toContain("grad 4");
    expect(tooltip.querySelector("b")).toBeNull();
    canvas.dispatchEvent(new MouseEvent("mousemove", { clientX: 24 + 0.5 * 16, clientY: 14 + 0.5 * 16 }));
    expect(root.dataset.hoverName).toBe("layers.0.neurons.0.w.0");
    expect(tooltip.textContent).toContain("value 0.5 · grad 0.125");

    (el.querySelector("button[data-mode='weights']") as HTMLButtonElement).click();
    expect(model.sent).toEqual([{ type: "set_mode", mode: "weights" }]);
  });
});
