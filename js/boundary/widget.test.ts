// The boundary view in jsdom (no canvas drawing there): controls and clicks become messages,
// Python's numbers are shown as text, and what needs Python stops once the kernel is gone.
import { describe, expect, it, vi } from "vitest";
import { fakeAnimationFrames, fakeModel, renderView, stubCanvas } from "../shared/testing";
import { QUIET_STATE } from "./testing";
import type { BoundaryState } from "./types";
import view from "./widget";

const state = (): BoundaryState => ({
  ...QUIET_STATE,
  extent: [0, 4, 0, 2],
  frame: new DataView(new Float32Array([1, -1, 1, -1]).buffer),
  points: new DataView(new Float32Array([1, 1]).buffer),
  labels: new DataView(new Int8Array([1]).buffer),
  step: 3,
  metrics: { loss: 0.5, accuracy: 0.75, lr: 0.9 },
  current: { loss: 0.25, accuracy: 1 },
  next_lr: 0.88,
  curves: null,
  lr_schedule: "1 − 0.9·k/100",
  // two recorded 2 × 2 frames: the first with NaN metrics (as an older widget recorded it)
  recording: new DataView(new Uint8Array([255, 1, 255, 1, 1, 255, 1, 255]).buffer),
  recording_meta: new DataView(new Float32Array([0, 1, Number.NaN, Number.NaN, 2, 1, 0.4, 0.9]).buffer),
  link: "",
  point_scores: new DataView(new Float32Array([0.75]).buffer),
  point_losses: new DataView(new Float32Array([0.25]).buffer),
  first_layer: null,
});

const buttonNamed = (el: HTMLElement, text: string) =>
  [...el.querySelectorAll("button")].find((b) => b.textContent === text)!;

function scrubTo(el: HTMLElement, index: number) {
  const slider = el.querySelector(".mgw-boundary-slider") as HTMLInputElement;
  slider.value = String(index);
  slider.dispatchEvent(new Event("input"));
}

describe("boundary view", () => {
  it("sends clicks as add_point / remove_point in data coordinates", () => {
    const { model, el } = renderView(view, state());
    const canvas = el.querySelector("canvas.mgw-boundary-canvas") as HTMLCanvasElement;
    canvas.getBoundingClientRect = () => ({ left: 0, top: 0, width: 360, height: 360 }) as DOMRect;
    canvas.dispatchEvent(new MouseEvent("click", { clientX: 90, clientY: 90 }));
    canvas.dispatchEvent(new MouseEvent("click", { clientX: 270, clientY: 270, shiftKey: true }));
    canvas.dispatchEvent(new MouseEvent("click", { clientX: 0, clientY: 0, altKey: true }));
    expect(el.querySelector(".mgw-boundary-hint")!.textContent).toBe(
      "click: add a + point · shift-click: add a − point · alt-click or “Remove points”: remove the nearest point · Inspect: click a point to follow it · hover a point: its numbers",
    );
    expect(model.sent).toEqual([
      { type: "add_point", x: 1, y: 1.5, label: 1 },
      { type: "add_point", x: 3, y: 0.5, label: -1 },
      { type: "remove_point", x: 0, y: 2 },
    ]);
  });

  it("maps clicks on a shrunk canvas (a narrow window) to the same data coordinates", () => {
    const { model, el } = renderView(view, state());
    const canvas = el.querySelector("canvas.mgw-boundary-canvas") as HTMLCanvasElement;
    canvas.getBoundingClientRect = () => ({ left: 10, top: 0, width: 180, height: 180 }) as DOMRect;
    canvas.dispatchEvent(new MouseEvent("click", { clientX: 10 + 45, clientY: 45 }));
    expect(model.sent).toEqual([{ type: "add_point", x: 1, y: 1.5, label: 1 }]);
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

  it("hides its run controls when told to (inside a Playground) and shows them again", () => {
    const { model, el, frames } = renderView(view, { ...state(), run_controls: false });
    const play = buttonNamed(el, "▶ Play") as HTMLButtonElement;
    const runRow = play.closest(".mgw-toolbar") as HTMLElement;
    expect(runRow.hidden).toBe(true);
    expect(runRow.contains(el.querySelector(".mgw-boundary-lr"))).toBe(true); // the rate box too
    expect((buttonNamed(el, "Inspect") as HTMLElement).closest(".mgw-toolbar")?.hasAttribute("hidden")).toBe(false);
    model.update({ run_controls: true });
    frames.run();
    expect(runRow.hidden).toBe(false);
  });

  it("inside a Playground its run controls are hidden before the first frame is drawn", () => {
    const frames = fakeAnimationFrames();
    stubCanvas();
    const el = document.createElement("div");
    document.body.append(el);
    const cleanup = view.render({ model: fakeModel({ ...state(), run_controls: false }), el }) as () => void;
    expect(frames.pending).toBeGreaterThan(0); // nothing drawn yet
    expect((buttonNamed(el, "▶ Play").closest(".mgw-toolbar") as HTMLElement).hidden).toBe(true);
    cleanup();
  });

  it("Play, Step, Reset and a click on the plane return a scrubbed view to live", () => {
    const { el, frames } = renderView(view, state());
    const root = el.querySelector(".mgw-boundary") as HTMLElement;
    const canvas = el.querySelector("canvas.mgw-boundary-canvas") as HTMLCanvasElement;
    canvas.getBoundingClientRect = () => ({ left: 0, top: 0, width: 360, height: 360 }) as DOMRect;
    const actionsToTry: (() => void)[] = [
      () => buttonNamed(el, "▶ Play").click(),
      () => buttonNamed(el, "Step").click(),
      () => buttonNamed(el, "Reset").click(),
      () => canvas.dispatchEvent(new MouseEvent("click", { clientX: 90, clientY: 90 })),
    ];
    for (const act of actionsToTry) {
      scrubTo(el, 1);
      frames.run();
      expect(root.dataset.scrubStep).toBe("2");
      act();
      frames.run();
      expect(root.dataset.scrubStep).toBeUndefined();
      expect((el.querySelector(".mgw-boundary-slider") as HTMLInputElement).value).toBe("2");
    }
  });

  it("labels a recorded frame without NaN, and says where a late recording starts", () => {
    const { model, el, frames } = renderView(view, state());
    scrubTo(el, 0);
    frames.run();
    const label = el.querySelector(".mgw-boundary-scrub .mgw-mono") as HTMLElement;
    expect(label.textContent).toBe("step 0 · loss – · accuracy –");
    scrubTo(el, 1);
    frames.run();
    expect(label.textContent).toBe("step 2 · loss 0.4 · accuracy 90.0%");
    // while a replay shows, the panel describes that picture, not the live model
    const panel = el.querySelector(".mgw-boundary-metrics") as HTMLElement;
    expect(panel.textContent!.split("\n")[0]).toBe("picture: step 2 (replay): loss 0.4 · accuracy 90.0%");
    const note = el.querySelector(".mgw-boundary-recording-note") as HTMLElement;
    expect(note.hidden).toBe(true);
    model.set("recording_start", 20);
    frames.run();
    expect(note.hidden).toBe(false);
    expect(note.textContent).toBe("Recording starts at step 20: earlier steps have curves only.");
  });

  it("shows the numbers at the current weights beside the last step's, and the next rate", () => {
    const { el } = renderView(view, state());
    const panel = (el.querySelector(".mgw-boundary-metrics") as HTMLElement).textContent!;
    expect(panel.split("\n")).toEqual([
      "now: loss 0.25 · accuracy 100.0%",
      "step 2, before its update: loss 0.5 · accuracy 75.0%",
      "next step's learning rate 0.88 (schedule 1 − 0.9·k/100)",
      "1 training points",
    ]);
  });

  it("keeps the learning-rate box pending until Python answers, then shows what Python holds", () => {
    const { model, el, frames } = renderView(view, state());
    const root = el.querySelector(".mgw-boundary") as HTMLElement;
    const box = el.querySelector(".mgw-boundary-lr") as HTMLInputElement;
    box.value = "-1";
    box.dispatchEvent(new Event("change"));
    expect(model.sent).toEqual([{ type: "set_lr", value: -1 }]);
    frames.run();
    expect([root.dataset.lrPending, box.classList.contains("mgw-pending")]).toEqual(["true", true]);
    model.set("step", 4); // a frame while waiting does not overwrite what the user typed
    frames.run();
    expect(box.value).toBe("-1");
    model.emit("msg:custom", { type: "lr", value: null }); // refused: Python kept the schedule
    frames.run();
    expect([box.value, root.dataset.lrPending, box.classList.contains("mgw-pending")]).toEqual(["", "false", false]);
    box.value = "0.05";
    box.dispatchEvent(new Event("change"));
    model.emit("msg:custom", { type: "lr", value: 0.05 });
    model.update({ lr: 0.05, next_lr: 0.05 });
    frames.run();
    expect(box.value).toBe("0.05");
    expect(root.dataset.nextLr).toBe("0.05");
  });

  it("has a legend for training and test points, and a log scale for the loss", () => {
    const { model, el, frames } = renderView(view, state());
    const root = el.querySelector(".mgw-boundary") as HTMLElement;
    const keys = [...el.querySelectorAll(".mgw-boundary-key")].filter((k) => !(k as HTMLElement).hidden || k.textContent === "test points") as HTMLElement[];
    expect(keys.map((k) => k.textContent)).toEqual([
      "training points",
      "test points",
      "+1 −1 (colour: the model's score)",
      "score 0",
    ]);
    expect(keys[1].hidden).toBe(true); // no test split
    model.update({
      test_points: new DataView(new Float32Array([2, 1]).buffer),
      test_labels: new DataView(new Int8Array([-1]).buffer),
    });
    frames.run();
    expect(keys[1].hidden).toBe(false);
    const log = buttonNamed(el, "log scale");
    expect(root.dataset.lossScale).toBe("linear");
    log.click();
    frames.run();
    expect([root.dataset.lossScale, log.getAttribute("aria-pressed")]).toEqual(["log", "true"]);
  });

  it("once the kernel is gone: no running claim, controls off, scrubbing still works", () => {
    const { model, el, frames } = renderView(view, { ...state(), status: "running" });
    const root = el.querySelector(".mgw-boundary") as HTMLElement;
    model.emit("comm_live_update");
    frames.run();
    expect(root.dataset.kernel).toBe("lost");
    expect(el.querySelector(".mgw-boundary-status")!.textContent).toBe("no kernel");
    for (const name of ["▶ Play", "❚❚ Pause", "Step", "Reset", "Remove points"]) {
      expect(buttonNamed(el, name).disabled).toBe(true);
    }
    expect((el.querySelector(".mgw-boundary-lr") as HTMLInputElement).disabled).toBe(true);
    expect(el.querySelector(".mgw-boundary-hint")!.textContent).toBe(
      "no kernel: points cannot be added or removed · Inspect: click a point to follow it · hover a point: its numbers",
    );
    const canvas = el.querySelector("canvas.mgw-boundary-canvas") as HTMLCanvasElement;
    canvas.dispatchEvent(new MouseEvent("click", { clientX: 9, clientY: 9 }));
    expect(model.sent).toEqual([]);
    scrubTo(el, 0);
    frames.run();
    expect(root.dataset.scrubStep).toBe("0");
    expect(buttonNamed(el, "Live").disabled).toBe(false);
  });

  it("once the kernel is gone, shows no measured speed, however often it redraws", () => {
    let now = 1000;
    vi.spyOn(performance, "now").mockImplementation(() => now);
    const { model, el, frames } = renderView(view, { ...state(), status: "running" });
    const root = el.querySelector(".mgw-boundary") as HTMLElement;
    const speed = el.querySelector(".mgw-boundary-measured") as HTMLElement;
    now += 1000;
    model.set("step", 13); // 10 steps in a second
    frames.run();
    expect([speed.textContent, root.dataset.measuredSpeed]).toEqual(["≈ 10.0/s", "10.0"]);
    model.emit("comm_live_update"); // the status stays "running": Python never said otherwise
    frames.run();
    expect([speed.textContent, root.dataset.measuredSpeed]).toEqual(["", ""]);
    for (const wait of [200, 2000, 5000]) {
      now += wait;
      buttonNamed(el, "log scale").click(); // any redraw (hover, theme, scrubbing)
      frames.run();
      expect(speed.textContent).toBe("");
    }
    expect(frames.pending).toBe(0); // and nothing keeps redrawing it
  });

  it("a learning rate sent just before the kernel went stops waiting, and shows Python's", () => {
    const { model, el, frames } = renderView(view, { ...state(), lr: 0.1 });
    const root = el.querySelector(".mgw-boundary") as HTMLElement;
    const box = el.querySelector(".mgw-boundary-lr") as HTMLInputElement;
    box.value = "0.5";
    box.dispatchEvent(new Event("change"));
    frames.run();
    expect([root.dataset.lrPending, box.title]).toEqual(["true", "sent: waiting for the kernel"]);
    model.emit("comm_live_update"); // no answer will come
    frames.run();
    expect([root.dataset.lrPending, box.classList.contains("mgw-pending"), "pending" in box.dataset]).toEqual(["false", false, false]);
    expect(box.value).toBe("0.1");
    expect(box.title).not.toContain("waiting");
    expect(box.disabled).toBe(true);
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

  it("counts frames received apart from frames drawn: two frames before a redraw are drawn as one", () => {
    const { model, el, frames } = renderView(view, state());
    const root = el.querySelector(".mgw-boundary") as HTMLElement;
    frames.run();
    const picture = (v: number) => new DataView(new Float32Array([v, v, -v, -v]).buffer);
    model.update({ step: 4, frame: picture(1), point_scores: new DataView(new Float32Array([1]).buffer) });
    model.update({ step: 5, frame: picture(2) });
    frames.run();
    expect([root.dataset.framesReceived, root.dataset.framesDrawn]).toEqual(["2", "2"]);
    expect(Number(root.dataset.drawMsTotal)).toBeGreaterThanOrEqual(0);
  });

  it("draws a state message once, in the next frame, and detaches everything on cleanup", () => {
    const { model, el, frames, cleanup } = renderView(view, state());
    const root = el.querySelector(".mgw-boundary") as HTMLElement;
    model.update({ step: 4, status: "running", frame: new DataView(new Float32Array([1, 1, -1, -1]).buffer) });
    expect(root.dataset.step).toBe("3");
    frames.run();
    expect([root.dataset.step, root.dataset.status, root.dataset.framesDrawn]).toEqual(["4", "running", "2"]);
    const pause = buttonNamed(el, "❚❚ Pause");
    expect(pause.disabled).toBe(false);

    model.set("step", 5);
    cleanup();
    expect(model.listenerCount()).toBe(0);
    expect(frames.pending).toBe(0);
    expect(model.lifecycle.map((m) => m.event)).toEqual(["attached", "detached"]);
  });
});
