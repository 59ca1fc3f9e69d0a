// A view's cleanup must stop a redraw that is still queued for the next frame.
import { afterEach, describe, expect, it, vi } from "vitest";
import { rafThrottle } from "./throttle";

afterEach(() => vi.unstubAllGlobals());

describe("rafThrottle", () => {
  it("draws once per frame with the latest arguments, and cancel() drops a queued call", () => {
    const frames = new Map<number, FrameRequestCallback>();
    let nextId = 1;
    vi.stubGlobal("requestAnimationFrame", (cb: FrameRequestCallback) => {
      frames.set(nextId, cb);
      return nextId++;
    });
    vi.stubGlobal("cancelAnimationFrame", (id: number) => frames.delete(id));
    const runFrames = () => {
      const due = [...frames.values()];
      frames.clear();
      for (const cb of due) cb(0);
    };
    const calls: number[] = [];
    const draw = rafThrottle((x: number) => calls.push(x));
    draw(1);
    draw(2);
    runFrames();
    expect(calls).toEqual([2]);
    draw(3);
    draw.cancel();
    runFrames();
    expect(calls).toEqual([2]);
    draw(4); // still usable after a cancel
    runFrames();
    expect(calls).toEqual([2, 4]);
  });
});
