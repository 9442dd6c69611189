// The verifier walk's raw states and columns: where each register's and slot's text starts in the log,
// shared copy-on-write, the state operations that change them, and growable integer tables of steps and
// operations. Pure code (verifier-trace.ts), run by the host and the verifier debug adapter.
import type { SourceLocation } from './verifier-rejection';

// ---------------------------------------------------------------------------------------------------
// Raw states: where in the log each register's and slot's text starts (it ends at the next space outside
// parentheses), shared copy-on-write between checkpoints. No strings are cut while parsing.

export interface RawFrame {
  /** Start offset of R0..R10's text in the log, -1 when the register holds nothing readable. */
  regs: number[];
  /** Slot offset (-8, -16, ...) and the start of its text, in pairs. */
  stack: number[];
  /** Start of the `refs=` list, -1 when none. */
  refs: number;
  flags?: string;
  /** Referenced by a checkpoint or a saved branch state: copy before changing. */
  shared: boolean;
}

export function emptyFrame(): RawFrame {
  return { regs: [-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1], stack: [], refs: -1, shared: false };
}

export function cloneFrame(f: RawFrame): RawFrame {
  return { regs: f.regs.slice(), stack: f.stack.slice(), refs: f.refs, flags: f.flags, shared: false };
}

export function own(frames: RawFrame[], index: number): RawFrame {
  let f = frames[index];
  if (f.shared) {
    f = cloneFrame(f);
    frames[index] = f;
  }
  return f;
}

/** The text of a value starting at `start`: up to a space outside parentheses or the end of the line. */
export function valueAt(s: string, start: number): string {
  let depth = 0;
  let i = start;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 40) depth++;
    else if (c === 41) depth--;
    else if (c === 10 || c === 13 || (c === 32 && depth <= 0)) break;
  }
  return s.slice(start, i);
}

export const enum Op {
  /** Set what the text names in frame `frame` (deeper frames end: the walk returned). */
  Delta = 0,
  /** Replace frame `frame` with the text; outer frames from `aux` (a saved branch) or kept. */
  Full = 1,
  /** A call: R1-R5 of the current frame are no longer readable. */
  Clobber = 2,
  /** A new verification starts (a global subprogram): no frames. */
  Reset = 3,
}

/**
 * Applies `R3=... fp-8=... refs=1 cb` from s[i, end) to a frame, recording where each value starts.
 * Values may hold spaces inside parentheses (`var_off=(0x0; 0xff)`).
 */
export function applyStateText(f: RawFrame, s: string, i: number, end: number): void {
  while (i < end) {
    let c = s.charCodeAt(i);
    if (c === 32 || c === 9) {
      i++;
      continue;
    }
    const start = i;
    let eq = -1;
    let depth = 0;
    while (i < end) {
      c = s.charCodeAt(i);
      if (c === 40) depth++;
      else if (c === 41) depth--;
      else if (c === 32 && depth <= 0) break;
      else if (c === 61 && eq < 0 && depth === 0) eq = i;
      i++;
    }
    const c0 = s.charCodeAt(start);
    if (eq < 0) {
      if (c0 === 99 /* c */ || c0 === 97 /* a */) {
        const flag = s.slice(start, i);
        if (flag === 'cb' || flag === 'async_cb') f.flags = f.flags ? `${f.flags} ${flag}` : flag;
      }
      continue;
    }
    if (c0 === 82 /* R */) {
      let n = 0;
      let j = start + 1;
      for (; j < eq; j++) {
        const d = s.charCodeAt(j);
        if (d < 48 || d > 57) break;
        n = n * 10 + (d - 48);
      }
      if (j > start + 1 && n <= 10) f.regs[n] = eq + 1;
    } else if (c0 === 102 /* f */ && s.charCodeAt(start + 1) === 112 /* p */) {
      let j = start + 2;
      const negative = s.charCodeAt(j) === 45;
      if (negative) j++;
      let n = 0;
      const digits = j;
      for (; j < eq; j++) {
        const d = s.charCodeAt(j);
        if (d < 48 || d > 57) break;
        n = n * 10 + (d - 48);
      }
      if (j > digits) {
        const off = negative ? -n : n;
        let k = 0;
        while (k < f.stack.length && f.stack[k] !== off) k += 2;
        f.stack[k] = off;
        f.stack[k + 1] = eq + 1;
      }
    } else if (eq === start + 4 && s.startsWith('refs', start)) {
      f.refs = eq + 1;
    }
  }
}

export function applyFull(
  frames: RawFrame[],
  frame: number,
  s: string,
  start: number,
  end: number,
  outer: RawFrame[] | undefined,
): void {
  if (outer) {
    frames.length = 0;
    for (let k = 0; k < frame; k++) frames.push(outer[k] ?? emptyFrame());
  } else {
    if (frames.length > frame) frames.length = frame;
    while (frames.length < frame) frames.push(emptyFrame());
  }
  const f = emptyFrame();
  applyStateText(f, s, start, end);
  frames.push(f);
}

export function applyDelta(frames: RawFrame[], frame: number, s: string, start: number, end: number): void {
  if (frames.length > frame + 1) frames.length = frame + 1;
  while (frames.length < frame + 1) frames.push(emptyFrame());
  applyStateText(own(frames, frame), s, start, end);
}

// ---------------------------------------------------------------------------------------------------
// Growable arrays of 32-bit integers.

export class Column {
  data: Int32Array;
  length = 0;
  constructor(
    capacity = 1024,
    private readonly fill = 0,
  ) {
    this.data = new Int32Array(capacity);
    if (fill !== 0) this.data.fill(fill);
  }
  push(value: number): void {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length++] = value;
  }
  /** Sets data[index], growing (and filling) as needed. */
  put(index: number, value: number): void {
    if (index >= this.data.length) this.grow(index + 1);
    if (index >= this.length) this.length = index + 1;
    this.data[index] = value;
  }
  get(index: number): number {
    return index < this.length ? this.data[index] : this.fill;
  }
  trim(): Int32Array {
    return this.data.subarray(0, this.length);
  }
  private grow(atLeast: number): void {
    const bigger = new Int32Array(Math.max(atLeast, this.data.length * 2));
    if (this.fill !== 0) bigger.fill(this.fill, this.data.length);
    bigger.set(this.data);
    this.data = bigger;
  }
}

/** Fixed-width records of 32-bit integers in one array: one growth check per record, not per field. */
export class Table {
  data: Int32Array;
  count = 0;
  constructor(
    readonly width: number,
    capacity: number,
  ) {
    this.data = new Int32Array(width * Math.max(16, capacity));
  }
  /** Appends a zeroed record and returns the index of its first field. */
  add(): number {
    const base = this.count * this.width;
    if (base + this.width > this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.count++;
    return base;
  }
  trim(): Int32Array {
    return this.data.subarray(0, this.count * this.width);
  }
}

/** Step record fields: a step is Step.Width integers. */
export const enum Step {
  Insn = 0,
  /** depth | flags << 8 */
  FrameFlags = 1,
  Loc = 2,
  TextStart = 3,
  TextEnd = 4,
  OpBefore = 5,
  OpAfter = 6,
  /** The branch instruction a resumed path came from, -1 elsewhere. */
  ResumedFrom = 7,
  Width = 8,
}
/** State operation record fields: an operation is OpField.Width integers. */
export const enum OpField {
  /** kind | frame << 8 */
  KindFrame = 0,
  Start = 1,
  End = 2,
  Aux = 3,
  Width = 4,
}

// ---------------------------------------------------------------------------------------------------
// The trace.

export const enum StepFlag {
  Resumed = 1,
  Speculative = 2,
}

/** @internal What a trace is made of: step and state operation records, checkpoints, paths. */
export interface Columns {
  every: number;
  steps: Int32Array;
  stepCount: number;
  ops: Int32Array;
  savedFrames: RawFrame[][];
  checkpoints: RawFrame[][];
  checkpointOp: Int32Array;
  segFirst: Int32Array;
  segParent: Int32Array;
  locations: SourceLocation[];
}

export function applyOp(frames: RawFrame[], log: string, t: Columns, op: number): void {
  const o = op * OpField.Width;
  const kf = t.ops[o + OpField.KindFrame];
  applyOpValues(
    frames,
    log,
    kf & 0xff,
    kf >> 8,
    t.ops[o + OpField.Start],
    t.ops[o + OpField.End],
    t.ops[o + OpField.Aux],
    t.savedFrames,
  );
}

export function applyOpValues(
  frames: RawFrame[],
  log: string,
  kind: number,
  frame: number,
  start: number,
  end: number,
  aux: number,
  saved: RawFrame[][],
): void {
  switch (kind) {
    case Op.Delta:
      applyDelta(frames, frame, log, start, end);
      break;
    case Op.Full:
      applyFull(frames, frame, log, start, end, aux >= 0 ? saved[aux] : undefined);
      break;
    case Op.Clobber:
      if (frames.length > 0) {
        const f = own(frames, frames.length - 1);
        for (let r = 1; r <= 5; r++) f.regs[r] = -1;
      }
      break;
    case Op.Reset:
      frames.length = 0;
      break;
  }
}

/** The N of `goto pc+N` / `goto pc-N` in s[from, to), or NaN. */
export function gotoOffset(s: string, from: number, to: number): number {
  for (let k = from; k + 8 < to; k++) {
    if (s.charCodeAt(k) !== 103 /* g */ || !s.startsWith('goto pc', k)) continue;
    const sign = s.charCodeAt(k + 7);
    if (sign !== 43 && sign !== 45) return NaN;
    let n = 0;
    let j = k + 8;
    for (; j < to; j++) {
      const c = s.charCodeAt(j);
      if (c < 48 || c > 57) break;
      n = n * 10 + (c - 48);
    }
    return j > k + 8 ? (sign === 45 ? -n : n) : NaN;
  }
  return NaN;
}

/** The value of a hex digit character, or -1. */
export function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}
