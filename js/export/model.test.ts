import { describe, expect, it, vi } from "vitest";
import { fakeAnimationFrames } from "../shared/testing";
import { mountView } from "../shared/view";
import { decodeBase64, OFFLINE_NOTICE, offlineModel, restoreState } from "./model";

const base64 = (bytes: number[]) => btoa(String.fromCharCode(...bytes));

describe("restoreState", () => {
  it("puts each base64 buffer back at its path as a DataView", () => {
    const floats = new Float32Array([1.5, -2]);
    const saved = {
      module: "m",
      state: { step: 3, nested: { keep: 1 } },
      buffers: [
        { path: ["frame"], data: base64([...new Uint8Array(floats.buffer)]), encoding: "base64" },
        { path: ["nested", "bytes"], data: base64([7, 8]) },
      ],
    };
    const state = restoreState(saved);
    const frame = state.frame as DataView;
    expect(frame).toBeInstanceOf(DataView);
    expect(frame.getFloat32(0, true)).toBe(1.5);
    expect(frame.getFloat32(4, true)).toBe(-2);
    const nested = state.nested as { keep: number; bytes: DataView };
    expect(nested.keep).toBe(1);
    expect([nested.bytes.getUint8(0), nested.bytes.getUint8(1)]).toEqual([7, 8]);
    expect(saved.state).not.toHaveProperty("frame"); // the saved copy is left as it was
  });

  it("refuses a buffer it cannot decode, saying why", () => {
    expect(() => restoreState({ module: "m", state: {}, buffers: [{ path: ["x"], data: "", encoding: "hex" }] })).toThrow(
      /base64/,
    );
    expect(() => restoreState({ module: "m", state: {}, buffers: [{ path: [], data: "" }] })).toThrow(/empty path/);
  });

  it("decodes an empty buffer to an empty DataView", () => {
    expect(decodeBase64("").byteLength).toBe(0);
  });
});

describe("offlineModel", () => {
  it("gets and sets locally, firing change events, and sends nothing anywhere", () => {
    const model = offlineModel({ mode: "grads" });
    const changed = vi.fn();
    model.on("change:mode", changed);
    model.set("mode", "weights");
    model.set("mode", "weights"); // same value: no event
    expect(model.get("mode")).toBe("weights");
    expect(changed).toHaveBeenCalledTimes(1);
    model.off("change:mode", changed);
    model.set("mode", "updates");
    expect(changed).toHaveBeenCalledTimes(1);
    model.send({ type: "play" });
    expect(model.unsent).toEqual([{ type: "play" }]);
  });

  it("makes the view shell show the offline notice and disable the controls that need Python", () => {
    const frames = fakeAnimationFrames();
    const el = document.createElement("div");
    const model = offlineModel({ error: "" });
    const shell = mountView(model as never, el, { className: "test", draw: () => {} });
    const control = document.createElement("button");
    control.setAttribute("data-needs-kernel", "");
    shell.root.append(control);
    shell.redraw();
    frames.run();
    expect(shell.kernelLost()).toBe(true);
    expect(shell.root.dataset.kernel).toBe("lost");
    const notice = shell.root.querySelector<HTMLElement>(".mgw-kernel-lost")!;
    expect(notice.hidden).toBe(false);
    expect(notice.textContent).toBe(OFFLINE_NOTICE);
    expect(control.disabled).toBe(true);
    shell.cleanup();
  });
});
