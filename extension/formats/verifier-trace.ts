// Turns a verifier log (level 1 or 2) into the walk it records: one step per instruction the verifier
// processed, in order, with the frame depth, the C line and the register/stack state before and after.
//
// How the kernel prints it (kernel/bpf/verifier.c do_check, kernel/bpf/log.c print_verifier_state):
// - `N: (op) insn` for each instruction, and after it `; R0=... fp-8=...` with only the registers and
//   stack slots the instruction touched ("scratched"), or on a line of its own as `N: R0=...` when
//   something was logged in between (precision backtracking, a callee block);
// - a full state of the current frame at the start (`0: R1=ctx() R10=fp0`), when a branch is popped at
//   level 2 (`from X to Y: ...`), when entering or leaving a subprogram (`caller:`/`callee:`,
//   `returning from callee:`/`to caller at N:`); `frameN:` prefixes every state of frame N > 0;
// - at level 1 the kernel rewinds the log when it abandons a path, so the popped branch's full state
//   follows the branch instruction directly, often on its very line (`3: (2d) if r1 > r0 goto pc+3 7: R0=...`);
// - `; <code> @ <file>:<line>` before the first instruction of each source line;
// - registers it no longer prints (R1-R5 after a call) simply vanish from later states.
//
// A million-step log is 100 MB of text, so states are not materialised per step: the parser records, per
// step, a few integers (instruction, frame, line, offsets) and the range of its state operations (each an
// offset into the log); a state is where each register's text starts in the log. Every `checkpointEvery`
// steps it keeps the whole state, shared copy-on-write. A step's state is the nearest checkpoint plus at
// most that many steps of operations, turned into objects only when asked for. Pure: no I/O.
import type { SourceLocation } from './verifier-rejection';
import { parseVerifierStats } from './verifier-log';
import {
  applyOpValues,
  Column,
  Columns,
  gotoOffset,
  hexDigit,
  Op,
  OpField,
  RawFrame,
  Step,
  StepFlag,
  Table,
} from './verifier-trace-frames';
import { findFailure, sourceAnnotationAt } from './verifier-trace-failure';
import type { TraceFailure, TraceOptions, TraceStats } from './verifier-trace-types';
import { VerifierTrace } from './verifier-trace-walk';

/** Where the state text after a `frameN:` prefix starts; set by framePrefix. */
let prefixEnd = 0;

/** Reads an optional `frameN:` at `i`: returns N (0 when absent) and leaves the text's start in prefixEnd. */
function framePrefix(s: string, i: number, end: number): number {
  while (i < end && s.charCodeAt(i) === 32) i++;
  prefixEnd = i;
  if (s.startsWith('frame', i)) {
    let j = i + 5;
    let n = 0;
    while (j < end) {
      const c = s.charCodeAt(j);
      if (c < 48 || c > 57) break;
      n = n * 10 + (c - 48);
      j++;
    }
    if (j > i + 5 && s.charCodeAt(j) === 58 /* : */) {
      prefixEnd = j + 1;
      return n;
    }
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------------
// The pass over the log.

const enum Block {
  None,
  Caller,
  Callee,
  Returning,
  ToCaller,
}

const rewindOnLine = / (\d+): (?=R\d|frame\d|fp-?\d)/;
const fromLine = /^from (\d+) to (\d+)( \(speculative execution\))?:/;

/** Parses a verifier log into its walk. Never throws on odd text: lines it does not know are skipped. */
export function parseVerifierTrace(log: string, options: TraceOptions = {}): VerifierTrace {
  const every = Math.max(1, Math.floor(options.checkpointEvery ?? 128));
  // A million steps take ~100 MB of log; start the columns near the size they will reach.
  const guess = Math.max(1024, Math.min(1 << 22, Math.floor(log.length / 96)));
  const steps = new Table(Step.Width, guess);
  const ops = new Table(OpField.Width, guess * 2);
  const checkpointOp = new Column();
  const segFirst = new Column();
  const segParent = new Column();
  const checkpoints: RawFrame[][] = [];
  const savedFrames: RawFrame[][] = [];
  const locations: SourceLocation[] = [];
  /** Hash of an annotation line -> [its text, location index (-1 for line 0)], so repeats are parsed once. */
  const annotations = new Map<number, [string, number][]>();
  const locationByKey = new Map<string, number>();
  const sections: { name: string; firstStep: number }[] = [];
  const stats: TraceStats = {};

  /** Outer frames at the last visit of a branch or call instruction inside a subprogram, by insn. */
  const outerAt = new Map<number, RawFrame[]>();
  /** Last step at each instruction, to find the step a popped branch came from. */
  const lastVisit = new Column(4096, -1);

  const frames: RawFrame[] = [];
  let loc = -1;
  let afterOpen = false; // state operations now belong to the last step's after-state
  let expectFull = true; // the next `N: state` is a whole frame (the start, after a pop)
  let block = Block.None;
  let lastInsn = -1;
  let nextInsn = -1;
  let gotoTarget = -1;
  let lastWasCall = false;
  let pendingResume = -1; // insn X of the `from X to Y` whose path the next step starts
  let pendingSpeculative = false;
  let newSegmentParent = -2; // -2: no new path pending; else the step it branched from
  let lastStepLineStart = -1;

  const addOp = (kind: Op, frame: number, start: number, end: number, aux: number) => {
    const f = Math.min(255, Math.max(0, frame));
    const o = ops.add();
    const d = ops.data;
    d[o + OpField.KindFrame] = kind | (f << 8);
    d[o + OpField.Start] = start;
    d[o + OpField.End] = end;
    d[o + OpField.Aux] = aux;
    applyOpValues(frames, log, kind, f, start, end, aux, savedFrames);
    if (afterOpen && steps.count > 0) steps.data[(steps.count - 1) * Step.Width + Step.OpAfter] = ops.count;
  };

  /** The walk abandoned the current path: what follows starts another, resumed at a branch of `fromInsn`. */
  const popped = (fromInsn: number) => {
    afterOpen = false;
    expectFull = true;
    newSegmentParent = fromInsn >= 0 ? lastVisit.get(fromInsn) : -1;
    pendingResume = fromInsn;
    lastInsn = -1;
    nextInsn = -1;
    gotoTarget = -1;
    lastWasCall = false;
  };

  const fullState = (frame: number, start: number, end: number, fromInsn: number) => {
    let aux = -1;
    if (frame > 0 && fromInsn >= 0) {
      const outer = outerAt.get(fromInsn);
      if (outer) aux = savedFrames.push(outer) - 1;
    }
    addOp(Op.Full, frame, start, end, aux);
  };

  const len = log.length;
  let pos = 0;
  while (pos < len) {
    let eol = log.indexOf('\n', pos);
    if (eol < 0) eol = len;
    let end = eol;
    if (end > pos && log.charCodeAt(end - 1) === 13) end--;
    const c0 = log.charCodeAt(pos);

    if (c0 >= 48 && c0 <= 57) {
      // `N: (op) insn`, `N: state`, `N: safe`.
      let i = pos;
      let n = 0;
      while (i < end) {
        const c = log.charCodeAt(i);
        if (c < 48 || c > 57) break;
        n = n * 10 + (c - 48);
        i++;
      }
      const body = i + 2;
      if (log.charCodeAt(i) === 58 && log.charCodeAt(i + 1) === 32 && body < end) {
        const b0 = log.charCodeAt(body);
        const hi = hexDigit(log.charCodeAt(body + 1));
        const lo = hexDigit(log.charCodeAt(body + 2));
        if (b0 === 40 && hi >= 0 && lo >= 0 && log.charCodeAt(body + 3) === 41) {
          // An instruction; its changes follow after `;` (never part of an instruction's text).
          block = Block.None;
          const opcode = hi * 16 + lo;
          const isJumpClass = (opcode & 7) === 5 || (opcode & 7) === 6;
          const isCall = opcode === 0x85 || opcode === 0x8d;
          // Up to `;` (never part of an instruction's text) come the instruction and, after a level 1
          // rewind, the popped branch's state: `... goto pc+3 7: R0=...` (whose var_off may hold a `;`).
          let semi = -1;
          let colonSpace = false;
          for (let k = body + 4; k < end; k++) {
            const c = log.charCodeAt(k);
            if (c === 59) {
              semi = k;
              break;
            }
            if (c === 58 && log.charCodeAt(k + 1) === 32) colonSpace = true;
          }
          let textEnd = semi >= 0 ? semi : end;
          let rewindAt = -1;
          let rewindDigits = 0;
          if (isJumpClass && colonSpace) {
            const m = rewindOnLine.exec(log.slice(body, end));
            if (m) {
              rewindAt = body + m.index + 1;
              rewindDigits = m[1].length;
              textEnd = body + m.index;
              semi = -1;
            }
          }
          while (textEnd > body && log.charCodeAt(textEnd - 1) === 32) textEnd--;

          const step = steps.count;
          if (step % every === 0) {
            for (const f of frames) f.shared = true;
            checkpoints.push(frames.slice());
            checkpointOp.push(ops.count);
          }
          if (newSegmentParent !== -2 || step === 0) {
            segFirst.push(step);
            segParent.push(step === 0 ? -1 : newSegmentParent);
            newSegmentParent = -2;
          }
          let flags = 0;
          if (pendingResume >= 0) flags |= StepFlag.Resumed;
          if (pendingSpeculative) flags |= StepFlag.Speculative;
          const depth = Math.min(255, Math.max(0, frames.length - 1));
          const sb = steps.add();
          const sd = steps.data;
          sd[sb + Step.Insn] = n;
          sd[sb + Step.FrameFlags] = depth | (flags << 8);
          sd[sb + Step.Loc] = loc;
          sd[sb + Step.TextStart] = body;
          sd[sb + Step.TextEnd] = textEnd;
          sd[sb + Step.OpBefore] = ops.count;
          sd[sb + Step.OpAfter] = ops.count;
          sd[sb + Step.ResumedFrom] = pendingResume;
          pendingResume = -1;
          pendingSpeculative = false;
          lastVisit.put(n, step);
          lastStepLineStart = pos;
          afterOpen = true;
          expectFull = false;

          const jump = isJumpClass ? gotoOffset(log, body, textEnd) : NaN;
          const isJump = !Number.isNaN(jump);
          if (isCall) addOp(Op.Clobber, depth, 0, 0, -1);
          if (depth > 0 && (isCall || isJump)) {
            const outer = frames.slice(0, depth);
            for (const f of outer) f.shared = true;
            outerAt.set(n, outer);
          }
          if (semi >= 0) {
            const frame = framePrefix(log, semi + 1, end);
            addOp(Op.Delta, frame, prefixEnd, end, -1);
          }
          lastInsn = n;
          nextInsn = n + (opcode === 0x18 ? 2 : 1);
          gotoTarget = -1;
          lastWasCall = isCall;
          if (isJump) gotoTarget = n + 1 + jump;
          if (rewindAt >= 0) {
            popped(n);
            const frame = framePrefix(log, rewindAt + rewindDigits + 1, end);
            fullState(frame, prefixEnd, end, -1);
            expectFull = false;
          }
        } else if (b0 === 115 /* s */ && end - body === 4 && log.startsWith('safe', body)) {
          block = Block.None;
          popped(-1);
        } else if (b0 === 82 || b0 === 102 || b0 === 32) {
          // A state: the start, a popped branch, or what the last instruction changed.
          const frame = framePrefix(log, body, end);
          const afterBlock = block !== Block.None;
          block = Block.None;
          // At level 1 a popped branch's state may follow its branch on a line of its own.
          const rewind =
            !expectFull &&
            !afterBlock &&
            !lastWasCall &&
            lastInsn >= 0 &&
            n !== lastInsn &&
            n !== nextInsn &&
            n !== gotoTarget;
          if (rewind) popped(lastInsn);
          if (expectFull || rewind) {
            fullState(frame, prefixEnd, end, -1);
            expectFull = false;
          } else {
            addOp(Op.Delta, frame, prefixEnd, end, -1);
          }
        }
      }
    } else if (c0 === 59 /* ; */) {
      // The same few annotations repeat all through a long log: find them by a hash of the line
      // without cutting a string out of the log for each.
      let h = end - pos;
      for (let k = pos; k < end; k++) h = (Math.imul(h, 31) + log.charCodeAt(k)) | 0;
      const known = annotations.get(h);
      let index = -2;
      if (known) {
        for (const [text, at] of known) {
          if (text.length === end - pos && log.startsWith(text, pos)) {
            index = at;
            break;
          }
        }
      }
      if (index === -2) {
        const text = log.slice(pos, end);
        const at = sourceAnnotationAt(text, 0, text.length);
        index = -1;
        if (at) {
          const key = `${at.file}:${at.line}`;
          index = locationByKey.get(key) ?? -1;
          if (index < 0) {
            index = locations.push(at) - 1;
            locationByKey.set(key, index);
          }
        }
        if (known) known.push([text, index]);
        else annotations.set(h, [[text, index]]);
      }
      if (index >= 0) loc = index;
    } else if (c0 === 32 /* indented */) {
      if (block !== Block.None) {
        const frame = framePrefix(log, pos, end);
        // The callee's last state ("returning from callee:") is what its exit already showed.
        if (block !== Block.Returning) fullState(frame, prefixEnd, end, -1);
        block = Block.None;
      } else if (lastInsn >= 0) {
        // Kernels before 5.17 print the whole state after a branch on a line of its own: ` R0=... R1=...`.
        const frame = framePrefix(log, pos, end);
        const c = log.charCodeAt(prefixEnd);
        if (
          c === 82 /* R */ &&
          prefixEnd + 1 < end &&
          hexDigit(log.charCodeAt(prefixEnd + 1)) >= 0 &&
          hexDigit(log.charCodeAt(prefixEnd + 1)) <= 9
        ) {
          fullState(frame, prefixEnd, end, -1);
        }
      }
    } else if (c0 === 102 /* f */) {
      if (log.startsWith('from ', pos)) {
        const m = fromLine.exec(log.slice(pos, Math.min(end, pos + 80)));
        if (m) {
          const fromInsn = Number(m[1]);
          popped(fromInsn);
          const rest = pos + m[0].length;
          if (log.startsWith(' safe', rest)) {
            pendingResume = -1;
          } else {
            pendingSpeculative = m[3] !== undefined;
            const frame = framePrefix(log, rest, end);
            fullState(frame, prefixEnd, end, fromInsn);
            expectFull = false;
          }
        }
      }
    } else if (c0 === 99 /* c */) {
      if (log.startsWith('caller:', pos)) block = Block.Caller;
      else if (log.startsWith('callee:', pos)) block = Block.Callee;
    } else if (c0 === 114 /* r */) {
      if (log.startsWith('returning from callee:', pos)) block = Block.Returning;
    } else if (c0 === 116 /* t */) {
      if (log.startsWith('to caller at ', pos)) block = Block.ToCaller;
    } else if (c0 === 86 /* V */) {
      if (log.startsWith('Validating ', pos)) {
        const m = /^Validating (\S+?)(?:\(\))? func#(\d+)/.exec(log.slice(pos, end));
        afterOpen = false;
        expectFull = true;
        newSegmentParent = -1;
        lastInsn = -1;
        sections.push({ name: m ? m[1] : log.slice(pos + 11, end), firstStep: steps.count });
        addOp(Op.Reset, 0, 0, 0, -1);
      }
    } else if (
      (c0 === 112 && log.startsWith('processed ', pos)) ||
      (c0 === 118 && log.startsWith('verification time ', pos)) ||
      (c0 === 115 && log.startsWith('stack depth ', pos))
    ) {
      Object.assign(stats, parseVerifierStats(log.slice(pos, end)));
    }
    pos = eol + 1;
  }

  if (segFirst.length === 0) {
    segFirst.push(0);
    segParent.push(-1);
  }
  if (checkpoints.length === 0) {
    checkpoints.push([]);
    checkpointOp.push(0);
  }

  const columns: Columns = {
    every,
    steps: steps.trim(),
    stepCount: steps.count,
    ops: ops.trim(),
    savedFrames,
    checkpoints,
    checkpointOp: checkpointOp.trim(),
    segFirst: segFirst.trim(),
    segParent: segParent.trim(),
    locations,
  };
  const trace = new VerifierTrace(log, columns, stats, sections);
  const failure = findFailure(log, trace, lastStepLineStart, options.verdict);
  if (failure) (trace as { failure?: TraceFailure }).failure = failure;
  return trace;
}
