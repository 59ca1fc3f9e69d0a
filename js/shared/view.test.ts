// The view shell every widget mounts: root, error banner, coalesced redraws, theme, cleanup.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { h } from "./dom";
import { fakeAnimationFrames, fakeModel, type FakeFrames } from "./testing";
import { KERNEL_LOST_TEXT, mountView, NEEDS_KERNEL } from "./view";

let frames: FakeFrames;
const cleanups: (() => void)[] = [];
beforeEach(() => {
  frames = fakeAnimationFrames();
});
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  document.body.replaceChildren();
  for (const key of Object.keys(document.body.dataset)) delete document.body.dataset[key];
});

/** MutationObserver callbacks run as a microtask. */
const flushObservers = () => new Promise((resolve) => setTimeout(resolve, 0));

interface TestState {
  error: string;
  step: number;
}

function mount(error = "") {
  const model = fakeModel<TestState>({ error, step: 0 });
  const el = document.createElement("div");
  document.body.append(el);
  const draw = vi.fn();
  const shell = mountView<TestState>(model, el, { className: "mgw-test", draw });
  cleanups.push(shell.cleanup);
  return { model, el, draw, shell };
}

describe("mountView", () => {
  it("mounts one root with its classes, the error banner first", () => {
    const { el, shell } = mount();
    expect(el.children).toHaveLength(1);
    expect(el.firstElementChild).toBe(shell.root);
    expect(shell.root.className).toBe("mgw-root mgw-test");
    const banner = shell.root.firstElementChild as HTMLElement;
    expect(banner.classList.contains("mgw-error")).toBe(true);
    expect(banner.getAttribute("role")).toBe("alert");
    expect(banner.hidden).toBe(true);
  });

  it("shows the error trait in the banner as text, and hides it when cleared", () => {
    const { model, shell } = mount("bad <b>input</b>");
    const banner = shell.root.querySelector(".mgw-error") as HTMLElement;
    expect(banner.hidden).toBe(false);
    expect(banner.textContent).toBe("bad <b>input</b>");
    expect(banner.querySelector("b")).toBeNull();
    model.set("error", "");
    expect(banner.hidden).toBe(true);
    model.set("error", "expected a Value");
    expect(banner.hidden).toBe(false);
    expect(banner.textContent).toBe("expected a Value");
  });

  it("coalesces redraws into one draw per animation frame", () => {
    const { model, draw, shell } = mount();
    shell.onChange(["step"], shell.redraw);
    shell.redraw();
    model.set("step", 1);
    model.set("step", 2);
    expect(draw).not.toHaveBeenCalled();
    frames.run();
    expect(draw).toHaveBeenCalledTimes(1);
    frames.run();
    expect(draw).toHaveBeenCalledTimes(1);
    model.set("step", 3);
    frames.run();
    expect(draw).toHaveBeenCalledTimes(2);
  });

  it("redraws on a theme switch (canvases read theme colours when drawing)", async () => {
    const { draw } = mount();
    document.body.dataset.jpThemeName = "JupyterLab Dark";
    await flushObservers();
    frames.run();
    expect(draw).toHaveBeenCalledTimes(1);
    document.body.dataset.other = "x"; // not a theme attribute
    await flushObservers();
    frames.run();
    expect(draw).toHaveBeenCalledTimes(1);
    document.body.dataset.jpThemeName = "JupyterLab Light";
    await flushObservers();
    frames.run();
    expect(draw).toHaveBeenCalledTimes(2);
  });

  it("cleanup removes every listener, cancels a queued redraw and stops watching the theme", async () => {
    const { model, draw, shell } = mount();
    const onMessage = vi.fn();
    shell.onChange(["step"], shell.redraw);
    shell.on("msg:custom", onMessage);
    expect(model.listenerCount()).toBe(4); // error, comm_live_update, step, msg:custom
    shell.redraw();
    expect(frames.pending).toBe(1);

    shell.cleanup();
    expect(model.listenerCount()).toBe(0);
    expect(frames.pending).toBe(0);
    frames.run();
    model.set("step", 1);
    model.emit("msg:custom", { type: "export_svg" });
    document.body.dataset.jpThemeName = "JupyterLab Dark";
    await flushObservers();
    frames.run();
    expect(draw).not.toHaveBeenCalled();
    expect(onMessage).not.toHaveBeenCalled();
    shell.redraw(); // e.g. a DOM event after removal
    expect(frames.pending).toBe(0);
    shell.cleanup(); // a second cleanup is harmless
  });

  it("tells Python when the view attaches and when it is removed, with one id per view", () => {
    const first = mount();
    const second = mount();
    const [attached] = first.model.lifecycle;
    expect(attached).toMatchObject({ type: "view", event: "attached" });
    expect(typeof attached.view).toBe("string");
    expect(second.model.lifecycle[0].view).not.toBe(attached.view);
    first.shell.cleanup();
    expect(first.model.lifecycle).toEqual([attached, { type: "view", event: "detached", view: attached.view }]);
    first.shell.cleanup(); // a second cleanup sends nothing more
    expect(first.model.lifecycle).toHaveLength(2);
    expect(first.model.sent).toEqual([]);
  });

  it("once the kernel is gone, says so and disables the controls that need it, also after a redraw", () => {
    const { model, draw, shell } = mount();
    const needsKernel = h("button", { [NEEDS_KERNEL]: true });
    const local = h("input", { type: "range" });
    shell.root.append(needsKernel, local);
    draw.mockImplementation(() => {
      needsKernel.disabled = false; // a view enabling its button from the state it draws
    });
    const notice = shell.root.querySelector(".mgw-kernel-lost") as HTMLElement;
    expect([notice.hidden, shell.root.dataset.kernel, shell.kernelLost()]).toEqual([true, "live", false]);

    model.emit("comm_live_update");
    expect([notice.hidden, shell.root.dataset.kernel, shell.kernelLost()]).toEqual([false, "lost", true]);
    expect(notice.textContent).toBe(KERNEL_LOST_TEXT);
    expect(needsKernel.disabled).toBe(true);
    frames.run();
    expect(draw).toHaveBeenCalled();
    expect(needsKernel.disabled).toBe(true);
    expect(local.disabled).toBe(false); // scrubbing works without Python
  });

  it("also notices a kernel shut down or dead, through the widget manager's kernel connection", () => {
    const slots = { disposed: [] as (() => void)[], status: [] as ((k: unknown, s: string) => void)[] };
    const signal = <T>(list: T[]) => ({
      connect: (slot: T) => void list.push(slot),
      disconnect: (slot: T) => void list.splice(list.indexOf(slot), 1),
    });
    const kernel = { isDisposed: false, disposed: signal(slots.disposed), statusChanged: signal(slots.status) };
    const mountWith = () => {
      const model = fakeModel<TestState>({ error: "", step: 0 });
      model.widget_manager = { kernel };
      const el = document.createElement("div");
      document.body.append(el);
      const shell = mountView<TestState>(model, el, { className: "mgw-test", draw: vi.fn() });
      cleanups.push(shell.cleanup);
      return shell;
    };
    const shutDown = mountWith();
    expect([slots.disposed.length, slots.status.length]).toEqual([1, 1]);
    for (const slot of [...slots.status]) slot(kernel, "busy");
    expect(shutDown.kernelLost()).toBe(false);
    for (const slot of [...slots.disposed]) slot();
    expect([shutDown.kernelLost(), shutDown.root.dataset.kernel]).toEqual([true, "lost"]);
    shutDown.cleanup();
    expect([slots.disposed.length, slots.status.length]).toEqual([0, 0]);

    const died = mountWith();
    for (const slot of [...slots.status]) slot(kernel, "dead");
    expect(died.kernelLost()).toBe(true);
    died.cleanup();
    kernel.isDisposed = true; // a view rendered after its kernel went
    expect(mountWith().kernelLost()).toBe(true);
  });
});
