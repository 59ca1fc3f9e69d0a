// The shell every widget view is mounted in, written once: the root element, the error banner
// bound to the `error` trait, redraws coalesced to one per animation frame (also after a theme
// switch: canvases read theme colours when drawing), and one cleanup for all of it.
import { onChange, type AnyModel } from "./anywidget";
import { h, showText } from "./dom";

export interface ViewOptions {
  /** Classes after "mgw-root", e.g. "mgw-graph". */
  className: string;
  /** Draws the view from the model's state; runs at most once per animation frame. */
  draw: () => void;
}

export interface ViewShell<State extends object> {
  /** The root element, already in the cell, with the error banner as its first child. */
  root: HTMLDivElement;
  /** Ask for a redraw: `draw` runs once in the next animation frame, however often this is called. */
  redraw(): void;
  /** Call `callback` on a change of any of `keys`, until cleanup. */
  onChange(keys: (keyof State & string)[], callback: () => void): void;
  /** Call `callback` on a model event (e.g. "msg:custom"), until cleanup. */
  on(event: string, callback: (...args: any[]) => void): void;
  /** Remove every listener and drop a queued redraw; the render function returns it. */
  cleanup(): void;
}

/** Mount the shell into `el`. Build the widget's elements into `root`, then call `redraw()`. */
export function mountView<State extends { error: string }>(
  model: AnyModel<State>,
  el: HTMLElement,
  { className, draw }: ViewOptions,
): ViewShell<State> {
  const banner = h("div", { class: "mgw-error", role: "alert" });
  const root = h("div", { class: `mgw-root ${className}` }, [banner]);
  el.append(root);

  let frame = 0; // the queued redraw's request id, 0 for none
  const redraw = () => {
    frame ||= requestAnimationFrame(() => {
      frame = 0;
      draw();
    });
  };
  const showError = () => showText(banner, model.get("error") || "");
  showError();
  const cleanups = [() => cancelAnimationFrame(frame), onThemeChange(redraw), onChange(model, ["error"], showError)];
  const addCleanup = (cleanup: () => void) => void cleanups.push(cleanup);
  return {
    root,
    redraw,
    onChange: (keys, callback) => addCleanup(onChange(model, keys, callback)),
    on(event, callback) {
      model.on(event, callback);
      addCleanup(() => model.off(event, callback));
    },
    cleanup() {
      for (const off of cleanups.splice(0)) off();
      frame = -1; // removed: no more redraws
    },
  };
}

/**
 * Call `callback` when JupyterLab switches theme (it renames data-jp-theme-name on the body).
 * Returns a function that stops watching.
 */
function onThemeChange(callback: () => void): () => void {
  const observer = new MutationObserver(callback);
  observer.observe(document.body, { attributeFilter: ["data-jp-theme-name"] });
  return () => observer.disconnect();
}
