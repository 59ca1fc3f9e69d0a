// Views of one Trainer talk to each other in the page, without the kernel: one timeline (every
// view shows the same recorded step), hover links (a neuron's heatmap row <-> its line on the
// plane) and the inspected sample. So it works while a cell blocks the kernel, in a saved
// notebook and in an exported HTML file alike.
//
// Each widget is its own bundle with its own copy of this module, so the channel is the page's:
// CustomEvents on `window`, named by the trainer's link id (a trait every linked widget gets from
// Python), plus the last message of each kind, so a view rendered later starts in step.

/** The messages linked views exchange. */
export type LinkMessage =
  /** Show recorded step `step` (null: back to live). */
  | { kind: "timeline"; step: number | null }
  /** The pointer is on neuron `neuron` of layer `layer` (null: on none). */
  | { kind: "neuron"; layer: number; neuron: number | null }
  /** Training point `index` is inspected (null: none). */
  | { kind: "sample"; index: number | null };

export type LinkKind = LinkMessage["kind"];

export interface Link {
  /** Tell every other view on this link (not this one). */
  publish(message: LinkMessage): void;
  /** The last message of `kind` anyone published on this link, if any. */
  last<K extends LinkKind>(kind: K): Extract<LinkMessage, { kind: K }> | undefined;
  /** Stop listening (a view's cleanup). */
  close(): void;
}

interface Envelope {
  message: LinkMessage;
  from: symbol;
}

const EVENT_PREFIX = "mgw-link:";
const STORE = "__mgwLinkLast";

function lastMessages(id: string): Map<LinkKind, LinkMessage> {
  const host = globalThis as unknown as Record<string, Map<string, Map<LinkKind, LinkMessage>> | undefined>;
  const store = (host[STORE] ??= new Map());
  let perLink = store.get(id);
  if (!perLink) store.set(id, (perLink = new Map()));
  return perLink;
}

/**
 * Join link `id` ("" joins nothing: every call is a no-op). `onMessage` receives what the other
 * views publish, never this view's own messages.
 */
export function joinLink(id: string, onMessage: (message: LinkMessage) => void): Link {
  const self = Symbol("mgw-link-view");
  if (!id) {
    return { publish() {}, last: () => undefined, close() {} };
  }
  const name = EVENT_PREFIX + id;
  const listener = (event: Event) => {
    const { message, from } = (event as CustomEvent<Envelope>).detail;
    if (from !== self) onMessage(message);
  };
  globalThis.addEventListener(name, listener);
  return {
    publish(message) {
      lastMessages(id).set(message.kind, message);
      globalThis.dispatchEvent(new CustomEvent<Envelope>(name, { detail: { message, from: self } }));
    },
    last: <K extends LinkKind>(kind: K) =>
      lastMessages(id).get(kind) as Extract<LinkMessage, { kind: K }> | undefined,
    close() {
      globalThis.removeEventListener(name, listener);
    },
  };
}
