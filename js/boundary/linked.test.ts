// The boundary view's linked behaviour in jsdom: Inspect, hover, the shared timeline, neuron
// lines and thumbnails, the speed control and k classes. Link messages travel in the page
// (../shared/link.ts); a second "view" here is a plain joinLink listener.
import { describe, expect, it, vi } from "vitest";
import { joinLink, type LinkMessage } from "../shared/link";
import { renderView } from "../shared/testing";
import { QUIET_STATE } from "./testing";
import type { BoundaryState } from "./types";
import view from "./widget";

const f32 = (values: number[]) => new DataView(new Float32Array(values).buffer);
const u8 = (values: number[]) => new DataView(new Uint8Array(values).buffer);
const i8 = (values: number[]) => new DataView(new Int8Array(values).buffer);
let linkCount = 0;
const last = <T>(list: T[]): T | undefined => list[list.length - 1];

const state = (overrides: Partial<BoundaryState> = {}): BoundaryState => ({
  ...QUIET_STATE,
  extent: [0, 4, 0, 4],
  frame: f32([1, -1, 1, -1]),
  points: f32([1, 3, 3, 1]), // on a 360-px plot: (90, 90) and (270, 270)
  labels: i8([1, -1]),
  step: 9,
  metrics: {},
  current: {},
  next_lr: 0.1,
  curves: f32([0, 1, 0.5, NaN, NaN, 4, 0.5, 0.75, NaN, NaN, 8, 0.25, 1, NaN, NaN]),
  lr_schedule: "",
  recording: u8([255, 255, 255, 255, 1, 1, 1, 1, 128, 128, 128, 128]),
  recording_meta: f32([0, 1, 1, 0.5, 4, 1, 0.5, 0.75, 8, 1, 0.25, 1]),
  link: `test-link-${++linkCount}`,
  point_scores: f32([0.75, -2]),
  point_losses: f32([0.25, 0]),
  first_layer: f32([1, 0, -2, 0, 1, -1]), // x = 2 (vertical, middle), y = 1
  ...overrides,
});

/** A 2-D context that accepts every call and draws nothing (jsdom has no canvas). */
function fakeContext(): unknown {
  return new Proxy({}, { get: (_, key) => (key === "canvas" ? undefined : () => {}) , set: () => true });
}

function render(overrides: Partial<BoundaryState> = {}) {
  const rendered = renderView(view, state(overrides));
  vi.stubGlobal("ImageData", class { constructor(public data: unknown, public width: number, public height: number) {} });
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(fakeContext() as any);
  const canvas = rendered.el.querySelector("canvas.mgw-boundary-canvas") as HTMLCanvasElement;
  canvas.getBoundingClientRect = () => ({ left: 0, top: 0, width: 360, height: 360 }) as DOMRect;
  const root = rendered.el.querySelector(".mgw-boundary") as HTMLElement;
  const heard: LinkMessage[] = [];
  const other = joinLink(rendered.model.get("link"), (m) => heard.push(m));
  rendered.model.set("step", 9); // a redraw with the drawing context in place
  rendered.frames.run();
  return { ...rendered, canvas, root, heard, other };
}

const named = (el: HTMLElement, text: string) => [...el.querySelectorAll("button")].find((b) => b.textContent === text)!;

describe("Inspect", () => {
  it("a click near a point selects it (ring, select message, sample link); a far click nothing", () => {
    const { model, el, canvas, root, heard, frames } = render();
    named(el, "Inspect").click();
    canvas.dispatchEvent(new MouseEvent("click", { clientX: 275, clientY: 266 })); // 6 px off point 1
    frames.run();
    expect(model.sent).toEqual([{ type: "select", index: 1 }]);
    expect(heard).toContainEqual({ kind: "sample", index: 1 });
    expect(root.dataset.selected).toBe("1");
    canvas.dispatchEvent(new MouseEvent("click", { clientX: 180, clientY: 20 })); // far from both
    frames.run();
    expect(model.sent).toHaveLength(1); // nothing selected, no point added
    expect(root.dataset.selected).toBe("1");
  });

  it("follows Python's selected and other views' sample messages", () => {
    const { model, root, heard, other, frames } = render();
    model.set("selected", 0);
    frames.run();
    expect(root.dataset.selected).toBe("0");
    expect(heard).toContainEqual({ kind: "sample", index: 0 }); // followed graphs switch at once
    other.publish({ kind: "sample", index: 1 });
    frames.run();
    expect(root.dataset.selected).toBe("1");
    expect(model.sent).toEqual([{ type: "select", index: 1 }]); // Python's trait follows
    other.publish({ kind: "sample", index: 7 }); // out of range: nothing inspected
    frames.run();
    expect(root.dataset.selected).toBe("");
  });
});

describe("hover", () => {
  it("shows a point's coordinates, label, score and loss as text", () => {
    const { canvas, root, el } = render();
    canvas.dispatchEvent(new MouseEvent("mousemove", { clientX: 92, clientY: 88 }));
    const tip = el.querySelector(".mgw-boundary-tooltip") as HTMLElement;
    expect(tip.hidden).toBe(false);
    expect(tip.textContent).toBe("point 0 · (1, 3)\nlabel +1 · score 0.75\nloss 0.25 (now)");
    expect(root.dataset.tooltip).toBe(tip.textContent);
    canvas.dispatchEvent(new MouseEvent("mousemove", { clientX: 180, clientY: 180 }));
    expect(tip.hidden).toBe(true);
  });
});

describe("one timeline", () => {
  it("the slider, the curves and Live publish timeline messages and move this view", () => {
    const { el, root, heard, frames } = render();
    const slider = el.querySelector(".mgw-boundary-slider") as HTMLInputElement;
    slider.value = "1";
    slider.dispatchEvent(new Event("input"));
    frames.run();
    expect(last(heard)).toEqual({ kind: "timeline", step: 4 });
    expect(root.dataset.scrubStep).toBe("4");
    const chart = el.querySelector("canvas[aria-label='loss curve']") as HTMLCanvasElement;
    chart.getBoundingClientRect = () => ({ left: 0, top: 0, width: 280, height: 150 }) as DOMRect;
    // the plot area runs from x = 40 to 274 over steps 0..8: x = 40 + 234 · 7/8 is step 7
    chart.dispatchEvent(new MouseEvent("pointerdown", { clientX: 40 + (234 * 7) / 8, clientY: 50 }));
    frames.run();
    expect(last(heard)).toEqual({ kind: "timeline", step: 7 });
    expect(root.dataset.scrubStep).toBe("4"); // the nearest recorded frame at or before 7
    named(el, "Live").click();
    frames.run();
    expect(last(heard)).toEqual({ kind: "timeline", step: null });
    expect(root.dataset.scrubStep).toBeUndefined();
  });

  it("another view's timeline message moves this view, without the kernel", () => {
    const { model, root, other, frames } = render();
    model.emit("comm_live_update"); // the kernel is gone
    other.publish({ kind: "timeline", step: 9 });
    frames.run();
    expect(root.dataset.scrubStep).toBe("8");
    other.publish({ kind: "timeline", step: 3 });
    frames.run();
    expect(root.dataset.scrubStep).toBe("0");
    other.publish({ kind: "timeline", step: null });
    frames.run();
    expect(root.dataset.scrubStep).toBeUndefined();
    expect(model.sent).toEqual([]);
  });

  it("a view rendered later starts at the timeline's step", () => {
    const first = render();
    first.other.publish({ kind: "timeline", step: 5 });
    const second = renderView(view, state({ link: first.model.get("link") }));
    expect((second.el.querySelector(".mgw-boundary") as HTMLElement).dataset.scrubStep).toBe("4");
  });
});

describe("first-layer neuron lines", () => {
  it("draws one line per neuron, highlights the hovered one and tells the other views", () => {
    const { el, canvas, root, heard, frames } = render();
    expect(root.dataset.linesDrawn).toBe("0");
    named(el, "Neuron lines").click();
    frames.run();
    expect(root.dataset.linesDrawn).toBe("2");
    canvas.dispatchEvent(new MouseEvent("mousemove", { clientX: 182, clientY: 40 })); // near x = 2
    frames.run();
    expect(last(heard)).toEqual({ kind: "neuron", layer: 0, neuron: 0 });
    expect(root.dataset.highlightedLine).toBe("0");
    canvas.dispatchEvent(new MouseEvent("mouseleave"));
    frames.run();
    expect(last(heard)).toEqual({ kind: "neuron", layer: 0, neuron: null });
  });

  it("a neuron message from the heatmap highlights that line", () => {
    const { root, other, frames } = render();
    other.publish({ kind: "neuron", layer: 0, neuron: 1 });
    frames.run();
    expect(root.dataset.highlightedLine).toBe("1");
    expect(root.dataset.linesDrawn).toBe("1"); // drawn even with the lines off
    other.publish({ kind: "neuron", layer: 1, neuron: 1 }); // a deeper layer: no line
    frames.run();
    expect(root.dataset.highlightedLine).toBe("");
  });
});

describe("thumbnails", () => {
  it("one per hidden neuron; hover shows it big and publishes it", () => {
    const { model, el, root, heard, frames } = render();
    model.update({ neurons: true, neuron_layers: [2, 1], neuron_scales: [1, 1, 1], neuron_frames: u8(Array(12).fill(200)) });
    frames.run();
    const thumbs = [...el.querySelectorAll(".mgw-boundary-thumb")] as HTMLCanvasElement[];
    expect(thumbs).toHaveLength(3);
    expect(root.dataset.thumbnails).toBe("3");
    thumbs[2].dispatchEvent(new MouseEvent("mouseenter"));
    frames.run();
    expect(root.dataset.bigNeuron).toBe("1.0");
    expect(last(heard)).toEqual({ kind: "neuron", layer: 1, neuron: 0 });
    expect(el.querySelector(".mgw-boundary-caption")!.textContent).toBe("layer 1, neuron 0: its output");
    thumbs[2].dispatchEvent(new MouseEvent("mouseleave"));
    frames.run();
    expect(root.dataset.bigNeuron).toBe("");
  });
});

describe("speed", () => {
  it("sends the picked speed and shows the trainer's", () => {
    const { model, el, root, frames } = render();
    const select = el.querySelector(".mgw-boundary-speed") as HTMLSelectElement;
    expect([...select.options].map((o) => o.value)).toEqual(["1", "10", "30", "100", "max"]);
    expect(select.value).toBe("max");
    select.value = "10";
    select.dispatchEvent(new Event("change"));
    expect(model.sent).toEqual([{ type: "set_speed", value: 10 }]);
    model.set("speed", 2.5); // set in Python to a value the menu lacks
    frames.run();
    expect([select.value, root.dataset.speed]).toEqual(["2.5", "2.5"]);
  });
});

describe("k classes", () => {
  const three = (): Partial<BoundaryState> => ({
    classes: 3,
    labels: i8([2, 0]),
    point_scores: f32([0.1, 0.2, 0.7, 0.5, 0.3, 0.2]),
    point_losses: f32([0.36, 0.69]),
    class_frame: u8([0, 1, 2, 2, 255, 100, 50, 0]),
    recording: u8([0, 0, 0, 0, 9, 9, 9, 9]),
    recording_meta: f32([0, 1, 1.1, 0.3]),
    confusion: [[1, 0, 0], [0, 0, 0], [0, 0, 1]],
    test_confusion: [[2, 1, 0], [0, 3, 0], [0, 0, 4]],
  });

  it("shows a class legend, a class picker and the confusion matrices, as text", () => {
    const { model, el, canvas, root, frames } = render(three());
    expect(root.dataset.classes).toBe("3");
    const keys = el.querySelector(".mgw-boundary-class-keys") as HTMLElement;
    expect(keys.hidden).toBe(false);
    expect(keys.textContent).toContain("class 0 class 1 class 2 ");
    const picker = el.querySelector(".mgw-boundary-class") as HTMLSelectElement;
    expect([...picker.options].map((o) => o.value)).toEqual(["0", "1", "2"]);
    expect(picker.value).toBe("0"); // a class is picked from the start
    picker.value = "2";
    canvas.dispatchEvent(new MouseEvent("click", { clientX: 180, clientY: 180, shiftKey: true }));
    expect(model.sent).toEqual([{ type: "add_point", x: 2, y: 2, label: 2 }]);
    const tables = [...el.querySelectorAll(".mgw-boundary-confusion-table")];
    expect(tables).toHaveLength(2);
    expect(tables[1].textContent).toBe("true ╲ pred012021010302004");
    canvas.dispatchEvent(new MouseEvent("mousemove", { clientX: 90, clientY: 90 }));
    frames.run();
    expect(root.dataset.tooltip).toBe("point 0 · (1, 3)\nclass 2 · p(class 2) 0.7 · predicted 2\nloss 0.36 (now)");
  });

  it("the discretise toggle is the view's, and the recording scrubs", () => {
    const { el, root, frames } = render(three());
    named(el, "Discretise").click();
    frames.run();
    expect(root.dataset.discrete).toBe("true");
    expect(el.querySelector(".mgw-boundary-class-keys")!.textContent).toContain("(colour: the predicted class)");
    expect(root.dataset.recorded).toBe("1");
  });
});
