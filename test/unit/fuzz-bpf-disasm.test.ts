// Property tests of the BPF disassembler (issue 10): any bytes, of any length, decode without throwing into
// instructions that tile the image (one or two 8-byte slots each) and read as the kernel's text, with no
// hole in the opcode tables ("undefined" in the text); the Show Instructions page renders any image.
import { strict as assert } from 'assert';
import fc from 'fast-check';
import { decodeInstructions, formatInstruction } from '../../extension/formats/bpf-disasm';
import { renderInstructions } from '../../extension/formats/disasm-view';
import { fuzz } from '../support/fuzz';

/** Instruction-shaped bytes: every opcode, registers 0-15 (valid or not), any offset and immediate. */
const insn = fc
  .tuple(
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: -32768, max: 32767 }),
    fc.integer(),
  )
  .map(([code, regs, off, imm]) => {
    const b = Buffer.alloc(8);
    b[0] = code;
    b[1] = regs;
    b.writeInt16LE(off, 2);
    b.writeInt32LE(imm | 0, 4);
    return b;
  });
const image = fc.oneof(
  fc.array(insn, { maxLength: 64 }).map((xs) => Buffer.concat(xs)),
  fc
    .tuple(fc.array(insn, { maxLength: 16 }), fc.uint8Array({ maxLength: 7 }))
    .map(([xs, tail]) => Buffer.concat([...xs, tail])),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
);
const callName = fc.option(fc.string({ maxLength: 20 }), { nil: undefined });

describe('fuzz: BPF disassembler', () => {
  it('any bytes decode into instructions that tile the image and read as text', () => {
    fuzz(
      fc.tuple(image, callName),
      ([bytes, name]) => {
        const insns = decodeInstructions(bytes, () => name);
        let slot = 0;
        for (const i of insns) {
          assert.equal(i.index, slot, 'instructions follow one another');
          assert.ok(i.slots === 1 || i.slots === 2);
          assert.equal(i.code, bytes[slot * 8]);
          assert.ok(i.text.length > 0 && !/undefined|NaN/.test(i.text.replace(name ?? '\0', '')), i.text);
          assert.match(formatInstruction(i), /^\d+: \([0-9a-f]{2}\) /);
          slot += i.slots;
        }
        // Every whole slot is decoded; a trailing partial slot is not.
        assert.equal(slot, Math.floor(bytes.length / 8));
      },
      { runs: 3000 },
    );
  });

  it('the Show Instructions page renders any image with any line info', () => {
    const hexAddress = fc.bigInt({ min: 0xffffffffa0000000n, max: 0xffffffffa0010000n }).map((a) => a.toString(16));
    fuzz(
      fc.record({
        xlated: image,
        jited: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
        lineInfo: fc.array(
          fc.record({
            insnOffset: fc.nat({ max: 80 }),
            file: fc.string({ maxLength: 10 }),
            line: fc.nat({ max: 100 }),
            column: fc.nat({ max: 80 }),
            text: fc.string({ maxLength: 30 }),
          }),
          { maxLength: 10 },
        ),
        jitedLineAddresses: fc.array(hexAddress, { maxLength: 10 }),
        jitedFunctionAddresses: fc.array(hexAddress, { maxLength: 3 }),
        jitedFunctionLengths: fc.array(fc.nat({ max: 200 }), { maxLength: 3 }),
        callTargets: fc.dictionary(fc.integer().map(String), fc.string({ maxLength: 10 }), { maxKeys: 4 }),
      }),
      (r) => {
        const text = renderInstructions(
          {
            name: 'p',
            tag: '0011223344556677',
            xlated: r.xlated.toString('base64'),
            jited: r.jited.toString('base64'),
            lineInfo: r.lineInfo,
            jitedLineAddresses: r.jitedLineAddresses,
            jitedFunctionAddresses: r.jitedFunctionAddresses,
            jitedFunctionLengths: r.jitedFunctionLengths,
            callTargets: r.callTargets,
            arch: 'x64',
          },
          7,
        );
        assert.ok(text.startsWith('# eBPF Studio: instructions of p (id 7'));
        assert.ok(!text.includes('undefined'));
      },
      { runs: 1500 },
    );
  });
});
