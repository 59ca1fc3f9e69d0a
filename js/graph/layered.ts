// A small layered (Sugiyama-style) layout for computation graphs, written for speed: dagre took
// 1.3 s for 300 nodes in the browser (with module boxes), ~2.5 s for 2,000, and crashed on some
// nested boxes. This one is linear per sweep.
//
// One level is laid out in abstract axes: r runs along the ranks (inputs -> output), o across.
// 1. rank: each item as close to the output as its consumers allow (leaves sit next to the op
//    that uses them, like weights next to their product);
// 2. order within a rank: a few barycenter sweeps;
// 3. coordinates across ranks: each item pulled toward its neighbours, with the order and the
//    minimum gaps kept exactly (isotonic regression, "pool adjacent violators");
// then the axes are mapped to x/y for LR, RL, TB or BT. Boxes (modules) are laid out inside-out:
// a box's content first, then the box as one item of its parent, so boxes never overlap.

export interface LayeredNode {
  width: number;
  height: number;
  boxes: number[]; // enclosing boxes, outermost first
}
export interface LayeredEdge {
  from: number; // input side
  to: number; // output side
}
export interface Rect {
  x: number; // centre
  y: number;
  width: number;
  height: number;
}
export interface LayeredOptions {
  rankdir: string; // "LR" | "RL" | "TB" | "BT"
  rankSep: number;
  nodeSep: number;
  boxPad: number;
  boxTitle: number; // room above a box's first row for its title
  sweeps?: number;
}
export interface LayeredResult {
  nodes: Rect[];
  boxes: (Rect | null)[]; // null for a box without members
  edges: { x: number; y: number }[][]; // cubic Bézier: start, control 1, control 2, end
  width: number;
  height: number;
}

/** Rank 0 = outputs (nodes nobody consumes); each node one rank before its furthest consumer. */
export function assignRanks(n: number, succ: number[][]): Int32Array {
  const rank = new Int32Array(n).fill(-1);
  const pending = new Int32Array(n);
  const pred: number[][] = Array.from({ length: n }, () => []);
  for (let v = 0; v < n; v++) {
    pending[v] = succ[v].length;
    for (const s of succ[v]) pred[s].push(v);
  }
  let queue: number[] = [];
  for (let v = 0; v < n; v++) if (pending[v] === 0) queue.push(v);
  let done = 0;
  const settle = (v: number) => {
    let r = 0;
    for (const s of succ[v]) if (rank[s] >= 0) r = Math.max(r, rank[s] + 1);
    rank[v] = r;
    done++;
    for (const p of pred[v]) if (--pending[p] === 0) queue.push(p);
  };
  while (done < n) {
    while (queue.length) {
      const next = queue;
      queue = [];
      for (const v of next) if (rank[v] < 0) settle(v);
    }
    if (done < n) {
      // a cycle (folded groups can make one): break it at the first unranked node
      for (let v = 0; v < n; v++) {
        if (rank[v] < 0) {
          settle(v);
          break;
        }
      }
    }
  }
  return rank;
}

/**
 * Nondecreasing (weighted) least-squares fit of `target` (pool adjacent violators), in place
 * into `out`. A heavy item moves less than a light one when two want the same place.
 */
export function isotonic(
  target: Float64Array,
  out: Float64Array,
  itemWeight?: Float64Array,
  n = target.length, // fit the first n items only (the arrays may be longer scratch buffers)
): void {
  if (blocksScratch.mean.length < n) {
    blocksScratch = { mean: new Float64Array(n), weight: new Float64Array(n), count: new Int32Array(n) };
  }
  const { mean, weight, count } = blocksScratch;
  let blocks = 0;
  for (let i = 0; i < n; i++) {
    mean[blocks] = target[i];
    weight[blocks] = itemWeight ? itemWeight[i] : 1;
    count[blocks] = 1;
    blocks++;
    while (blocks > 1 && mean[blocks - 2] > mean[blocks - 1]) {
      const w = weight[blocks - 2] + weight[blocks - 1];
      mean[blocks - 2] = (mean[blocks - 2] * weight[blocks - 2] + mean[blocks - 1] * weight[blocks - 1]) / w;
      weight[blocks - 2] = w;
      count[blocks - 2] += count[blocks - 1];
      blocks--;
    }
  }
  let i = 0;
  for (let b = 0; b < blocks; b++) for (let k = 0; k < count[b]; k++) out[i++] = mean[b];
}

// isotonic's pooled blocks, reused: a layout fits thousands of rows
let blocksScratch = { mean: new Float64Array(0), weight: new Float64Array(0), count: new Int32Array(0) };

// How strongly an item holds its place across the ranks: an input without inputs of its own (a
// constant, a weight) gives way to the chain it feeds, so `(h * 0.9999).tanh() + 0.001`
// repeated runs straight instead of drifting half a row per constant.
const LEAF_WEIGHT = 0.001;

export interface Item {
  width: number;
  height: number;
}
export interface Placement {
  x: number[]; // centres
  y: number[];
  width: number;
  height: number;
}

/** Lay out one level: items in ranks, ordered and spaced; returns centres and the extent. */
export function layerItems(items: Item[], edges: LayeredEdge[], options: LayeredOptions): Placement {
  const n = items.length;
  const horizontal = options.rankdir === "LR" || options.rankdir === "RL";
  const rSize = (v: number) => (horizontal ? items[v].width : items[v].height);
  const oSize = (v: number) => (horizontal ? items[v].height : items[v].width);
  const succ: number[][] = Array.from({ length: n }, () => []);
  const pred: number[][] = Array.from({ length: n }, () => []);
  for (const e of edges) {
    if (e.from === e.to) continue;
    succ[e.from].push(e.to);
    pred[e.to].push(e.from);
  }
  const rank = assignRanks(n, succ);
  let maxRank = 0;
  for (let v = 0; v < n; v++) maxRank = Math.max(maxRank, rank[v]);

  // initial order: depth-first from the outputs through the inputs in argument order
  const visit = new Int32Array(n).fill(-1);
  let counter = 0;
  for (let start = 0; start < n; start++) {
    if (succ[start].length || visit[start] >= 0) continue;
    const stack = [start];
    while (stack.length) {
      const v = stack.pop() as number;
      if (visit[v] >= 0) continue;
      visit[v] = counter++;
      for (let k = pred[v].length - 1; k >= 0; k--) if (visit[pred[v][k]] < 0) stack.push(pred[v][k]);
    }
  }
  for (let v = 0; v < n; v++) if (visit[v] < 0) visit[v] = counter++;
  const ranks: number[][] = Array.from({ length: maxRank + 1 }, () => []);
  for (let v = 0; v < n; v++) ranks[rank[v]].push(v);
  for (const row of ranks) row.sort((a, b) => visit[a] - visit[b]);

  // order: barycenter sweeps
  const position = new Float64Array(n); // normalised index within the rank
  const setPositions = (row: number[]) => row.forEach((v, i) => (position[v] = (i + 0.5) / row.length));
  ranks.forEach(setPositions);
  const key = new Float64Array(n);
  const sortRow = (row: number[], neighbours: number[][]) => {
    for (const v of row) {
      const list = neighbours[v];
      let sum = 0;
      for (const u of list) sum += position[u];
      key[v] = list.length ? sum / list.length : position[v];
    }
    row.sort((a, b) => key[a] - key[b] || visit[a] - visit[b]);
    setPositions(row);
  };
  const sweeps = options.sweeps ?? 4;
  for (let s = 0; s < sweeps; s++) {
    for (let r = 1; r <= maxRank; r++) sortRow(ranks[r], succ); // toward the inputs
    for (let r = maxRank - 1; r >= 0; r--) sortRow(ranks[r], pred); // back toward the output
  }

  // coordinates across ranks: pulled toward neighbours, order and gaps kept
  const weight = new Float64Array(n);
  for (let v = 0; v < n; v++) weight[v] = pred[v].length || !succ[v].length ? 1 : LEAF_WEIGHT;
  const o = new Float64Array(n);
  const offsets = ranks.map((row) => {
    const off = new Float64Array(row.length);
    for (let i = 1; i < row.length; i++) {
      off[i] = off[i - 1] + (oSize(row[i - 1]) + oSize(row[i])) / 2 + options.nodeSep;
    }
    return off;
  });
  ranks.forEach((row, r) => {
    const half = row.length ? offsets[r][row.length - 1] / 2 : 0;
    row.forEach((v, i) => (o[v] = offsets[r][i] - half));
  });
  const widest = ranks.reduce((most, row) => Math.max(most, row.length), 0);
  const target = new Float64Array(widest);
  const rowWeight = new Float64Array(widest);
  const fitted = new Float64Array(widest);
  const place = (r: number, neighbours: number[][], blend: number) => {
    const row = ranks[r];
    if (!row.length) return;
    row.forEach((v, i) => {
      const list = neighbours[v];
      let desired = o[v];
      if (list.length) {
        let sum = 0;
        let total = 0;
        for (const u of list) {
          sum += weight[u] * o[u];
          total += weight[u];
        }
        desired = blend * (sum / total) + (1 - blend) * o[v];
      }
      target[i] = desired - offsets[r][i];
      rowWeight[i] = weight[v];
    });
    isotonic(target, fitted, rowWeight, row.length);
    row.forEach((v, i) => (o[v] = fitted[i] + offsets[r][i]));
  };
  for (let s = 0; s < 6; s++) {
    for (let r = 1; r <= maxRank; r++) place(r, succ, 1);
    for (let r = maxRank - 1; r >= 0; r--) place(r, pred, 1);
  }
  const both = succ.map((list, v) => list.concat(pred[v]));
  for (let r = 0; r <= maxRank; r++) place(r, both, 0.5);

  // along the ranks: the inputs' rank first, the outputs' last
  const columnWidth = new Float64Array(maxRank + 1);
  for (let v = 0; v < n; v++) columnWidth[rank[v]] = Math.max(columnWidth[rank[v]], rSize(v));
  const columnCentre = new Float64Array(maxRank + 1);
  let cursor = 0;
  for (let r = maxRank; r >= 0; r--) {
    columnCentre[r] = cursor + columnWidth[r] / 2;
    cursor += columnWidth[r] + options.rankSep;
  }
  let oMin = Infinity;
  let oMax = -Infinity;
  for (let v = 0; v < n; v++) {
    oMin = Math.min(oMin, o[v] - oSize(v) / 2);
    oMax = Math.max(oMax, o[v] + oSize(v) / 2);
  }
  if (n === 0) oMin = oMax = 0;
  const rExtent = Math.max(0, cursor - options.rankSep);
  const flip = options.rankdir === "RL" || options.rankdir === "BT";
  const x: number[] = [];
  const y: number[] = [];
  for (let v = 0; v < n; v++) {
    const r = columnCentre[rank[v]];
    const rr = flip ? rExtent - r : r;
    const oo = o[v] - oMin;
    x.push(horizontal ? rr : oo);
    y.push(horizontal ? oo : rr);
  }
  return {
    x,
    y,
    width: horizontal ? rExtent : oMax - oMin,
    height: horizontal ? oMax - oMin : rExtent,
  };
}

/**
 * Lay out nodes nested in boxes: each box is laid out on its own, then placed as one item in
 * its parent, so boxes never overlap each other or nodes outside them.
 */
export function layered(
  nodes: LayeredNode[],
  edges: LayeredEdge[],
  boxParent: number[],
  options: LayeredOptions,
): LayeredResult {
  const boxCount = boxParent.length;
  const innermost = nodes.map((node) => (node.boxes.length ? node.boxes[node.boxes.length - 1] : -1));
  // the members of each container (-1 = top level): nodes, then child boxes
  const memberNodes: number[][] = Array.from({ length: boxCount + 1 }, () => []);
  const memberBoxes: number[][] = Array.from({ length: boxCount + 1 }, () => []);
  nodes.forEach((_, v) => memberNodes[innermost[v] + 1].push(v));
  boxParent.forEach((p, b) => memberBoxes[p + 1].push(b));

  const nodeRect: Rect[] = nodes.map((node) => ({ x: 0, y: 0, width: node.width, height: node.height }));
  const boxRect: (Rect | null)[] = Array(boxCount).fill(null);
  // positions relative to the container's top-left corner, resolved top-down at the end
  const nodeLocal = nodes.map(() => ({ x: 0, y: 0 }));
  const boxLocal = boxParent.map(() => ({ x: 0, y: 0 }));
  const boxSize = boxParent.map(() => ({ width: 0, height: 0 }));
  const depthOf = (b: number): number => (b < 0 ? 0 : 1 + depthOf(boxParent[b]));
  const order = [...Array(boxCount).keys()].sort((a, b) => depthOf(b) - depthOf(a)); // deepest first
  // the item (node or child box) of container c that holds node v, or null if v is outside c
  const itemIn = (c: number, v: number): string | null => {
    const chain = nodes[v].boxes;
    if (c < 0) return chain.length ? `b${chain[0]}` : `n${v}`;
    const at = chain.indexOf(c);
    if (at < 0) return null;
    return at + 1 < chain.length ? `b${chain[at + 1]}` : `n${v}`;
  };
  const layoutContainer = (c: number) => {
    const ids = [...memberNodes[c + 1].map((v) => `n${v}`), ...memberBoxes[c + 1].map((b) => `b${b}`)];
    const index = new Map(ids.map((id, i) => [id, i]));
    const items = ids.map((id) => {
      const k = Number(id.slice(1));
      return id[0] === "n" ? { width: nodes[k].width, height: nodes[k].height } : boxSize[k];
    });
    const levelEdges: LayeredEdge[] = [];
    const seen = new Set<string>();
    for (const e of edges) {
      const a = itemIn(c, e.from);
      const b = itemIn(c, e.to);
      if (a === null || b === null || a === b || seen.has(`${a}>${b}`)) continue;
      seen.add(`${a}>${b}`);
      levelEdges.push({ from: index.get(a) as number, to: index.get(b) as number });
    }
    const placed = layerItems(items, levelEdges, options);
    ids.forEach((id, i) => {
      const k = Number(id.slice(1));
      const topLeft = { x: placed.x[i] - items[i].width / 2, y: placed.y[i] - items[i].height / 2 };
      if (id[0] === "n") nodeLocal[k] = topLeft;
      else boxLocal[k] = topLeft;
    });
    return placed;
  };
  for (const b of order) {
    const placed = layoutContainer(b);
    boxSize[b] = {
      width: placed.width + 2 * options.boxPad,
      height: placed.height + 2 * options.boxPad + options.boxTitle,
    };
  }
  const top = layoutContainer(-1);
  const margin = options.nodeSep;

  // absolute positions: a box's content starts inside its padding and title band
  const topLeft: ({ x: number; y: number } | undefined)[] = Array(boxCount);
  const contentOrigin = (c: number): { x: number; y: number } => {
    if (c < 0) return { x: margin, y: margin };
    const corner = boxTopLeft(c);
    return { x: corner.x + options.boxPad, y: corner.y + options.boxPad + options.boxTitle };
  };
  const boxTopLeft = (b: number): { x: number; y: number } => {
    const known = topLeft[b];
    if (known) return known;
    const inner = contentOrigin(boxParent[b]);
    return (topLeft[b] = { x: inner.x + boxLocal[b].x, y: inner.y + boxLocal[b].y });
  };
  boxParent.forEach((_, b) => {
    if (!memberNodes[b + 1].length && !memberBoxes[b + 1].length) return;
    const corner = boxTopLeft(b);
    boxRect[b] = { x: corner.x + boxSize[b].width / 2, y: corner.y + boxSize[b].height / 2, ...boxSize[b] };
  });
  nodes.forEach((node, v) => {
    const inner = contentOrigin(innermost[v]);
    nodeRect[v].x = inner.x + nodeLocal[v].x + node.width / 2;
    nodeRect[v].y = inner.y + nodeLocal[v].y + node.height / 2;
  });

  const horizontal = options.rankdir === "LR" || options.rankdir === "RL";
  const forward = options.rankdir === "LR" || options.rankdir === "TB" ? 1 : -1;
  return {
    nodes: nodeRect,
    boxes: boxRect,
    edges: edges.map((e) => {
      const a = nodeRect[e.from];
      const b = nodeRect[e.to];
      if (horizontal) {
        const x0 = a.x + (forward * a.width) / 2;
        const x1 = b.x - (forward * b.width) / 2;
        const mid = (x0 + x1) / 2;
        return [{ x: x0, y: a.y }, { x: mid, y: a.y }, { x: mid, y: b.y }, { x: x1, y: b.y }];
      }
      const y0 = a.y + (forward * a.height) / 2;
      const y1 = b.y - (forward * b.height) / 2;
      const mid = (y0 + y1) / 2;
      return [{ x: a.x, y: y0 }, { x: a.x, y: mid }, { x: b.x, y: mid }, { x: b.x, y: y1 }];
    }),
    width: top.width + 2 * margin,
    height: top.height + 2 * margin,
  };
}
