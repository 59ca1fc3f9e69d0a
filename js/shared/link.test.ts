import { afterEach, describe, expect, it } from "vitest";
import { joinLink, type Link, type LinkMessage } from "./link";

const open: Link[] = [];
function join(id: string, got: LinkMessage[] = []): { link: Link; got: LinkMessage[] } {
  const link = joinLink(id, (m) => got.push(m));
  open.push(link);
  return { link, got };
}

afterEach(() => {
  for (const link of open.splice(0)) link.close();
  delete (globalThis as Record<string, unknown>).__mgwLinkLast;
});

describe("joinLink", () => {
  it("delivers a message to the other views of the same link, not to the sender", () => {
    const a = join("t1");
    const b = join("t1");
    const c = join("t1");
    a.link.publish({ kind: "timeline", step: 12 });
    expect(a.got).toEqual([]);
    expect(b.got).toEqual([{ kind: "timeline", step: 12 }]);
    expect(c.got).toEqual([{ kind: "timeline", step: 12 }]);
  });

  it("keeps links of different trainers apart", () => {
    const a = join("t1");
    const other = join("t2");
    a.link.publish({ kind: "neuron", layer: 0, neuron: 3 });
    expect(other.got).toEqual([]);
  });

  it("remembers the last message of each kind, for a view rendered later", () => {
    const a = join("t1");
    a.link.publish({ kind: "timeline", step: 4 });
    a.link.publish({ kind: "sample", index: 7 });
    a.link.publish({ kind: "timeline", step: null });
    const late = join("t1");
    expect(late.link.last("timeline")).toEqual({ kind: "timeline", step: null });
    expect(late.link.last("sample")).toEqual({ kind: "sample", index: 7 });
    expect(late.link.last("neuron")).toBeUndefined();
    expect(join("t2").link.last("timeline")).toBeUndefined();
  });

  it("stops delivering after close", () => {
    const a = join("t1");
    const b = join("t1");
    b.link.close();
    a.link.publish({ kind: "timeline", step: 1 });
    expect(b.got).toEqual([]);
  });

  it("does nothing for an empty id (a widget with no trainer)", () => {
    const a = join("");
    const b = join("");
    a.link.publish({ kind: "timeline", step: 1 });
    expect(b.got).toEqual([]);
    expect(a.link.last("timeline")).toBeUndefined();
  });
});
