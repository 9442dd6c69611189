// Which struct a ring/perf buffer event is. A program's BTF carries its own structs only when something
// global names them (an anchor such as `struct event *unused_event __attribute__((unused));`), and it also
// carries every kernel type its CO-RE reads reach (task_struct pulls in hundreds). So candidates come from
// three places, in this order: the object's own structs, the structs of the source's own headers (compiled
// into BTF apart, see toolchain/header-structs.ts), and kernel types last. Pure; run by the host.
import type { BtfType } from '../protocol/types';
import { typeSize } from './btf-types';

export type StructOrigin = 'object' | 'header' | 'kernel';

export interface EventStructCandidate {
  name: string;
  type: BtfType;
  origin: StructOrigin;
}

/**
 * Program contexts, tracepoint records and the kernel objects programs read from: a program never emits
 * these, whatever their size (and without the kernel's names at hand, this is all that tells them apart).
 */
const CONTEXT_STRUCT =
  /^(xdp_md|__sk_buff|pt_regs|user_pt_regs|sk_msg_md|sk_reuseport_md|bpf_\w+|trace_event_raw_\w+|trace_entry|task_struct|sock|sk_buff|file|inode)$/;

/**
 * Every struct that could describe events, each once, by origin: an object struct whose name the kernel's
 * BTF also has (or a program context) is a kernel type; a header struct the object lacks is added.
 */
export function eventStructCandidates(
  objectStructs: Record<string, BtfType>,
  headerStructs: Record<string, BtfType>,
  kernelStructNames: ReadonlySet<string>,
): EventStructCandidate[] {
  const out: EventStructCandidate[] = [];
  const isKernel = (name: string) => kernelStructNames.has(name) || CONTEXT_STRUCT.test(name);
  for (const [name, type] of Object.entries(objectStructs)) {
    if (type.kind === 'void') continue;
    out.push({ name, type, origin: isKernel(name) ? 'kernel' : 'object' });
  }
  for (const [name, type] of Object.entries(headerStructs)) {
    if (type.kind === 'void' || objectStructs[name]) continue;
    out.push({ name, type, origin: isKernel(name) ? 'kernel' : 'header' });
  }
  return out;
}

/**
 * Whether a struct fits a record of `size` bytes: ring buffer records are exactly the reserved size; perf
 * samples are padded so that size + 4 is a multiple of 8, hence the small window below `size`.
 */
export function fitsRecord(type: BtfType, size: number): boolean {
  const n = typeSize(type);
  return n === size || (n < size && n > size - 8 && (n + 4 + 7) >> 3 === (size + 4) >> 3);
}

const ORIGIN_RANK: Record<StructOrigin, number> = { object: 0, header: 1, kernel: 2 };

/**
 * The picker's order for a record of `size` bytes: the object's and headers' structs that fit first, then
 * their other structs, kernel types that fit after them and the rest of the kernel last; by name within each.
 */
export function rankEventStructs(candidates: EventStructCandidate[], size: number): EventStructCandidate[] {
  const rank = (c: EventStructCandidate) =>
    c.origin === 'kernel'
      ? fitsRecord(c.type, size)
        ? 4
        : 5
      : (fitsRecord(c.type, size) ? 0 : 2) + ORIGIN_RANK[c.origin];
  return [...candidates].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

/**
 * The struct to decode records of `size` bytes with, without asking: the remembered choice when it still
 * fits; else the one object struct that fits; else the one header struct that fits. Never a kernel type.
 * Undefined when none or several fit (then the user is asked, with rankEventStructs' order).
 */
export function autoEventStruct(
  candidates: EventStructCandidate[],
  size: number,
  preferred?: string,
): EventStructCandidate | undefined {
  const remembered = preferred ? candidates.find((c) => c.name === preferred) : undefined;
  if (remembered && fitsRecord(remembered.type, size)) return remembered;
  for (const origin of ['object', 'header'] as const) {
    const fit = candidates.filter((c) => c.origin === origin && fitsRecord(c.type, size));
    // Exact sizes beat padded ones (perf samples): two structs 4 bytes apart must not tie.
    const exact = fit.filter((c) => typeSize(c.type) === size);
    if (exact.length === 1) return exact[0];
    if (exact.length > 1) return undefined;
    if (fit.length === 1) return fit[0];
    if (fit.length > 1) return undefined;
  }
  return undefined;
}
