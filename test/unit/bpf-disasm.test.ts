// The BPF instruction decoder on hand-assembled instructions, in the kernel's words, and kallsyms names.
import { strict as assert } from 'assert';
import { decodeInstructions, formatInstruction } from '../../extension/formats/bpf-disasm';
import { callTargetNames } from '../../extension/formats/kallsyms';

/** struct bpf_insn: code, dst | src << 4, off (s16), imm (s32). */
function insn(code: number, dst: number, src: number, off: number, imm: number): Buffer {
  const b = Buffer.alloc(8);
  b[0] = code;
  b[1] = dst | (src << 4);
  b.writeInt16LE(off, 2);
  b.writeInt32LE(imm, 4);
  return b;
}

describe('BPF instruction decoder', () => {
  it('prints each class as the kernel does', () => {
    const image = Buffer.concat([
      insn(0xbf, 6, 1, 0, 0), // r6 = r1
      insn(0xb4, 2, 0, 0, -1), // w2 = -1
      insn(0x07, 2, 0, 0, -4), // r2 += -4
      insn(0x3f, 1, 2, 1, 0), // r1 s/= r2
      insn(0xbf, 1, 2, 8, 0), // r1 = (s8)r2
      insn(0x87, 3, 0, 0, 0), // r3 = -r3
      insn(0xdc, 4, 0, 0, 16), // r4 = be16 r4
      insn(0x18, 1, 1, 0, 42),
      insn(0, 0, 0, 0, 0), // r1 = map[id:42]
      insn(0x18, 2, 2, 0, 7),
      insn(0, 0, 0, 0, 16), // r2 = map[id:7][0]+16
      insn(0x18, 3, 0, 0, -1),
      insn(0, 0, 0, 0, 0x12), // r3 = 0x12ffffffff
      insn(0x79, 1, 0, 8, 0), // r1 = *(u64 *)(r0 +8)
      insn(0x91, 1, 0, -2, 0), // r1 = *(s8 *)(r0 -2)
      insn(0x62, 10, 0, -4, 5), // *(u32 *)(r10 -4) = 5
      insn(0x7b, 10, 1, -16, 0), // *(u64 *)(r10 -16) = r1
      insn(0xdb, 0, 1, 0, 0x00), // lock *(u64 *)(r0 +0) += r1
      insn(0xc3, 0, 1, 0, 0x01), // r1 = atomic_fetch_add((u32 *)(r0 +0), r1)
      insn(0xdb, 0, 1, 0, 0xf1), // r0 = atomic64_cmpxchg
      insn(0x15, 0, 0, 3, 0), // if r0 == 0x0 goto pc+3
      insn(0x5e, 1, 2, -2, 0), // if w1 != w2 goto pc-2
      insn(0x05, 0, 0, 1, 0), // goto pc+1
      insn(0x85, 0, 0, 0, 1234), // call name#1234
      insn(0x85, 0, 1, 0, 5), // call pc+5
      insn(0x85, 0, 0, 0, 99), // unnamed call
      insn(0x95, 0, 0, 0, 0), // exit
    ]);
    const lines = decodeInstructions(image, (imm) => (imm === 1234 ? 'bpf_map_lookup_elem' : undefined)).map(
      formatInstruction,
    );
    assert.deepStrictEqual(lines, [
      '0: (bf) r6 = r1',
      '1: (b4) w2 = -1',
      '2: (07) r2 += -4',
      '3: (3f) r1 s/= r2',
      '4: (bf) r1 = (s8)r2',
      '5: (87) r3 = -r3',
      '6: (dc) r4 = be16 r4',
      '7: (18) r1 = map[id:42]',
      '9: (18) r2 = map[id:7][0]+16',
      '11: (18) r3 = 0x12ffffffff',
      '13: (79) r1 = *(u64 *)(r0 +8)',
      '14: (91) r1 = *(s8 *)(r0 -2)',
      '15: (62) *(u32 *)(r10 -4) = 5',
      '16: (7b) *(u64 *)(r10 -16) = r1',
      '17: (db) lock *(u64 *)(r0 +0) += r1',
      '18: (c3) r1 = atomic_fetch_add((u32 *)(r0 +0), r1)',
      '19: (db) r0 = atomic64_cmpxchg((u64 *)(r0 +0), r0, r1)',
      '20: (15) if r0 == 0x0 goto pc+3',
      '21: (5e) if w1 != w2 goto pc-2',
      '22: (05) goto pc+1',
      '23: (85) call bpf_map_lookup_elem#1234',
      '24: (85) call pc+5',
      '25: (85) call 0x63',
      '26: (95) exit',
    ]);
  });

  it('names helper calls from kallsyms relative to __bpf_call_base', () => {
    const kallsyms =
      'ffffffff81000000 T _stext\nffffffff81200000 T __bpf_call_base\nffffffff81200100 T bpf_map_lookup_elem\nffffffff811fff00 t bpf_trace_printk [x]\n';
    assert.deepStrictEqual(callTargetNames(kallsyms, [0x100, -0x100, 5]), {
      '256': 'bpf_map_lookup_elem',
      '-256': 'bpf_trace_printk',
    });
    assert.deepStrictEqual(
      callTargetNames('0000000000000000 T __bpf_call_base\n', [1]),
      {},
      'hidden addresses (kptr_restrict) name nothing',
    );
  });
});
