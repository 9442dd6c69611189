// The child process of test/security/fuzz-objects.test.ts: reads object files with the native addon, as
// the helper's describe and structTypes do, and then with the TypeScript decoders the extension host runs
// on what comes back. A crash here (a signal) or a hang is then the parent's finding, not the death of
// mocha. Before each phase it says which one it enters, so a hang is attributed to the right code.
import { loadNative } from '../../native';
import { decodeLeaves } from '../../extension/formats/btf-decode';
import { leavesOf } from '../../extension/formats/btf-leaves';
import { typeSize } from '../../extension/formats/btf-types';
import { EventDecoder } from '../../extension/formats/event-decode';
import type { BtfType } from '../../extension/protocol/types';

export interface CaseRequest {
  id: number;
  path: string;
}

export type PhaseResult =
  | { ok: true; summary: string }
  | { ok: false; isError: boolean; name?: string; message?: string; code?: string; errno?: number };

export type ChildMessage =
  | { id: number; phase: string }
  | { id: number; done: true; describe: PhaseResult; structTypes: PhaseResult; decode: PhaseResult };

const native = loadNative();
const send = (m: ChildMessage) => process.send!(m);

function run(fn: () => string): PhaseResult {
  try {
    return { ok: true, summary: fn() };
  } catch (error) {
    const e = error as { name?: string; message?: string; code?: string; errno?: number };
    return {
      ok: false,
      isError: error instanceof Error,
      name: e?.name,
      message: typeof e?.message === 'string' ? e.message : undefined,
      code: typeof e?.code === 'string' ? e.code : undefined,
      errno: typeof e?.errno === 'number' ? e.errno : undefined,
    };
  }
}

/** What the host does with the trees: flatten and decode them over their bytes (or zeros). */
function decodeAll(types: { type: BtfType; bytes?: Uint8Array }[]): string {
  let leaves = 0;
  for (const { type, bytes } of types) {
    const size = Math.min(typeSize(type), 1 << 20);
    const buf = bytes ?? new Uint8Array(size);
    const l = leavesOf(type);
    decodeLeaves(l, buf, 0);
    new EventDecoder(type).decode(buf, 0, buf.length);
    leaves += l.length;
  }
  return `${types.length} types, ${leaves} leaves`;
}

process.on('message', ({ id, path }: CaseRequest) => {
  send({ id, phase: 'describeObject' });
  let variables: { type: BtfType; bytes?: Uint8Array }[] = [];
  const describe = run(() => {
    const spec = native.describeObject(path);
    variables = spec.variables.map((v) => ({ type: v.type, bytes: new Uint8Array(v.initial) }));
    JSON.stringify(spec);
    return `${spec.programs.length} programs, ${spec.maps.length} maps, ${spec.variables.length} variables, ${spec.structNames.length} structs`;
  });
  send({ id, phase: 'objectStructTypes' });
  let structs: BtfType[] = [];
  const structTypes = run(() => {
    const types = native.objectStructTypes(path);
    structs = Object.values(types);
    JSON.stringify(types);
    return `${structs.length} structs`;
  });
  send({ id, phase: 'decode (btf-decode, event-decode)' });
  const decode = run(() => decodeAll([...variables, ...structs.map((type) => ({ type }))]));
  send({ id, done: true, describe, structTypes, decode });
});
