// The slice of anywidget's front-end API the views use (kept local: no runtime dependency).
export interface AnyModel<State extends object = Record<string, unknown>> {
  get<K extends keyof State & string>(key: K): State[K];
  set<K extends keyof State & string>(key: K, value: State[K]): void;
  save_changes(): void;
  on(event: string, callback: (...args: any[]) => void): void;
  off(event?: string | null, callback?: ((...args: any[]) => void) | null): void;
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): void;
  /** ipywidgets' widget manager, which anywidget passes on (its shape depends on the front-end). */
  widget_manager?: unknown;
}

export interface RenderProps<State extends object = Record<string, unknown>> {
  model: AnyModel<State>;
  el: HTMLElement;
}

/** A view's render function; it returns its cleanup. */
export type Render<State extends object = Record<string, unknown>> = (
  props: RenderProps<State>,
) => void | (() => void) | Promise<void | (() => void)>;

/** Listen to `change:<key>` for several keys; returns a function that removes the listeners. */
export function onChange<State extends object>(
  model: AnyModel<State>,
  keys: (keyof State & string)[],
  callback: () => void,
): () => void {
  for (const key of keys) model.on(`change:${key}`, callback);
  return () => {
    for (const key of keys) model.off(`change:${key}`, callback);
  };
}

/** Send a user action to Python as a custom message: `{type, ...payload}`. */
export function sendAction(model: AnyModel<any>, type: string, payload: object = {}): void {
  model.send({ type, ...payload });
}
