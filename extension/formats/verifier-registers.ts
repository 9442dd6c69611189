// Register and stack-slot texts of a verifier state ("R1=map_value(map=m,ks=4,vs=8,off=0,imm=0)",
// "fp-8=mmmm0000") read into objects. Pure code, run by the host and the verifier debug adapter.
import { RawFrame, valueAt } from './verifier-trace-frames';
import type { FrameState, RegisterState, ScalarBounds, StackSlot, VerifierState } from './verifier-trace-types';

function stackPairs(flat: number[]): [number, number][] {
  const pairs: [number, number][] = [];
  for (let k = 0; k < flat.length; k += 2) pairs.push([flat[k], flat[k + 1]]);
  return pairs;
}

export function materialise(log: string, frames: RawFrame[]): VerifierState {
  return {
    frames: frames.map((f, frame) => {
      const registers: (RegisterState | undefined)[] = new Array(11);
      f.regs.forEach((start, r) => {
        if (start >= 0) registers[r] = parseRegisterValue(valueAt(log, start));
      });
      const state: FrameState = {
        frame,
        registers,
        stack: stackPairs(f.stack)
          .sort((a, b) => b[0] - a[0])
          .map(([offset, start]) => parseStackSlot(offset, valueAt(log, start))),
      };
      if (f.refs >= 0)
        state.refs = valueAt(log, f.refs)
          .split(',')
          .map(Number)
          .filter((n) => Number.isFinite(n));
      if (f.flags) state.flags = f.flags.split(' ');
      return state;
    }),
  };
}

const slotBytes = /^[?rm0di]{8}$/;

export function parseStackSlot(offset: number, text: string): StackSlot {
  if (slotBytes.test(text)) return { offset, text, bytes: text };
  // A spilled unknown scalar prints as nothing after `=` on older kernels.
  return { offset, text, spilled: parseRegisterValue(text === '' ? 'scalar()' : text) };
}

const typePrefixes = ['rdonly_', 'ringbuf_', 'user_', 'percpu_', 'rcu_', 'untrusted_', 'trusted_'];
const oldBoundNames: Record<string, keyof ScalarBounds> = {
  smin_value: 'smin',
  smax_value: 'smax',
  umin_value: 'umin',
  umax_value: 'umax',
  s32_min_value: 'smin32',
  s32_max_value: 'smax32',
  u32_min_value: 'umin32',
  u32_max_value: 'umax32',
};
const bound64 = new Set(['smin', 'smax', 'umin', 'umax']);
const bound32 = new Set(['smin32', 'smax32', 'umin32', 'umax32']);

function toBigInt(text: string): bigint | undefined {
  const m = /^(-)?(0x[0-9a-f]+|\d+)$/i.exec(text.trim());
  if (!m) return undefined;
  const v = BigInt(m[2]);
  return m[1] ? -v : v;
}

function toNumber(text: string): number | undefined {
  const v = toBigInt(text);
  return v === undefined ? undefined : Number(v);
}

/** Parses one register value as the verifier prints it (6.x and the older `inv`/`_value` spellings). */
export function parseRegisterValue(text: string): RegisterState {
  let rest = text.trim();
  let precise = false;
  if (rest.startsWith('P')) {
    precise = true;
    rest = rest.slice(1);
  }
  const state: RegisterState = { text, type: 'scalar', kind: 'scalar', nullable: false, precise, bounds: {} };

  // A known constant: `5`, `0xffffffff`, `-255`.
  const constant = toBigInt(rest);
  if (constant !== undefined) {
    state.imm = constant;
    return state;
  }
  // A stack pointer at a constant offset: `fp0`, `fp-8`.
  const fp = /^fp(-?\d+)$/.exec(rest);
  if (fp) {
    state.type = 'fp';
    state.kind = 'fp';
    state.off = Number(fp[1]);
    state.imm = BigInt(fp[1]);
    return state;
  }
  // Older kernels: `inv`, `inv12`, `invP0`, `inv(id=0,...)`.
  const inv = /^inv(P?)(-?\d+)?(?=$|\()/.exec(rest);
  let name: string;
  let inner = '';
  if (inv) {
    if (inv[1]) state.precise = true;
    if (inv[2] !== undefined) state.imm = BigInt(inv[2]);
    name = 'scalar';
    const open = rest.indexOf('(');
    if (open >= 0) inner = rest.slice(open + 1, rest.lastIndexOf(')') > open ? rest.lastIndexOf(')') : undefined);
  } else {
    const open = rest.indexOf('(');
    name = open >= 0 ? rest.slice(0, open) : rest;
    if (open >= 0) {
      const close = rest.lastIndexOf(')');
      inner = rest.slice(open + 1, close > open ? close : undefined);
    }
  }
  state.type = name || 'scalar';
  describeType(state);
  if (inner) readAttributes(state, inner);
  return state;
}

function describeType(state: RegisterState): void {
  let kind = state.type;
  let stripped = true;
  while (stripped) {
    stripped = false;
    for (const prefix of typePrefixes) {
      if (kind.startsWith(prefix) && kind.length > prefix.length) {
        kind = kind.slice(prefix.length);
        stripped = true;
      }
    }
  }
  if (kind.startsWith('ptr_')) {
    // BTF-typed pointers print as ptr_<type> or, maybe NULL, ptr_or_null_<type>.
    state.kind = 'ptr';
    let btf = kind.slice(4);
    if (btf.startsWith('or_null_')) {
      state.nullable = true;
      btf = btf.slice(8);
    }
    if (btf) state.btfType = btf;
    return;
  }
  if (kind.endsWith('_or_null')) {
    state.nullable = true;
    kind = kind.slice(0, -8);
  }
  state.kind = kind === 'inv' ? 'scalar' : kind;
}

function readAttributes(state: RegisterState, inner: string): void {
  // Split at commas outside parentheses: `var_off=(0x0; 0xff)` holds none, but keep to the rule.
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner.charCodeAt(i);
    if (c === 40) depth++;
    else if (c === 41) depth--;
    else if (c === 44 && depth === 0) {
      parts.push(inner.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(inner.slice(start));
  for (const part of parts) {
    const eq = part.lastIndexOf('=');
    if (eq < 0) {
      if (part.trim()) (state.extra ??= {})[part.trim()] = '';
      continue;
    }
    // `smin=umin=umin32=101` names one value several times.
    const keys = part.slice(0, eq).split('=');
    const value = part.slice(eq + 1);
    for (const rawKey of keys) {
      const key: string = oldBoundNames[rawKey] ?? rawKey;
      if (bound64.has(key)) {
        const v = toBigInt(value);
        if (v !== undefined) state.bounds[key as 'smin'] = v;
      } else if (bound32.has(key)) {
        const v = toNumber(value);
        if (v !== undefined) state.bounds[key as 'smin32'] = v;
      } else if (key === 'var_off') {
        const m = /^\(\s*(0x[0-9a-f]+|\d+)\s*;\s*(0x[0-9a-f]+|\d+)\s*\)$/i.exec(value);
        if (m) state.varOff = { value: BigInt(m[1]), mask: BigInt(m[2]) };
      } else if (key === 'imm') {
        // Older kernels print imm in hex without 0x.
        const v = /^-?[0-9a-f]+$/i.test(value)
          ? BigInt(`${value.startsWith('-') ? '-' : ''}0x${value.replace('-', '')}`)
          : undefined;
        if (v !== undefined) state.imm = v;
      } else if (
        key === 'id' ||
        key === 'ref_obj_id' ||
        key === 'off' ||
        key === 'r' ||
        key === 'sz' ||
        key === 'ks' ||
        key === 'vs'
      ) {
        const v = toNumber(value);
        if (v === undefined) {
          (state.extra ??= {})[key] = value;
          continue;
        }
        if (key === 'id') state.id = v;
        else if (key === 'ref_obj_id') state.refObjId = v;
        else if (key === 'off') state.off = v;
        else if (key === 'r') state.range = v;
        else if (key === 'sz') state.size = v;
        else if (key === 'ks') (state.map ??= {}).keySize = v;
        else (state.map ??= {}).valueSize = v;
      } else if (key === 'map') {
        (state.map ??= {}).name = value;
      } else {
        (state.extra ??= {})[key] = value;
      }
    }
  }
}
