// Rate limiting for redraws and outgoing messages.

/** A rate-limited function; `cancel()` drops a call still waiting (for a view's cleanup). */
export interface Throttled<A extends unknown[]> {
  (...args: A): void;
  cancel(): void;
}

/** Call `fn` at most once per animation frame, with the latest arguments. */
export function rafThrottle<A extends unknown[]>(fn: (...args: A) => void): Throttled<A> {
  let pending: A | null = null;
  let frame = 0;
  const throttled = (...args: A) => {
    const first = pending === null;
    pending = args;
    if (first) {
      frame = requestAnimationFrame(() => {
        const a = pending as A;
        pending = null;
        fn(...a);
      });
    }
  };
  return Object.assign(throttled, {
    cancel() {
      if (pending !== null) cancelAnimationFrame(frame);
      pending = null;
    },
  });
}

/** Call `fn` at most once every `ms` milliseconds; the last call in a burst always runs. */
export function throttle<A extends unknown[]>(fn: (...args: A) => void, ms: number): (...args: A) => void {
  let last = -Infinity;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let pending: A | null = null;
  return (...args: A) => {
    const now = Date.now();
    if (now - last >= ms) {
      last = now;
      fn(...args);
      return;
    }
    pending = args;
    if (timer === null) {
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        if (pending) fn(...pending);
        pending = null;
      }, ms - (now - last));
    }
  };
}
