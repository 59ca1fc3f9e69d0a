import { describe, expect, it, vi } from "vitest";
import { renderView } from "../shared/testing";
import widget from "./widget";
import type { PlaygroundState } from "./types";

function state(overrides: Partial<PlaygroundState> = {}): PlaygroundState {
  return {
    settings: {
      dataset: "moons", classes: 2, n: 200, noise: 0.1, test_ratio: 0.2, drawn: [], hidden: [8, 8],
      activation: "relu", loss: "svm", penalty: "l2", penalty_rate: 1e-4, batch_size: null, lr: 0.1,
      optimizer: "sgd", speed: 30, max_steps: null,
    },
    options: {
      dataset: ["moons", "draw"], classes: [2], activation: ["relu", "tanh"], loss: ["svm", "log"],
      penalty: ["none", "l2"], optimizer: ["sgd", "adam"], speed: [1, 30, "max"],
    },
    help: { dataset: "The points to classify", lr: "Learning rate" },
    hidden_controls: [],
    locked_controls: [],
    parts: { boundary: "", heatmap: "", graph: "" },
    problem: "",
    pad_extent: [-1.5, 1.5, -1.5, 1.5],
    step: 0,
    status: "idle",
    message: "",
    engine: "compiled",
    build_ms: 12,
    limits: { layers: 6, neurons: 32 },
    error: "",
    ...overrides,
  };
}

const last = (sent: any[]) => sent[sent.length - 1];
const control = (el: HTMLElement, key: string) => el.querySelector<HTMLElement>(`[data-control='${key}']`)!;

describe("Playground view", () => {
  it("shows the config and sends a set for a control change", () => {
    const { el, model, cleanup } = renderView(widget, state());
    const select = control(el, "activation").querySelector("select")!;
    expect(select.value).toBe("relu");
    select.value = "tanh";
    select.dispatchEvent(new Event("change"));
    expect(last(model.sent)).toEqual({ type: "set", key: "activation", value: "tanh" });
    const speed = control(el, "speed").querySelector("select")!;
    speed.value = "max";
    speed.dispatchEvent(new Event("change"));
    expect(last(model.sent)).toEqual({ type: "set", key: "speed", value: "max" });
    speed.value = "30";
    speed.dispatchEvent(new Event("change"));
    expect(last(model.sent)).toEqual({ type: "set", key: "speed", value: 30 }); // a number again
    expect(control(el, "dataset").title).toBe("The points to classify");
    cleanup();
    expect(model.listenerCount()).toBe(0);
  });

  it("a settled answer rewrites only its own box: a number being typed elsewhere stays", () => {
    const { el, model, frames, cleanup } = renderView(widget, state());
    const limit = control(el, "max_steps").querySelector("input")!;
    limit.focus();
    limit.value = "7"; // typed, not yet sent
    model.emit("msg:custom", { type: "settled", key: "speed" }); // the answer to another control
    frames.run();
    expect(limit.value).toBe("7");
    model.emit("msg:custom", { type: "settled", key: "max_steps" }); // its own (e.g. refused)
    frames.run();
    expect(limit.value).toBe(""); // what Python holds: no limit
    cleanup();
  });

  it("edits the network with +/− and never sends 0 neurons", () => {
    const { el, model, cleanup } = renderView(widget, state({ settings: { ...state().settings, hidden: [1] } }));
    el.querySelector<HTMLButtonElement>("[aria-label='add a layer']")!.click();
    expect(last(model.sent)).toEqual({ type: "set", key: "hidden", value: [1, 1] });
    const fewer = el.querySelector<HTMLButtonElement>("[aria-label='remove a neuron from layer 1']")!;
    expect(fewer.disabled).toBe(true);
    cleanup();
  });

  it("hides and locks controls", () => {
    const { el, cleanup } = renderView(widget, state({ hidden_controls: ["optimizer", "play"], locked_controls: ["lr"] }));
    expect(control(el, "optimizer").hidden).toBe(true);
    expect(control(el, "play").hidden).toBe(true);
    expect(control(el, "lr").hasAttribute("data-locked")).toBe(true);
    expect(control(el, "lr").querySelector("input")!.disabled).toBe(true);
    expect(control(el, "lr").title).toContain("locked");
    cleanup();
  });

  it("commits a typed number on Enter, once", () => {
    const { el, model, cleanup } = renderView(widget, state());
    const box = control(el, "max_steps").querySelector("input")!;
    box.value = "50";
    box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    box.dispatchEvent(new Event("change"));
    expect(model.sent.filter((m) => m.key === "max_steps")).toEqual([{ type: "set", key: "max_steps", value: 50 }]);
    cleanup();
  });

  it("shows code as text and says when the clipboard is missing", () => {
    vi.stubGlobal("navigator", {});
    const { el, model, frames, cleanup } = renderView(widget, state());
    model.emit("msg:custom", { type: "code", code: "<b>x</b> = 1\n" });
    frames.run();
    const pre = el.querySelector<HTMLElement>(".mgw-pg-code")!;
    expect(pre.hidden).toBe(false);
    expect(pre.textContent).toBe("<b>x</b> = 1\n");
    expect(pre.querySelector("b")).toBeNull();
    expect(el.querySelector(".mgw-pg-code-note")!.textContent).toContain("no clipboard");
    cleanup();
  });

  it("says so when the front-end cannot render inner widgets", () => {
    const { el, cleanup } = renderView(widget, state({ parts: { boundary: "anywidget:abc", heatmap: "", graph: "" } }));
    expect(el.querySelector("[data-part='boundary']")!.textContent).toContain("cannot show a widget inside another");
    cleanup();
  });

  it("shows the draw-your-own pad while there is no trainer", () => {
    const settings = { ...state().settings, dataset: "draw", drawn: [[0.5, 0.5, 1]] };
    const { el, model, cleanup } = renderView(widget, state({ settings, problem: "1 training point: …" }));
    const pad = el.querySelector<HTMLCanvasElement>(".mgw-pg-pad")!;
    expect(el.querySelector<HTMLElement>(".mgw-pg-padbox")!.hidden).toBe(false);
    expect(pad.dataset.points).toBe("1");
    expect(control(el, "noise").hidden).toBe(true); // no generator for drawn data
    expect(el.querySelector(".mgw-pg-problem")!.textContent).toContain("1 training point");
    pad.getBoundingClientRect = () => ({ left: 0, top: 0, width: 300, height: 300 }) as DOMRect;
    pad.dispatchEvent(new MouseEvent("click", { clientX: 150, clientY: 150 }));
    expect(last(model.sent)).toEqual({ type: "add_point", x: 0, y: 0, label: -1 });
    cleanup();
  });

  it("once the kernel is gone: no running claim, every control that sends is off, the pad adds nothing", () => {
    const settings = { ...state().settings, dataset: "draw", drawn: [[0.5, 0.5, 1]] };
    const { el, model, frames, cleanup } = renderView(widget, state({ settings, problem: "1 training point: …", step: 42, status: "running" }));
    const status = el.querySelector<HTMLElement>(".mgw-pg-status")!;
    expect(status.textContent).toBe("step 42 · running · compiled engine, built in 12 ms");
    model.emit("comm_live_update");
    frames.run();
    expect(status.textContent).toBe("step 42 · no kernel · compiled engine, built in 12 ms");
    const controls = [...el.querySelectorAll<HTMLInputElement>("button, select, input")];
    expect(controls.length).toBeGreaterThan(10);
    expect(controls.filter((c) => !c.disabled).map((c) => c.textContent || c.getAttribute("aria-label"))).toEqual([]);
    const pad = el.querySelector<HTMLCanvasElement>(".mgw-pg-pad")!;
    pad.getBoundingClientRect = () => ({ left: 0, top: 0, width: 300, height: 300 }) as DOMRect;
    pad.dispatchEvent(new MouseEvent("click", { clientX: 150, clientY: 150 }));
    expect(model.sent).toEqual([]);
    expect(el.querySelector(".mgw-pg-problem")!.textContent).toBe("1 training point: … Without a kernel no point can be added.");
    cleanup();
  });
});
