// Names in raw BTF (the kernel's /sys/kernel/btf/vmlinux): its functions (fentry/, fexit/, kprobe/ targets),
// its raw tracepoints (the `btf_trace_<name>` typedefs tp_btf/ and raw_tp/ attach to) and its struct names
// (to tell a program's own event structs from the kernel types its BTF also carries). A small reader of
// the BTF type section: only names and kinds, no type graph. Pure: the caller reads the file. Run by the language server and the host.

const BTF_MAGIC = 0xeb9f;
const KIND = { struct: 4, union: 5, typedef: 8, func: 12 } as const;

/** Bytes that follow the 12-byte btf_type header, per kind (include/uapi/linux/btf.h). */
function trailingBytes(kind: number, vlen: number): number {
  switch (kind) {
    case 1: // INT
    case 14: // VAR
    case 17: // DECL_TAG
      return 4;
    case 3: // ARRAY
      return 12;
    case 4: // STRUCT
    case 5: // UNION
    case 15: // DATASEC
    case 19: // ENUM64
      return vlen * 12;
    case 6: // ENUM
    case 13: // FUNC_PROTO
      return vlen * 8;
    default:
      return 0;
  }
}

export interface BtfNames {
  functions: string[];
  rawTracepoints: string[];
  /** Named structs and unions: in the kernel's BTF, the kernel's own types. */
  structs: string[];
}

/** Reads function, raw tracepoint and struct names from raw BTF; throws on a blob that is not BTF. */
export function parseBtfNames(data: Buffer): BtfNames {
  if (data.length < 24 || data.readUInt16LE(0) !== BTF_MAGIC) throw new Error('not a little-endian BTF blob');
  const hdrLen = data.readUInt32LE(4);
  const typeOff = hdrLen + data.readUInt32LE(8);
  const typeEnd = typeOff + data.readUInt32LE(12);
  const strOff = hdrLen + data.readUInt32LE(16);
  const name = (off: number) => {
    const start = strOff + off;
    return data.toString('latin1', start, data.indexOf(0, start));
  };
  const functions: string[] = [];
  const rawTracepoints: string[] = [];
  const structs: string[] = [];
  for (let at = typeOff; at + 12 <= typeEnd;) {
    const nameOff = data.readUInt32LE(at);
    const info = data.readUInt32LE(at + 4);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    if (kind === KIND.func && nameOff) functions.push(name(nameOff));
    else if ((kind === KIND.struct || kind === KIND.union) && nameOff) structs.push(name(nameOff));
    else if (kind === KIND.typedef && nameOff) {
      const typedef = name(nameOff);
      if (typedef.startsWith('btf_trace_')) rawTracepoints.push(typedef.slice('btf_trace_'.length));
    }
    at += 12 + trailingBytes(kind, vlen);
  }
  return { functions, rawTracepoints, structs };
}
