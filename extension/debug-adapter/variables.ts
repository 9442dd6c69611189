// The verifier debug session's variables: scopes (registers, stack, what changed, branch decisions) and
// the register and stack-slot rows under them, with their handles. Runs where the debug adapter runs (the
// extension host, inline, or its own process in tests).
import { Handles } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { RegisterState, StackSlot } from '../formats/verifier-trace-types';
import type { Walk } from './walk';

/** What a variable handle stands for. */
export type VarRef =
  | { kind: 'registers'; depth: number }
  | { kind: 'stack'; depth: number }
  | { kind: 'changed' }
  | { kind: 'branches' }
  | { kind: 'register'; reg: RegisterState }
  | { kind: 'slot'; slot: StackSlot };

/** Variable handles of one stop: reset whenever the session stops again. */
export class Variables {
  private readonly handles = new Handles<VarRef>();

  reset(): void {
    this.handles.reset();
  }

  create(ref: VarRef): number {
    return this.handles.create(ref);
  }

  get(id: number): VarRef | undefined {
    return this.handles.get(id);
  }

  /** The children of a scope or a variable at step `position`. */
  list(walk: Walk, position: number, ref: VarRef): DebugProtocol.Variable[] {
    switch (ref.kind) {
      case 'registers': {
        const frame = walk.state(position).frames[ref.depth];
        const changed = walk.changedAt(position);
        const out: DebugProtocol.Variable[] = [];
        for (let r = 0; r <= 10; r++)
          out.push(this.register(`R${r}`, frame?.registers[r], changed.has(`${ref.depth}:R${r}`)));
        return out;
      }
      case 'stack': {
        const frame = walk.state(position).frames[ref.depth];
        const changed = walk.changedAt(position);
        return (frame?.stack ?? []).map((slot) => this.slot(slot, changed.has(`${ref.depth}:fp${slot.offset}`)));
      }
      case 'changed': {
        const state = walk.state(position);
        const out: DebugProtocol.Variable[] = [];
        for (const key of walk.changedAt(position)) {
          const [f, name] = key.split(':');
          const frame = state.frames[Number(f)];
          const prefix = state.frames.length > 1 ? `frame${f} ` : '';
          if (name.startsWith('R')) {
            const v = this.register(name, frame?.registers[Number(name.slice(1))], true);
            out.push({ ...v, name: prefix + name, evaluateName: name });
          } else {
            const slot = frame?.stack.find((s) => `fp${s.offset}` === name);
            if (slot) out.push({ ...this.slot(slot, true), name: prefix + name });
          }
        }
        return out;
      }
      case 'branches':
        return walk.decisions(position).map((d) => ({
          name: `insn ${d.insn}${d.line ? ` (line ${d.line})` : ''}`,
          value: `${d.instruction.replace(/^\([0-9a-f]{2}\) /, '')} → ${d.taken ? 'taken' : 'not taken'} (to insn ${d.to})`,
          variablesReference: 0,
          presentationHint: { kind: 'event', attributes: ['readOnly'] },
        }));
      case 'register':
        return registerDetails(ref.reg);
      case 'slot': {
        const out: DebugProtocol.Variable[] = [{ name: 'text', value: ref.slot.text, variablesReference: 0 }];
        if (ref.slot.bytes) out.push({ name: 'bytes', value: ref.slot.bytes, variablesReference: 0 });
        if (ref.slot.spilled) out.push(this.register('spilled', ref.slot.spilled, false));
        return out;
      }
    }
  }

  register(name: string, reg: RegisterState | undefined, changed: boolean): DebugProtocol.Variable {
    const attributes = changed ? ['readOnly', 'changed'] : ['readOnly'];
    if (!reg)
      return {
        name,
        value: 'not readable',
        variablesReference: 0,
        evaluateName: name,
        presentationHint: { kind: 'data', attributes, visibility: 'public' },
      };
    return {
      name,
      value: reg.text,
      type: reg.type,
      evaluateName: name,
      variablesReference: this.handles.create({ kind: 'register', reg }),
      presentationHint: { kind: 'data', attributes },
    };
  }

  slot(slot: StackSlot, changed: boolean): DebugProtocol.Variable {
    return {
      name: `fp${slot.offset}`,
      value: slot.spilled ? `${slot.spilled.text} (spilled)` : slot.text,
      type: slot.spilled?.type ?? 'stack',
      evaluateName: `fp${slot.offset}`,
      variablesReference: this.handles.create({ kind: 'slot', slot }),
      presentationHint: { kind: 'data', attributes: changed ? ['readOnly', 'changed'] : ['readOnly'] },
    };
  }

  /** A watch or hover expression: a register (R0 … R10, r3, w3) or a stack slot (fp-8) of frame `depth`. */
  evaluate(walk: Walk, position: number, depth: number, expression: string): DebugProtocol.Variable | undefined {
    const frame = walk.state(position).frames[depth];
    const register = /^[rRwW](\d+)$/.exec(expression);
    const slot = /^fp(-\d+)$/.exec(expression);
    if (register && Number(register[1]) <= 10)
      return this.register(`R${register[1]}`, frame?.registers[Number(register[1])], false);
    if (slot) {
      const found = frame?.stack.find((s) => s.offset === Number(slot[1]));
      return found ? this.slot(found, false) : { name: expression, value: 'not written', variablesReference: 0 };
    }
    return undefined;
  }
}

/** What the verifier knows about a register, one row per fact. */
export function registerDetails(reg: RegisterState): DebugProtocol.Variable[] {
  const rows: [string, string | undefined][] = [
    ['type', reg.type],
    ['kind', reg.kind],
    ['nullable', reg.nullable ? 'yes (check it against NULL first)' : undefined],
    ['btf type', reg.btfType],
    ['value', reg.imm?.toString()],
    ['off', reg.off?.toString()],
    ['range (bytes proven readable)', reg.range?.toString()],
    ['map', reg.map?.name],
    ['key size', reg.map?.keySize?.toString()],
    ['value size', reg.map?.valueSize?.toString()],
    ['size', reg.size?.toString()],
    ['smin', reg.bounds.smin?.toString()],
    ['smax', reg.bounds.smax?.toString()],
    ['umin', reg.bounds.umin?.toString()],
    ['umax', reg.bounds.umax?.toString()],
    ['smin32', reg.bounds.smin32?.toString()],
    ['smax32', reg.bounds.smax32?.toString()],
    ['umin32', reg.bounds.umin32?.toString()],
    ['umax32', reg.bounds.umax32?.toString()],
    ['var_off', reg.varOff ? `(0x${reg.varOff.value.toString(16)}; 0x${reg.varOff.mask.toString(16)})` : undefined],
    ['id', reg.id?.toString()],
    ['ref_obj_id', reg.refObjId?.toString()],
    ['precise', reg.precise ? 'yes' : undefined],
    ...Object.entries(reg.extra ?? {}),
  ];
  return rows
    .filter((row): row is [string, string] => row[1] !== undefined)
    .map(([name, value]) => ({ name, value, variablesReference: 0, presentationHint: { attributes: ['readOnly'] } }));
}
