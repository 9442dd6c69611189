// map/edit: one entry written in one helper call, checked against what the user saw. The old way (look up,
// edit, write back over two round trips) overwrote whatever the program wrote in between, rewrote other
// CPUs of a per-CPU map with stale values and wrote descriptor-valued maps with ids. Here the current value
// is read, compared with `expected` and written microseconds apart (the kernel has no compare-and-swap for
// map elements; BPF_F_LOCK covers only values with a bpf_spin_lock), per-CPU edits touch one CPU's slot, and
// program/map references are opened by id for the write.
import type { NativeAddon } from '../../native/types';
import { perCpuSlot } from '../formats/btf-decode';
import { fdValueKind, isLruMapType, isPerCpuMapType, undumpableReason } from '../formats/map-types';
import type { MapEditParams, MapEditResult } from '../protocol/methods';
import { HelperFailure } from './errors';
import { faultPoint } from './faults';
import { withOpenMap } from './map-pages';

const BPF_NOEXIST = 1;
const BPF_EXIST = 2;

function conflict(reason: 'exists' | 'gone' | 'changed', message: string): HelperFailure {
  return new HelperFailure({ kind: 'Conflict', reason }, message);
}

function badInput(field: string, reason: string): HelperFailure {
  return new HelperFailure({ kind: 'BadInput', field, reason }, reason);
}

export function editEntry(native: NativeAddon, p: MapEditParams): MapEditResult {
  return withOpenMap(native, p.mapId, (map) => {
    const info = map.info;
    const key = Buffer.from(p.key, 'hex');
    if (key.length !== info.keySize)
      throw badInput('key', `A key of ${info.name} has ${info.keySize} bytes, not ${key.length}.`);
    const why = undumpableReason(info.type);
    if (why) throw badInput('mapId', why);
    const fdKind = fdValueKind(info.type);
    const perCpu = isPerCpuMapType(info.type);
    const current = map.lookup(key);
    const where = `${info.name}[${p.key}]`;
    // Plain arrays hold every key: "add" there means writing a slot that is already present. Arrays of
    // references (prog_array, array_of_maps) have empty slots, but like every array refuse BPF_NOEXIST.
    const arrayLike = /array/.test(info.type);
    const isArray = arrayLike && !fdKind;
    if (p.mode === 'add' && current && !isArray) throw conflict('exists', `${where} already exists: edit it instead.`);
    if (p.mode === 'edit') {
      if (!current) throw conflict('gone', `${where} was deleted since you opened it: reload?`);
      if (p.expected !== undefined) {
        const expected = Buffer.from(p.expected, 'hex');
        const cpu = p.value.kind === 'bytes' ? p.value.cpu : undefined;
        const seen =
          perCpu && cpu !== undefined
            ? current.subarray(cpu * perCpuSlot(info.valueSize), cpu * perCpuSlot(info.valueSize) + info.valueSize)
            : current;
        if (!seen.equals(expected)) throw conflict('changed', `${where} changed since you opened it: reload?`);
      }
    }
    const flags = arrayLike ? 0 : p.mode === 'add' ? BPF_NOEXIST : BPF_EXIST;

    if (p.value.kind !== 'bytes') {
      if (fdKind !== p.value.kind)
        throw badInput(
          'value',
          fdKind
            ? `${info.name} (${info.type}) holds ${fdKind} references, not ${p.value.kind}s.`
            : `${info.name} (${info.type}) holds plain values, not ${p.value.kind} references.`,
        );
      faultPoint('map:update');
      native.updateMapWithObject(info.id, key, p.value.kind, p.value.id, flags);
    } else {
      if (fdKind === 'socket')
        throw badInput(
          'value',
          `${info.name} holds sockets, which belong to other processes and cannot be opened by id.`,
        );
      if (fdKind) throw badInput('value', `${info.name} holds ${fdKind} references: pick a ${fdKind} by id.`);
      const bytes = Buffer.from(p.value.bytes, 'hex');
      if (bytes.length !== info.valueSize)
        throw badInput('value', `A value of ${info.name} has ${info.valueSize} bytes, not ${bytes.length}.`);
      let full = bytes;
      if (perCpu) {
        const slot = perCpuSlot(info.valueSize);
        const cpus = map.userValueSize / slot;
        const cpu = p.value.cpu;
        if (cpu !== undefined && cpu >= cpus)
          throw badInput('cpu', `${info.name} has ${cpus} CPU slots, not ${cpu + 1}.`);
        // The other CPUs keep their current values, read just now.
        full = current ? Buffer.from(current) : Buffer.alloc(map.userValueSize);
        for (let c = 0; c < cpus; c++) if (cpu === undefined || cpu === c) bytes.copy(full, c * slot);
      }
      faultPoint('map:update');
      map.update(key, full, flags);
    }
    return isLruMapType(info.type)
      ? {
          warning: `${info.name} is an LRU map: when it is full, a write evicts its least recently used entry, so another entry may have gone.`,
        }
      : {};
  });
}
