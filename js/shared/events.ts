// The event registry of a model held in the page (an exported page's offline model, the tests'
// fake): anywidget's on/off, and emit to call the listeners of one event.
export type Listener = (...args: any[]) => void;

export interface Events {
  on(event: string, callback: Listener): void;
  off(event?: string | null, callback?: Listener | null): void;
  emit(event: string, ...args: unknown[]): void;
}

/** `listeners`: where they are kept (the tests pass their own, to count them). */
export function events(listeners = new Map<string, Listener[]>()): Events {
  return {
    on(event, callback) {
      listeners.set(event, [...(listeners.get(event) ?? []), callback]);
    },
    off(event, callback) {
      if (event == null) listeners.clear();
      else if (callback == null) listeners.delete(event);
      else listeners.set(event, (listeners.get(event) ?? []).filter((cb) => cb !== callback));
    },
    emit(event, ...args) {
      for (const callback of [...(listeners.get(event) ?? [])]) callback(...args);
    },
  };
}
