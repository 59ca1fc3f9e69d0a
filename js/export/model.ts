// The offline page's stand-in for anywidget's model: a widget's saved state, held in the page.
// get/set/on/off work locally (a view's own state changes, e.g. a heatmap mode switch, still
// redraw it); send goes nowhere, because no Python is behind an exported page. The widget manager
// it offers says so: the view shell (js/shared/view.ts) sees a disposed kernel at once, disables
// every control that needs Python and shows `noKernelText`.
import type { AnyModel } from "../shared/anywidget";
import { events } from "../shared/events";

/** One binary trait of a saved widget, as Jupyter stores it in a notebook (base64). */
export interface SavedBuffer {
  path: (string | number)[];
  data: string;
  encoding?: string;
}

/** A widget's saved model: its state without the binary traits, and those apart. */
export interface SavedWidget {
  /** Key of its front-end module in {@link OfflineData.modules}. */
  module: string;
  state: Record<string, unknown>;
  buffers?: SavedBuffer[];
}

/** What the page carries, as JSON in <script id="mgw-offline-data">. */
export interface OfflineData {
  /** Each view module once: its ES module source. */
  modules: Record<string, { esm: string }>;
  widgets: Record<string, SavedWidget>;
  /** The notice the views show where a live one would say the kernel is gone. */
  notice?: string;
}

export const OFFLINE_NOTICE =
  "Saved page: no Python runs behind this view. Scrubbing, hover and zoom work; the controls " +
  "that need Python are off.";

/** Bytes of a base64 string, as the DataView a bytes trait arrives as in a live view. */
export function decodeBase64(data: string): DataView {
  const text = atob(data);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return new DataView(bytes.buffer);
}

/** The state a live view would see: each buffer put back at its path, as a DataView. */
export function restoreState(saved: SavedWidget): Record<string, unknown> {
  const state: Record<string, unknown> = structuredClone(saved.state);
  for (const buffer of saved.buffers ?? []) {
    if (buffer.encoding && buffer.encoding !== "base64") {
      throw new Error(`a saved buffer must be base64-encoded, got encoding ${buffer.encoding}`);
    }
    if (buffer.path.length === 0) throw new Error("a saved buffer has an empty path");
    let target = state as Record<string | number, unknown>;
    for (const key of buffer.path.slice(0, -1)) {
      target = (target[key] ??= {}) as Record<string | number, unknown>;
    }
    target[buffer.path[buffer.path.length - 1]] = decodeBase64(buffer.data);
  }
  return state;
}

export interface OfflineModel extends AnyModel<Record<string, unknown>> {
  /** Messages the view tried to send to Python (nobody receives them). */
  readonly unsent: unknown[];
}

/** A model over `state` with no kernel behind it. */
export function offlineModel(state: Record<string, unknown>, notice = OFFLINE_NOTICE): OfflineModel {
  const { on, off, emit } = events();
  const unsent: unknown[] = [];
  const model: OfflineModel = {
    unsent,
    get: (key) => state[key],
    set(key, value) {
      if (state[key] === value) return;
      state[key] = value;
      emit(`change:${key}`, model, value);
      emit("change", model);
    },
    save_changes() {},
    on,
    off,
    send(content) {
      unsent.push(content);
    },
    // what the view shell reads: a kernel that is already gone, and what to say about it
    widget_manager: { kernel: { isDisposed: true }, noKernelText: notice },
  };
  return model;
}
