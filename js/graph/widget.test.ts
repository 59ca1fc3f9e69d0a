// The graph view in jsdom: it draws what Python sends once per frame (the numbers once, not once
// per changed trait), sends buttons and clicks as messages, answers Python's export request, and
// its cleanup detaches everything.
import { describe, expect, it } from "vitest";
import { joinLink } from "../shared/link";
import { renderView } from "../shared/testing";
import { buffer, topology } from "./fixtures";
import type { GraphState, StepState } from "./types";
import view from "./widget";

const bytes = (numbers: Float64Array) => new DataView(numbers.buffer.slice(0));
const idle: StepState = { done: 0, total: 2, seeded: false, finished: false, active: -1, children: [], lines: [], next: "" };
const state = (): GraphState => ({
  topology,
  numbers: bytes(buffer),
  step_state: idle,
  selected: -1,
  rankdir: "LR",
  font_size: 13,
  height: 520,
  error: "",
  link: "",
  sample: -1,
  followed: {},
  check: {},
  recording: null,
  recording_steps: [],
  replay: {},
});

function mount() {
  const { model, el, frames, cleanup } = renderView(view, state());
  const root = el.querySelector(".mgw-graph") as HTMLElement;
  const grad = (unit: number) => root.querySelector(`g.mgw-gvalue[data-unit="${unit}"] .mgw-ggrad`)!.textContent;
  return { model, el, frames, root, grad, cleanup };
}

describe("graph view", () => {
  it("lays out and draws the numbers once for the first state", () => {
    const { root, grad } = mount();
    expect(root.classList.contains("mgw-root")).toBe(true);
    expect(root.dataset.layoutCount).toBe("1");
    expect(root.dataset.numbersCount).toBe("1");
    expect(grad(0)).toBe("grad 6");
    expect(root.querySelector(".mgw-graph-canvas")!.getAttribute("style")).toContain("max-height: 520px");
  });

  it("draws a step's numbers and step state in one frame, numbers once", () => {
    const { model, frames, root, grad } = mount();
    const stepped = Float64Array.from(buffer);
    stepped[4] = 12; // grad of a
    model.update({
      numbers: bytes(stepped),
      step_state: { ...idle, done: 1, seeded: true, active: 3, children: [1, 2], lines: ["c.grad += 1"] },
    });
    expect(grad(0)).toBe("grad 6"); // nothing drawn before the frame
    frames.run();
    expect(grad(0)).toBe("grad 12");
    expect(root.dataset.numbersCount).toBe("2");
    expect(root.dataset.layoutCount).toBe("1");
    expect(root.dataset.stepDone).toBe("1");
    expect(root.querySelector(".mgw-graph-lines")!.textContent).toBe("c.grad += 1");
    expect(root.querySelector('g.mgw-gvalue[data-unit="3"]')!.classList.contains("is-active")).toBe(true);
  });

  it("draws a new root's topology, numbers and step state with one layout and one number pass", () => {
    const { model, frames, root } = mount();
    model.update({ topology: { ...topology, version: 2 }, numbers: bytes(buffer), step_state: idle, selected: -1 });
    frames.run();
    expect(root.dataset.layoutCount).toBe("2");
    expect(root.dataset.numbersCount).toBe("2"); // before: 3, once for the topology, once for the numbers
  });

  it("sends its buttons and node clicks as messages", () => {
    const { model, el } = mount();
    const click = (name: string) => [...el.querySelectorAll("button")].find((b) => b.textContent === name)!.click();
    click("Step");
    click("Run");
    click("Reset grads");
    el.querySelector<SVGGElement>('g.mgw-gvalue[data-unit="0"]')!.dispatchEvent(new MouseEvent("click"));
    expect(model.sent).toEqual([{ type: "step" }, { type: "run" }, { type: "reset" }, { type: "select", unit: 0 }]);
  });

  it("answers Python's export request with a standalone SVG", () => {
    const { model } = mount();
    model.emit("msg:custom", { type: "export_svg", request: 7 });
    expect(model.sent).toHaveLength(1);
    expect(model.sent[0].type).toBe("svg");
    expect(model.sent[0].request).toBe(7);
    expect(model.sent[0].svg.startsWith("<?xml")).toBe(true);
  });

  it("draws a grad not computed yet unlike a grad of 0, and the applied edge's arithmetic", () => {
    const { model, frames, root, grad } = mount();
    model.update({ step_state: { ...idle, done: 1, seeded: true, active: 3, children: [1, 2], status: "pfff" } });
    frames.run();
    expect(grad(0)).toBe("grad —");
    expect(root.querySelector('g.mgw-gvalue[data-unit="0"]')!.classList.contains("is-pending")).toBe(true);
    expect(grad(2)).toBe("grad 1"); // computed: its number
    const labels = [...root.querySelectorAll(".mgw-gedge-label")].map((t) => t.textContent).filter(Boolean);
    expect(labels).toEqual(["1 × 1 = 1", "1 × 1 = 1"]); // out.grad × local = contribution, per input edge
  });

  it("numbers each op node by its backward step", () => {
    const { model, frames, root } = mount();
    const units = topology.units.map((u, i) => (u.kind === "value" && u.op ? { ...u, order: i === 3 ? 1 : 2 } : u));
    model.update({ topology: { ...topology, version: 2, units } });
    frames.run();
    expect([...root.querySelectorAll(".mgw-gorder")].map((b) => b.getAttribute("data-order"))).toEqual(["2", "1"]);
  });

  it("follows the sample a linked view inspects, and shows which sample it is", () => {
    const { model, frames, root } = mount();
    model.update({
      link: "test-link",
      sample: 3,
      followed: { sample: 3, count: 10, x: [0.5, -1], label: 1, step: 7, loss: 0.25 },
    });
    frames.run();
    expect(root.querySelector(".mgw-graph-follow")!.textContent).toContain("sample 3 of 10");
    expect(root.dataset.followedStep).toBe("7");
    const boundary = joinLink("test-link", () => {});
    boundary.publish({ kind: "sample", index: 5 });
    boundary.publish({ kind: "sample", index: null }); // cleared: keep following sample 3
    boundary.close();
    expect(model.sent).toEqual([{ type: "follow_sample", index: 5 }]);
  });

  it("shows the recorded numbers of the step a linked timeline points at, and live again", () => {
    const { model, frames, root, grad } = mount();
    // two recorded steps, 4 units: [data × 4, grad × 4] each
    const rows = Float32Array.from([0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0, 5, 6, 7, 8]);
    model.update({
      link: "timeline-link",
      sample: 0,
      followed: { sample: 0, count: 4, x: [1, 2], label: -1, step: 30, loss: 0.5 },
      recording: new DataView(rows.buffer),
      recording_steps: [0, 20],
    });
    frames.run();
    expect(root.dataset.timelineStep).toBe("live");
    const slider = joinLink("timeline-link", () => {});
    slider.publish({ kind: "timeline", step: 25 });
    frames.run();
    expect(root.dataset.timelineStep).toBe("20");
    expect(grad(0)).toBe("grad 5");
    expect(root.querySelector(".mgw-graph-follow")!.textContent).toContain("step 20 (recorded)");
    slider.publish({ kind: "timeline", step: null });
    frames.run();
    expect(root.dataset.timelineStep).toBe("live");
    expect(grad(0)).toBe("grad 6");
    slider.close();
  });

  it("steps through the recorded backward pass in the page when the kernel is gone", () => {
    const { model, frames, root, grad } = mount();
    const replay = {
      version: 1,
      steps: [
        [3, [1, 2], ["out.grad = 1.0  (seed)", "*·1.grad += 1 × out.grad = 1.0"], [[3, 1], [1, 1], [2, 1]]],
        [1, [0], ["a.grad += a.data × *·1.grad = 3.0 × 1.0 = 3.0  →  a.grad = 0 + 3.0 + 3.0 = 6.0"], [[0, 6]]],
      ],
      spans: [[2, 2], [1, 1], [1, 1], [0, 0]],
    } as GraphState["replay"];
    model.update({ replay });
    frames.run();
    expect(root.dataset.replay).toBe("ready");
    const click = (name: string) => [...root.querySelectorAll("button")].find((b) => b.textContent === name)!.click();
    click("Step"); // a live kernel: Python answers
    expect(model.sent).toEqual([{ type: "step" }]);
    model.emit("comm_live_update"); // the kernel restarted: no Python behind the view
    frames.run();
    expect(root.dataset.replay).toBe("offline");
    click("Reset grads");
    frames.run();
    expect([grad(0), grad(3)]).toEqual(["grad —", "grad —"]); // not computed yet
    click("Step");
    frames.run();
    expect(root.dataset.stepDone).toBe("1");
    expect([grad(3), grad(1), grad(0)]).toEqual(["grad 1", "grad 1", "grad —"]);
    expect(root.querySelector(".mgw-graph-lines")!.textContent).toContain("*·1.grad += 1");
    click("Run");
    frames.run();
    expect(root.dataset.stepFinished).toBe("true");
    expect(grad(0)).toBe("grad 6");
    expect(root.querySelector(".mgw-graph-panel-title")!.textContent).toContain("no kernel");
    expect(model.sent).toEqual([{ type: "step" }]); // nothing more went to the kernel
  });

  it("once the kernel is gone: a click selects in the view, groups neither fold nor offer to, nothing is sent", () => {
    // a leaf inside a module's box, a folded module, and their sum
    const grouped: GraphState["topology"] = {
      version: 1,
      units: [
        { kind: "value", name: "w", label: "w", op: "", box: 0 },
        { kind: "group", name: "n2", title: "Neuron 2", scope: 2, count: 3, box: -1 },
        { kind: "value", name: "out", label: "out", op: "+", box: -1 },
      ],
      edges: [
        [0, 2, "1"],
        [1, 2, ""],
      ],
      boxes: [{ scope: 1, name: "n1", title: "Neuron 1", parent: -1 }],
      root: 2,
      total: 5,
      shown: 3,
      note: "",
    };
    const { model, frames, root } = mount();
    model.update({
      topology: grouped,
      numbers: bytes(Float64Array.from([0.5, 2, 2.5, 1, 1, 1, 1, 1])),
      link: "lost-link",
      sample: 3,
      followed: { sample: 3, count: 10, x: [0.5, -1], label: 1, step: 7, loss: 0.25 },
    });
    frames.run();
    const titles = () => [...root.querySelectorAll("svg title")].map((t) => t.textContent).filter((t) => t!.includes("Neuron"));
    expect(titles()).toEqual(["Neuron 1 — click to fold", "Neuron 2 — click to open"]);
    const node = (unit: number) => root.querySelector<SVGGElement>(`g.mgw-gnode[data-unit="${unit}"]`)!;
    const boxTitle = root.querySelector<SVGTextElement>(".mgw-gbox-title")!;
    boxTitle.dispatchEvent(new MouseEvent("click")); // live: Python folds it
    expect(model.sent).toEqual([{ type: "toggle", scope: 1 }]);
    model.sent.length = 0;
    node(1).dispatchEvent(new MouseEvent("mouseenter"));
    expect(root.querySelector(".mgw-graph-details")!.textContent).toContain("Click the dashed box to open this group.");
    node(1).dispatchEvent(new MouseEvent("mouseleave"));

    model.emit("comm_live_update");
    frames.run();
    expect(titles()).toEqual(["Neuron 1 (opening and folding need the kernel)", "Neuron 2 (opening and folding need the kernel)"]);
    boxTitle.dispatchEvent(new MouseEvent("click"));
    node(1).dispatchEvent(new MouseEvent("click"));
    const boundary = joinLink("lost-link", () => {});
    boundary.publish({ kind: "sample", index: 5 }); // inspected in the boundary: no Python to rebuild
    boundary.close();
    node(0).dispatchEvent(new MouseEvent("click"));
    frames.run();
    expect(model.sent).toEqual([]);
    expect(node(0).classList.contains("is-selected")).toBe(true); // selected here instead
    expect(root.querySelector(".mgw-graph-detail-title")!.textContent).toBe("w");
    expect(root.querySelector(".mgw-graph-check")).toBeNull(); // the numeric check needs Python
    node(0).dispatchEvent(new MouseEvent("click")); // a second click clears it, as live
    frames.run();
    expect(node(0).classList.contains("is-selected")).toBe(false);
    node(1).dispatchEvent(new MouseEvent("mouseenter"));
    expect(root.querySelector(".mgw-graph-details")!.textContent).toContain("Opening a group needs the kernel.");
    expect(model.sent).toEqual([]);
  });

  it("shows the numeric check of a leaf and asks Python for it", () => {
    const { model, frames, root } = mount();
    model.update({ selected: 0, check: { unit: 0, name: "a", autograd: 6, numeric: 6.0000001, h: 6e-6, relative_error: 1.7e-8, note: "" } });
    frames.run();
    const panel = root.querySelector(".mgw-graph-details")!.textContent!;
    expect(panel).toContain("rel. error1.7e-8");
    [...root.querySelectorAll("button")].find((b) => b.textContent === "Check again")!.click();
    expect(model.sent).toEqual([{ type: "check", unit: 0 }]);
  });

  it("shows Python's error in the banner", () => {
    const { model, root } = mount();
    model.set("error", "expected a Value, got int");
    const banner = root.querySelector(".mgw-error") as HTMLElement;
    expect(banner.hidden).toBe(false);
    expect(banner.textContent).toBe("expected a Value, got int");
  });

  it("cleanup detaches every listener and drops queued frames", () => {
    const { model, frames, cleanup } = mount();
    model.set("numbers", bytes(buffer));
    expect(frames.pending).toBe(1);
    cleanup();
    expect(model.listenerCount()).toBe(0);
    expect(frames.pending).toBe(0);
  });
});
