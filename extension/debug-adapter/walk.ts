// Moving through the verifier's walk as a debugger moves through a program: the position is a step of the
// trace (the instruction the verifier is about to process), and each movement (step over a C line, into a
// subprogram, out of it, back, to the next breakpoint) is a search over the steps. Kept apart from the DAP
// session so the rules can be read (and tested) without the protocol. No vscode, no I/O.
import type { VerifierState } from '../formats/verifier-trace-types';
import type { VerifierTrace } from '../formats/verifier-trace-walk';

export type Movement = 'stepIn' | 'next' | 'stepOut' | 'continue' | 'stepBack' | 'reverseContinue' | 'instruction';

/** Why the walk stopped where it did. */
export type StopReason = 'entry' | 'step' | 'breakpoint' | 'exception' | 'end';

export interface Stop {
  step: number;
  reason: StopReason;
}

/** A branch the path to a step decided: the conditional jump and where the verifier went from it. */
export interface BranchDecision {
  step: number;
  insn: number;
  line?: number;
  instruction: string;
  taken: boolean;
  /** The instruction the path continued at. */
  to: number;
}

/** The caller frames of a step: for each depth, the step where that frame is now (its call instruction). */
export interface FrameSite {
  depth: number;
  step: number;
}

const conditionalJump = /^\([0-9a-f]{2}\) if .* goto pc([+-]\d+)/;

/** The register states a C line left behind on the path to a step: what its instructions changed. */
export interface LineSummary {
  file: string;
  line: number;
  /** Frame the line ran in. */
  frame: number;
  /** "R0", text after the line's last instruction, in register order (R10, always fp0, left out). */
  registers: { name: string; text: string; type: string }[];
}

export class Walk {
  /** Steps where a breakpoint is set (any C line the user marked). */
  private breakpointSteps = new Set<number>();
  readonly last: number;

  constructor(readonly trace: VerifierTrace) {
    this.last = Math.max(0, trace.length - 1);
  }

  /** The failing step, when the verifier rejected the program at an instruction. */
  get failureStep(): number | undefined {
    if (!this.trace.failure) return undefined;
    return this.trace.failure.step ?? this.last;
  }

  setBreakpointSteps(steps: Iterable<number>): void {
    this.breakpointSteps = new Set(steps);
  }

  private frameOf(i: number): number {
    return this.trace.step(i).frame;
  }

  private resumed(i: number): boolean {
    return this.trace.step(i).resumedFrom !== undefined;
  }

  /** A breakpoint hit: a marked line entered (not the second instruction of the same line). */
  private hitsBreakpoint(i: number): boolean {
    if (!this.breakpointSteps.has(i)) return false;
    if (i === 0 || this.resumed(i)) return true;
    const t = this.trace;
    return !(this.breakpointSteps.has(i - 1) && t.locationIndex(i - 1) === t.locationIndex(i));
  }

  private stopAt(step: number, moved: boolean): Stop {
    if (step === this.failureStep) return { step, reason: 'exception' };
    if (moved && this.hitsBreakpoint(step)) return { step, reason: 'breakpoint' };
    if (step === this.last && !this.trace.failure) return { step, reason: 'end' };
    return { step, reason: 'step' };
  }

  /** Where the first stop of a session is. */
  start(stopOnEntry: boolean): Stop {
    if (stopOnEntry || this.trace.length === 0) return { step: 0, reason: 'entry' };
    return this.move(0, 'continue', true);
  }

  /**
   * The stop a movement from `from` reaches. `fromEntry` lets continue stop at a breakpoint on step 0
   * itself. Forward movements stop at breakpoints and at the failure on the way.
   */
  move(from: number, movement: Movement, fromEntry = false): Stop {
    const t = this.trace;
    if (t.length === 0) return { step: 0, reason: 'end' };
    const fail = this.failureStep;
    const frame0 = this.frameOf(from);
    const loc0 = t.locationIndex(from);
    const forward = (done: (i: number) => boolean): Stop => {
      for (let i = fromEntry ? from : from + 1; i <= this.last; i++) {
        if (i === fail || (i !== from && this.hitsBreakpoint(i)) || done(i)) return this.stopAt(i, true);
      }
      return this.stopAt(this.last, true);
    };
    switch (movement) {
      case 'instruction':
      case 'stepIn':
        return this.stopAt(Math.min(from + 1, this.last), from < this.last);
      case 'next':
        return forward((i) => this.resumed(i) || (this.frameOf(i) <= frame0 && t.locationIndex(i) !== loc0));
      case 'stepOut':
        return forward((i) => this.resumed(i) || this.frameOf(i) < frame0);
      case 'continue':
        return forward(() => false);
      case 'stepBack': {
        // Back to the first instruction of the previous C line at this depth or shallower.
        let i = from - 1;
        while (i > 0 && (this.frameOf(i) > frame0 || t.locationIndex(i) === loc0) && !this.resumed(i + 1)) i--;
        if (i < 0) return this.stopAt(0, false);
        const loc = t.locationIndex(i);
        const frame = this.frameOf(i);
        while (i > 0 && !this.resumed(i) && t.locationIndex(i - 1) === loc && this.frameOf(i - 1) === frame) i--;
        return i === 0 ? { step: 0, reason: 'entry' } : this.stopAt(i, false);
      }
      case 'reverseContinue': {
        for (let i = from - 1; i > 0; i--) if (this.hitsBreakpoint(i)) return { step: i, reason: 'breakpoint' };
        return { step: 0, reason: 'entry' };
      }
    }
  }

  /** One step back by instruction (the disassembly view's granularity). */
  back(from: number): Stop {
    return from <= 1 ? { step: 0, reason: 'entry' } : this.stopAt(from - 1, false);
  }

  /**
   * The frames at a step, innermost first: the step itself, then for each caller the last step of the
   * path in that frame (its call instruction).
   */
  frames(step: number): FrameSite[] {
    const t = this.trace;
    const depth = t.length === 0 ? 0 : this.frameOf(step);
    const sites: FrameSite[] = [{ depth, step }];
    let shallowest = depth;
    const runs = t.length === 0 ? [] : t.pathTo(step);
    for (let r = runs.length - 1; r >= 0 && shallowest > 0; r--) {
      const [first, lastInRun] = runs[r];
      for (let i = r === runs.length - 1 ? step - 1 : lastInRun; i >= first && shallowest > 0; i--) {
        const f = this.frameOf(i);
        if (f < shallowest) {
          sites.push({ depth: f, step: i });
          shallowest = f;
        }
      }
    }
    return sites;
  }

  /** The latest branch decisions on the path to a step, newest first (at most `limit`, scanning `scan` steps). */
  decisions(step: number, limit = 64, scan = 200_000): BranchDecision[] {
    const t = this.trace;
    const out: BranchDecision[] = [];
    if (t.length === 0) return out;
    const runs = t.pathTo(step);
    let nextInsn = t.step(step).insn;
    let scanned = 0;
    for (let r = runs.length - 1; r >= 0 && out.length < limit && scanned < scan; r--) {
      const [first, lastInRun] = runs[r];
      const top = r === runs.length - 1 ? step - 1 : lastInRun;
      for (let i = top; i >= first && out.length < limit && scanned < scan; i--, scanned++) {
        const s = t.step(i);
        const m = conditionalJump.exec(s.instruction);
        if (m) {
          const target = s.insn + 1 + Number(m[1]);
          out.push({
            step: i,
            insn: s.insn,
            line: s.line,
            instruction: s.instruction,
            taken: nextInsn === target,
            to: nextInsn,
          });
        }
        nextInsn = s.insn;
      }
      if (r > 0) nextInsn = t.step(first).insn;
    }
    return out;
  }

  /** Registers and slots whose text differs from the step the verifier came from (the parent branch on a
   *  resumed path), as "frame:name" keys. */
  changedAt(step: number): Set<string> {
    const t = this.trace;
    const changed = new Set<string>();
    if (step <= 0 || step >= t.length) return changed;
    const parent = t.step(step).resumedFrom !== undefined ? t.parentStep(step) : step - 1;
    if (parent < 0) return changed;
    const now = t.stateBefore(step);
    const before = t.stateBefore(parent);
    now.frames.forEach((frame, f) => {
      const old = before.frames[f];
      frame.registers.forEach((reg, r) => {
        if (reg && reg.text !== old?.registers[r]?.text) changed.add(`${f}:R${r}`);
      });
      for (const slot of frame.stack) {
        const prior = old?.stack.find((s) => s.offset === slot.offset);
        if (prior?.text !== slot.text) changed.add(`${f}:fp${slot.offset}`);
      }
    });
    return changed;
  }

  /**
   * For each C line on the path to a step (its latest visit, the step's own line up to the step), the
   * registers its instructions changed and their state after it. At most `scan` steps back.
   */
  lineSummaries(step: number, scan = 20_000): LineSummary[] {
    const t = this.trace;
    if (t.length === 0) return [];
    const steps: number[] = [];
    const runs = t.pathTo(step);
    for (let r = runs.length - 1; r >= 0 && steps.length < scan; r--)
      for (let i = r === runs.length - 1 ? step - 1 : runs[r][1]; i >= runs[r][0] && steps.length < scan; i--)
        steps.push(i);
    steps.reverse();
    const byLine = new Map<string, LineSummary>();
    let k = 0;
    while (k < steps.length) {
      const loc = t.locationIndex(steps[k]);
      const first = t.step(steps[k]);
      let end = k;
      while (
        end + 1 < steps.length &&
        t.locationIndex(steps[end + 1]) === loc &&
        t.step(steps[end + 1]).frame === first.frame
      )
        end++;
      if (first.file && first.line) {
        const names = new Set<number>();
        for (let j = k; j <= end; j++)
          for (const c of t.changes(steps[j]))
            if (c.frame === first.frame && c.name.startsWith('R') && c.name !== 'R10')
              names.add(Number(c.name.slice(1)));
        // Leaving the line into a resumed path (a popped branch), its state is the branch's, not the
        // fall-through's the instruction printed.
        const next = end + 1 < steps.length ? steps[end + 1] : step;
        const resumedNext = next !== steps[end] + 1;
        if (resumedNext)
          for (const key of this.changedAt(next)) {
            const [f, name] = key.split(':');
            if (Number(f) === first.frame && /^R\d$/.test(name)) names.add(Number(name.slice(1)));
          }
        const after = (resumedNext ? t.stateBefore(next) : t.stateAfter(steps[end])).frames[first.frame];
        const registers = [...names]
          .sort((a, b) => a - b)
          .flatMap((r) => {
            const reg = after?.registers[r];
            return reg ? [{ name: `R${r}`, text: reg.text, type: reg.type }] : [];
          });
        const key = `${first.file}:${first.line}`;
        byLine.delete(key);
        byLine.set(key, { file: first.file, line: first.line, frame: first.frame, registers });
      }
      k = end + 1;
    }
    return [...byLine.values()];
  }

  state(step: number): VerifierState {
    return this.trace.length === 0 ? { frames: [] } : this.trace.stateBefore(step);
  }
}
