// A small decoder of the BPF instruction set (Documentation/bpf/standardization/instruction-set.rst) into
// the kernel's own text, as the verifier log and bpftool print it: "3: (79) r1 = *(u64 *)(r0 +0)". Pure.

export interface DecodedInsn {
  /** Index in 8-byte slots; a 64-bit immediate load takes two. */
  index: number;
  code: number;
  text: string;
  /** 1 or 2 slots. */
  slots: number;
}

const SIZE: Record<number, string> = { 0x00: 'u32', 0x08: 'u16', 0x10: 'u8', 0x18: 'u64' };
const SIGNED_SIZE: Record<number, string> = { 0x00: 's32', 0x08: 's16', 0x10: 's8', 0x18: 's64' };
const ALU_OP: Record<number, string> = {
  0x00: '+=',
  0x10: '-=',
  0x20: '*=',
  0x30: '/=',
  0x40: '|=',
  0x50: '&=',
  0x60: '<<=',
  0x70: '>>=',
  0x90: '%=',
  0xa0: '^=',
  0xb0: '=',
  0xc0: 's>>=',
};
const JMP_OP: Record<number, string> = {
  0x10: '==',
  0x20: '>',
  0x30: '>=',
  0x40: '&',
  0x50: '!=',
  0x60: 's>',
  0x70: 's>=',
  0xa0: '<',
  0xb0: '<=',
  0xc0: 's<',
  0xd0: 's<=',
};
const ATOMIC_OP: Record<number, string> = { 0x00: 'add', 0x40: 'or', 0x50: 'and', 0xa0: 'xor' };

const hex = (n: number) => (n < 0 ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`);
const signedOff = (off: number) => (off < 0 ? `${off}` : `+${off}`);
const mem = (size: string, reg: number, off: number) => `*(${size} *)(r${reg} ${signedOff(off)})`;

/** How a call's target is named: kernel symbol for helpers (from kallsyms), else a fallback. */
export type CallNamer = (imm: number) => string | undefined;

function decodeAlu(code: number, dst: number, src: number, off: number, imm: number): string {
  const is64 = (code & 0x07) === 0x07;
  const r = is64 ? 'r' : 'w';
  const op = code & 0xf0;
  const fromReg = (code & 0x08) !== 0;
  if (op === 0x80) return `${r}${dst} = -${r}${dst}`;
  if (op === 0xd0) {
    // Byte swaps: ALU class le/be by the source bit; ALU64 class is the unconditional bswap.
    if (is64) return `r${dst} = bswap${imm} r${dst}`;
    return `r${dst} = ${fromReg ? 'be' : 'le'}${imm} r${dst}`;
  }
  if (op === 0xb0 && fromReg && off !== 0) return `${r}${dst} = (s${off})${r}${src}`;
  let symbol = ALU_OP[op];
  if (!symbol) return `invalid alu op ${hex(code)}`;
  if ((op === 0x30 || op === 0x90) && off === 1) symbol = `s${symbol}`;
  const operand = fromReg ? `${r}${src}` : `${imm}`;
  return `${r}${dst} ${symbol} ${operand}`;
}

function decodeJmp(code: number, dst: number, src: number, off: number, imm: number, callName: CallNamer): string {
  const is32 = (code & 0x07) === 0x06;
  const op = code & 0xf0;
  const fromReg = (code & 0x08) !== 0;
  if (op === 0x00) return is32 ? `gotol pc${signedOff(imm)}` : `goto pc${signedOff(off)}`;
  if (op === 0x90) return 'exit';
  if (op === 0x80) {
    if (src === 1) return `call pc${signedOff(imm)}`;
    if (src === 2) return `call kernel-function#${imm}`;
    const name = callName(imm);
    return name ? `call ${name}#${imm}` : `call ${hex(imm)}`;
  }
  const symbol = JMP_OP[op];
  if (!symbol) return `invalid jmp op ${hex(code)}`;
  const r = is32 ? 'w' : 'r';
  return `if ${r}${dst} ${symbol} ${fromReg ? `${r}${src}` : hex(imm)} goto pc${signedOff(off)}`;
}

function decodeAtomic(size: string, dst: number, src: number, off: number, imm: number): string {
  const target = mem(size, dst, off);
  const op = imm & 0xf0;
  const fetch = (imm & 0x01) !== 0;
  if (imm === 0xe1)
    return `r${src} = atomic${size === 'u64' ? '64' : ''}_xchg((${size} *)(r${dst} ${signedOff(off)}), r${src})`;
  if (imm === 0xf1)
    return `r0 = atomic${size === 'u64' ? '64' : ''}_cmpxchg((${size} *)(r${dst} ${signedOff(off)}), r0, r${src})`;
  const name = ATOMIC_OP[op];
  if (!name) return `invalid atomic op ${hex(imm)}`;
  if (fetch)
    return `r${src} = atomic${size === 'u64' ? '64' : ''}_fetch_${name}((${size} *)(r${dst} ${signedOff(off)}), r${src})`;
  const symbol = { add: '+=', or: '|=', and: '&=', xor: '^=' }[name];
  return `lock ${target} ${symbol} r${src}`;
}

/** Decodes struct bpf_insn[] (little-endian) into kernel-style text, one entry per instruction. */
export function decodeInstructions(image: Buffer, callName: CallNamer = () => undefined): DecodedInsn[] {
  const out: DecodedInsn[] = [];
  for (let at = 0; at + 8 <= image.length;) {
    const index = at / 8;
    const code = image[at];
    const dst = image[at + 1] & 0x0f;
    const src = image[at + 1] >> 4;
    const off = image.readInt16LE(at + 2);
    const imm = image.readInt32LE(at + 4);
    const cls = code & 0x07;
    let text: string;
    let slots = 1;
    switch (cls) {
      case 0x00: {
        // BPF_LD: the 64-bit immediate load (two slots), or legacy packet loads.
        if (code === 0x18 && at + 16 <= image.length) {
          slots = 2;
          const high = image.readUInt32LE(at + 12);
          const nextImm = image.readInt32LE(at + 12);
          if (src === 1) text = `r${dst} = map[id:${imm}]`;
          else if (src === 2) text = `r${dst} = map[id:${imm}][0]+${nextImm}`;
          else if (src === 3) text = `r${dst} = btf_var#${imm}`;
          else if (src === 4) text = `r${dst} = btf_id#${imm}`;
          else {
            const value = (BigInt(high) << 32n) | BigInt(imm >>> 0);
            text = `r${dst} = 0x${value.toString(16)}`;
          }
        } else {
          const mode = code & 0xe0;
          const size = SIZE[code & 0x18];
          text =
            mode === 0x20
              ? `r0 = *(${size} *)skb[${imm}]`
              : mode === 0x40
                ? `r0 = *(${size} *)skb[r${src} + ${imm}]`
                : `invalid ld ${hex(code)}`;
        }
        break;
      }
      case 0x01: {
        const mode = code & 0xe0;
        const size = mode === 0x80 ? SIGNED_SIZE[code & 0x18] : SIZE[code & 0x18];
        text = mode === 0x60 || mode === 0x80 ? `r${dst} = ${mem(size, src, off)}` : `invalid ldx ${hex(code)}`;
        break;
      }
      case 0x02:
        text = `${mem(SIZE[code & 0x18], dst, off)} = ${imm}`;
        break;
      case 0x03: {
        const mode = code & 0xe0;
        const size = SIZE[code & 0x18];
        text =
          mode === 0xc0
            ? decodeAtomic(size, dst, src, off, imm)
            : mode === 0x60
              ? `${mem(size, dst, off)} = r${src}`
              : `invalid stx ${hex(code)}`;
        break;
      }
      case 0x04:
      case 0x07:
        text = decodeAlu(code, dst, src, off, imm);
        break;
      default:
        text = decodeJmp(code, dst, src, off, imm, callName);
    }
    out.push({ index, code, text, slots });
    at += slots * 8;
  }
  return out;
}

/** "12: (79) r1 = *(u64 *)(r0 +0)", as the verifier log prints an instruction. */
export function formatInstruction(insn: DecodedInsn): string {
  return `${insn.index}: (${insn.code.toString(16).padStart(2, '0')}) ${insn.text}`;
}
