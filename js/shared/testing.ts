// Test doubles shared by the view tests: an anywidget model held in memory, animation frames that
// run only when the test says so, and a view rendered on both. vitest.config.ts undoes the stubs
// after each test (unstubGlobals, restoreMocks).
import { vi } from "vitest";
import type { AnyModel, Render } from "./anywidget";
import { events, type Listener } from "./events";

export interface FakeModel<State extends object> extends AnyModel<State> {
  /** Every message the view sent, in order, but its life reports (below). */
  readonly sent: any[];
  /** The shell's {type: "view", event: "attached" | "detached"} reports, in order. */
  readonly lifecycle: any[];
  /** Set several traits, then fire their change events: one state message from Python. */
  update(changes: Partial<State>): void;
  /** Fire a model event, e.g. `emit("msg:custom", { type: "export_svg" })`. */
  emit(event: string, ...args: unknown[]): void;
  /** Listeners still attached (a view's cleanup must bring this back to 0). */
  listenerCount(): number;
}

export function fakeModel<State extends object>(state: State): FakeModel<State> {
  const listeners = new Map<string, Listener[]>();
  const { on, off, emit } = events(listeners);
  const sent: any[] = [];
  const lifecycle: any[] = [];
  const model: FakeModel<State> = {
    sent,
    lifecycle,
    get: (key) => state[key],
    set: (key, value) => model.update({ [key]: value } as unknown as Partial<State>),
    save_changes: () => {},
    on,
    off,
    send: (content) => void ((content as { type?: string })?.type === "view" ? lifecycle : sent).push(content),
    update(changes) {
      Object.assign(state, changes);
      for (const key of Object.keys(changes)) model.emit(`change:${key}`, model, state[key as keyof State]);
    },
    emit,
    listenerCount: () => [...listeners.values()].reduce((n, callbacks) => n + callbacks.length, 0),
  };
  return model;
}

export interface FakeFrames {
  /** Run the callbacks queued so far (new requests wait for the next run). */
  run(): void;
  /** How many callbacks are queued. */
  readonly pending: number;
}

/** Replace requestAnimationFrame with frames the test runs. */
export function fakeAnimationFrames(): FakeFrames {
  const frames = new Map<number, FrameRequestCallback>();
  let nextId = 1;
  vi.stubGlobal("requestAnimationFrame", (cb: FrameRequestCallback) => {
    frames.set(nextId, cb);
    return nextId++;
  });
  vi.stubGlobal("cancelAnimationFrame", (id: number) => frames.delete(id));
  return {
    run() {
      const due = [...frames.values()];
      frames.clear();
      for (const cb of due) cb(0);
    },
    get pending() {
      return frames.size;
    },
  };
}

/** jsdom has no 2-D canvas: every getContext answers `context` (null: nothing is drawn). */
export function stubCanvas(context: unknown = null): void {
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(context as any);
}

export interface RenderedView<State extends object> {
  model: FakeModel<State>;
  el: HTMLElement;
  frames: FakeFrames;
  cleanup: () => void;
}

/** Render `view` in the page on a fake model holding `state`, and run its first frame. */
export function renderView<State extends object>(view: { render: Render<State> }, state: State): RenderedView<State> {
  const frames = fakeAnimationFrames();
  stubCanvas();
  const model = fakeModel(state);
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = view.render({ model, el }) as () => void;
  frames.run();
  return { model, el, frames, cleanup };
}
