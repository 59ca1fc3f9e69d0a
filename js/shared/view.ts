// The shell every widget view is mounted in, written once: the root element, the error banner
// bound to the `error` trait, redraws coalesced to one per animation frame (also after a theme
// switch: canvases read theme colours when drawing), and one cleanup for all of it.
//
// It also reports the view's life to Python ({type: "view", event: "attached" | "detached"}), so
// a widget whose views are all gone stops computing frames, and shows when the kernel is gone:
// ipywidgets fires `comm_live_update` on the model when the kernel restarts (the only change of
// comm_live after a model is made is to false); a shutdown fires nothing there, but the kernel
// connection that JupyterLab's widget manager exposes (`widget_manager.kernel`) is then disposed.
// Either way the shell disables every control marked with `data-needs-kernel` (what works without
// Python, scrubbing, hover and zoom, stays on).
import { onChange, type AnyModel } from "./anywidget";
import { h, showText } from "./dom";

/** Mark a control that needs the kernel: the shell disables it once the kernel is gone. */
export const NEEDS_KERNEL = "data-needs-kernel";

export const KERNEL_LOST_TEXT =
  "The kernel is gone (restarted or shut down): this shows the last state it sent, and the " +
  "controls that need Python are off. Run the cell again to get a live widget.";

/** The slice of a Lumino signal used here. */
interface Signal<Args extends unknown[]> {
  connect(slot: (...args: Args) => void): unknown;
  disconnect(slot: (...args: Args) => void): unknown;
}

/** What JupyterLab's kernel connection (IKernelConnection) offers that the shell watches. */
interface KernelConnection {
  isDisposed?: boolean;
  disposed?: Signal<[unknown]>;
  statusChanged?: Signal<[unknown, string]>;
}

/**
 * Call `onLost` when the kernel behind `model` is shut down, dies or restarts, where the
 * front-end's widget manager exposes its kernel connection (JupyterLab, Notebook 7). Returns a
 * function that stops watching.
 */
function watchKernel(model: AnyModel<any>, onLost: () => void): () => void {
  const manager = model.widget_manager as { kernel?: KernelConnection | null } | undefined;
  let kernel: KernelConnection | null | undefined;
  try {
    kernel = manager?.kernel;
  } catch {
    kernel = null; // a manager whose kernel getter fails: rely on comm_live_update alone
  }
  if (!kernel) return () => {};
  if (kernel.isDisposed) onLost();
  const onStatus = (_: unknown, status: string) => {
    if (status === "dead" || status === "restarting" || status === "autorestarting") onLost();
  };
  const onDisposed = () => onLost();
  kernel.statusChanged?.connect(onStatus);
  kernel.disposed?.connect(onDisposed);
  return () => {
    kernel.statusChanged?.disconnect(onStatus);
    kernel.disposed?.disconnect(onDisposed);
  };
}

/** What to say when no kernel is behind the view: an exported page's model says it itself. */
function kernelLostText(model: AnyModel<any>): string {
  const text = (model.widget_manager as { noKernelText?: unknown } | undefined)?.noKernelText;
  return typeof text === "string" ? text : KERNEL_LOST_TEXT;
}

let viewCount = 0;

/** An id for one view, unique in this page and unlike any from an earlier load of it. */
function newViewId(): string {
  viewCount += 1;
  return `${viewCount}-${Math.random().toString(36).slice(2, 10)}`;
}

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
  /** True once the kernel behind this view is gone (restarted or shut down). */
  kernelLost(): boolean;
}

/** Mount the shell into `el`. Build the widget's elements into `root`, then call `redraw()`. */
export function mountView<State extends { error: string }>(
  model: AnyModel<State>,
  el: HTMLElement,
  { className, draw }: ViewOptions,
): ViewShell<State> {
  const banner = h("div", { class: "mgw-error", role: "alert" });
  const kernelNotice = h("div", { class: "mgw-kernel-lost", role: "status", hidden: true }, [kernelLostText(model)]);
  const root = h("div", { class: `mgw-root ${className}` }, [banner, kernelNotice]);
  root.dataset.kernel = "live";
  el.classList.add("mgw-host"); // so theme.css can let an ipywidgets HBox wrap and shrink it
  el.append(root);
  const viewId = newViewId();
  model.send({ type: "view", event: "attached", view: viewId });

  let lost = false;
  // after every draw too: a view's draw may enable a control from the state it shows
  const disableKernelControls = () => {
    if (!lost) return;
    for (const control of root.querySelectorAll<HTMLElement>(`[${NEEDS_KERNEL}]`)) {
      if ("disabled" in control) (control as HTMLButtonElement).disabled = true;
      control.setAttribute("aria-disabled", "true");
    }
  };
  let frame = 0; // the queued redraw's request id, 0 for none
  const redraw = () => {
    frame ||= requestAnimationFrame(() => {
      frame = 0;
      draw();
      disableKernelControls();
    });
  };
  const onKernelLost = () => {
    if (lost) return;
    lost = true;
    root.dataset.kernel = "lost";
    kernelNotice.hidden = false;
    disableKernelControls();
    redraw();
  };
  const showError = () => showText(banner, model.get("error") || "");
  showError();
  model.on("comm_live_update", onKernelLost);
  const stopWatchingKernel = watchKernel(model, onKernelLost);
  const cleanups = [
    stopWatchingKernel,
    () => cancelAnimationFrame(frame),
    onThemeChange(redraw),
    onChange(model, ["error"], showError),
    () => model.off("comm_live_update", onKernelLost),
    () => model.send({ type: "view", event: "detached", view: viewId }),
  ];
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
    kernelLost: () => lost,
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
