// A parsed verifier walk (VerifierTrace, made by verifier-trace.ts parseVerifierTrace): its steps, and the
// state at any step rebuilt from the nearest checkpoint. Pure code, run by the host and the verifier debug adapter.
import type { SourceLocation } from './verifier-rejection';
import { materialise } from './verifier-registers';
import {
  applyOp,
  applyStateText,
  Columns,
  emptyFrame,
  Op,
  OpField,
  RawFrame,
  Step,
  StepFlag,
} from './verifier-trace-frames';
import type { StateChange, TraceFailure, TraceStats, TraceStep, VerifierState } from './verifier-trace-types';

export class VerifierTrace {
  /** Number of steps. */
  readonly length: number;
  readonly failure?: TraceFailure;
  readonly stats: TraceStats;
  /** The global subprograms verified on their own ("Validating f() func#2..."): their first step. */
  readonly sections: { name: string; firstStep: number }[];

  /** @internal Use parseVerifierTrace. */
  constructor(
    private readonly log: string,
    private readonly t: Columns,
    stats: TraceStats,
    sections: { name: string; firstStep: number }[],
  ) {
    this.length = t.stepCount;
    this.stats = stats;
    this.sections = sections;
  }

  step(index: number): TraceStep {
    this.check(index);
    const t = this.t;
    const b = index * Step.Width;
    const loc = t.steps[b + Step.Loc];
    const ff = t.steps[b + Step.FrameFlags];
    const step: TraceStep = {
      step: index,
      insn: t.steps[b + Step.Insn],
      frame: ff & 0xff,
      instruction: this.log.slice(t.steps[b + Step.TextStart], t.steps[b + Step.TextEnd]),
    };
    if (loc >= 0) {
      step.file = t.locations[loc].file;
      step.line = t.locations[loc].line;
      step.code = t.locations[loc].code;
    }
    if ((ff >> 8) & StepFlag.Resumed) step.resumedFrom = t.steps[b + Step.ResumedFrom];
    if ((ff >> 8) & StepFlag.Speculative) step.speculative = true;
    return step;
  }

  /** The state when the verifier reached the step, before the instruction. */
  stateBefore(index: number): VerifierState {
    this.check(index);
    return materialise(this.log, this.replay(index, this.t.steps[index * Step.Width + Step.OpBefore]));
  }

  /** The state after the step's instruction (after a call into a subprogram: inside the callee). */
  stateAfter(index: number): VerifierState {
    this.check(index);
    return materialise(this.log, this.replay(index, this.t.steps[index * Step.Width + Step.OpAfter]));
  }

  /** What the step's instruction changed, as the verifier printed it (a call also ends R1-R5). */
  changes(index: number): StateChange[] {
    this.check(index);
    const t = this.t;
    const seen = new Set<string>();
    const out: StateChange[] = [];
    const opBefore = t.steps[index * Step.Width + Step.OpBefore];
    const opAfter = t.steps[index * Step.Width + Step.OpAfter];
    const frames = this.replay(index, opBefore);
    const add = (frame: number, name: string) => {
      const key = `${frame}:${name}`;
      if (seen.has(key)) return;
      seen.add(key);
      out.push({ frame, name });
    };
    for (let op = opBefore; op < opAfter; op++) {
      const o = op * OpField.Width;
      const kind = t.ops[o + OpField.KindFrame] & 0xff;
      const frame = kind === Op.Clobber ? Math.max(0, frames.length - 1) : t.ops[o + OpField.KindFrame] >> 8;
      if (kind === Op.Clobber) {
        for (let r = 1; r <= 5; r++) add(frame, `R${r}`);
      } else if (kind === Op.Delta || kind === Op.Full) {
        const f = emptyFrame();
        applyStateText(f, this.log, t.ops[o + OpField.Start], t.ops[o + OpField.End]);
        f.regs.forEach((start, r) => start >= 0 && add(frame, `R${r}`));
        for (let k = 0; k < f.stack.length; k += 2) add(frame, `fp${f.stack[k]}`);
      }
      applyOp(frames, this.log, t, op);
    }
    return out;
  }

  /** The step whose branch this step's path resumed (the pushed branch instruction), or -1 on the first path. */
  parentStep(index: number): number {
    this.check(index);
    return this.t.segParent[this.segmentOf(index)];
  }

  /** The steps of the path that leads to this step, as [first, last] runs from the start of its verification. */
  pathTo(index: number): [number, number][] {
    this.check(index);
    const runs: [number, number][] = [];
    let last = index;
    while (last >= 0) {
      const seg = this.segmentOf(last);
      runs.push([this.t.segFirst[seg], last]);
      const parent = this.t.segParent[seg];
      last = parent < last ? parent : -1;
    }
    return runs.reverse();
  }

  /** Steps at a source line, in walk order (for breakpoints). A file matches by its path or its trailing part. */
  stepsAt(file: string, line: number): number[] {
    const t = this.t;
    const wanted = new Set<number>();
    t.locations.forEach((l, i) => {
      if (l.line === line && (l.file === file || l.file.endsWith(`/${file}`) || file.endsWith(`/${l.file}`)))
        wanted.add(i);
    });
    const out: number[] = [];
    if (wanted.size === 0) return out;
    for (let i = 0; i < this.length; i++) if (wanted.has(t.steps[i * Step.Width + Step.Loc])) out.push(i);
    return out;
  }

  /** Distinct source lines of the log, in the order first met. */
  get sourceLocations(): readonly SourceLocation[] {
    return this.t.locations;
  }

  /** Index into sourceLocations of a step's line, or -1. */
  locationIndex(index: number): number {
    this.check(index);
    return this.t.steps[index * Step.Width + Step.Loc];
  }

  private check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.length)
      throw new RangeError(`no step ${index} (0..${this.length - 1})`);
  }

  private segmentOf(step: number): number {
    const first = this.t.segFirst;
    let lo = 0;
    let hi = first.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (first[mid] <= step) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private replay(step: number, untilOp: number): RawFrame[] {
    const t = this.t;
    const c = Math.floor(step / t.every);
    const frames = t.checkpoints[c].slice();
    for (let op = t.checkpointOp[c]; op < untilOp; op++) applyOp(frames, this.log, t, op);
    return frames;
  }
}
