import { strict as assert } from 'assert';
import type { BtfType } from '../../extension/protocol/types';
import {
  decodeVariable,
  describeType,
  encodeVariable,
  settableVariables,
  VariableInputError,
  variableBytes,
} from '../../extension/host/features/load/variables';

const int = (size: number, signed: boolean, name = signed ? 'int' : 'unsigned int'): BtfType => ({
  kind: 'int',
  name,
  size,
  signed,
  char: false,
  bool: false,
  bits: size * 8,
});
const u32: BtfType = { kind: 'typedef', name: '__u32', size: 4, target: int(4, false) };
const s8 = int(1, true, 'signed char');
const u64 = int(8, false, 'unsigned long long');
const s64 = int(8, true, 'long long');
const bool: BtfType = { kind: 'int', name: '_Bool', size: 1, signed: false, char: false, bool: true, bits: 8 };
const char: BtfType = { kind: 'int', name: 'char', size: 1, signed: true, char: true, bool: false, bits: 8 };
const comm: BtfType = { kind: 'array', size: 16, elem: char, length: 16 };
const ports: BtfType = {
  kind: 'array',
  size: 8,
  elem: { kind: 'typedef', name: '__u16', size: 2, target: int(2, false) },
  length: 4,
};
const mode: BtfType = {
  kind: 'enum',
  name: 'mode',
  size: 4,
  signed: false,
  values: [
    { name: 'MODE_OFF', value: 0 },
    { name: 'MODE_ON', value: 1 },
  ],
};
const pair: BtfType = {
  kind: 'struct',
  name: 'pair',
  size: 8,
  members: [
    { name: 'a', bitOffset: 0, bitSize: 0, type: int(4, false) },
    { name: 'b', bitOffset: 32, bitSize: 0, type: int(4, false) },
  ],
};

describe('variables', () => {
  describe('encodeVariable', () => {
    it('encodes a __u32 in little-endian hex of exactly 4 bytes', () => {
      assert.equal(encodeVariable(u32, '1234'), 'd2040000');
      assert.equal(encodeVariable(u32, '0'), '00000000');
      assert.equal(encodeVariable(u32, '4294967295'), 'ffffffff');
      assert.equal(encodeVariable(u32, '0x10'), '10000000');
      assert.equal(encodeVariable(u32, ' 42 '), '2a000000');
    });

    it("encodes negative signed values in two's complement", () => {
      assert.equal(encodeVariable(s8, '-1'), 'ff');
      assert.equal(encodeVariable(s8, '-128'), '80');
      assert.equal(encodeVariable(s64, '-2'), 'feffffffffffffff');
    });

    it('encodes 64-bit values beyond Number precision', () => {
      assert.equal(encodeVariable(u64, '18446744073709551615'), 'ffffffffffffffff');
      assert.equal(encodeVariable(u64, '9007199254740993'), '0100000000002000');
    });

    it('refuses out-of-range values with the range in the message', () => {
      assert.throws(
        () => encodeVariable(u32, '4294967296'),
        /does not fit __u32 \(unsigned 32-bit\): it takes 0 to 4294967295/,
      );
      assert.throws(() => encodeVariable(u32, '-1'), VariableInputError);
      assert.throws(() => encodeVariable(s8, '128'), /-128 to 127/);
    });

    it('refuses text that is not an integer', () => {
      assert.throws(() => encodeVariable(u32, 'abc'), /"abc" is not an integer/);
      assert.throws(() => encodeVariable(u32, ''), /is not an integer/);
      assert.throws(() => encodeVariable(u32, '1.5'), /is not an integer/);
    });

    it('encodes bools, chars and enums', () => {
      assert.equal(encodeVariable(bool, 'true'), '01');
      assert.equal(encodeVariable(bool, '0'), '00');
      assert.throws(() => encodeVariable(bool, 'yes'), /not a bool/);
      assert.equal(encodeVariable(char, "'A'"), '41');
      assert.equal(encodeVariable(mode, 'MODE_ON'), '01000000');
      assert.equal(encodeVariable(mode, '0'), '00000000');
    });

    it('encodes a char array from text, NUL-padded, and refuses text that is too long', () => {
      assert.equal(encodeVariable(comm, 'bash'), '62617368' + '00'.repeat(12));
      assert.throws(() => encodeVariable(comm, 'a'.repeat(17)), /holds at most 16/);
    });

    it('encodes integer arrays from a list, zero-filling the rest', () => {
      assert.equal(encodeVariable(ports, '80, 443'), '5000bb0100000000');
      assert.throws(() => encodeVariable(ports, '1,2,3,4,5'), /has 4 elements, got 5/);
      assert.throws(() => encodeVariable(ports, '1, 70000'), /Element 1: 70000 does not fit/);
    });

    it('takes exact hex for structs', () => {
      assert.equal(encodeVariable(pair, '01 00 00 00 02 00 00 00'), '0100000002000000');
      assert.throws(() => encodeVariable(pair, '0102'), /Expected exactly 8 bytes of hex, got 2/);
    });

    it('encodes floats', () => {
      assert.equal(encodeVariable({ kind: 'float', name: 'float', size: 4 }, '1'), '0000803f');
      assert.throws(() => encodeVariable({ kind: 'float', name: 'double', size: 8 }, 'x'), /not a number/);
    });
  });

  describe('decodeVariable', () => {
    it('shows integers in decimal and round-trips through encode', () => {
      for (const [type, text] of [
        [u32, '1234'],
        [s8, '-5'],
        [u64, '18446744073709551615'],
        [bool, 'true'],
        [mode, 'MODE_ON'],
        [comm, 'bash'],
        [ports, '80, 443, 0, 0'],
      ] as [BtfType, string][]) {
        const hex = encodeVariable(type, text);
        assert.equal(decodeVariable(type, Buffer.from(hex, 'hex')), text);
      }
    });

    it('shows structs as hex', () => {
      assert.equal(decodeVariable(pair, Buffer.from('0100000002000000', 'hex')), '0100000002000000');
    });
  });

  describe('variableBytes', () => {
    it('reads a Buffer as JSON.stringify sends it, hex, base64 and arrays', () => {
      const wire = JSON.parse(JSON.stringify({ initial: Buffer.from([1, 2, 3, 4]) })).initial;
      assert.deepEqual([...variableBytes(wire, 4)], [1, 2, 3, 4]);
      assert.deepEqual([...variableBytes('01020304', 4)], [1, 2, 3, 4]);
      assert.deepEqual([...variableBytes('AQIDBA==', 4)], [1, 2, 3, 4]);
      assert.deepEqual([...variableBytes([1, 2, 3, 4], 4)], [1, 2, 3, 4]);
      assert.deepEqual([...variableBytes(undefined, 2)], [0, 0]);
    });
  });

  it('settableVariables keeps .rodata and .rodata.* only', () => {
    const names = settableVariables([
      { name: 'a', section: '.rodata' },
      { name: 'trace_fork.____fmt', section: '.rodata' },
      { name: 'b', section: '.rodata.cfg' },
      { name: 'c', section: '.data' },
      { name: 'd', section: '.bss' },
    ]).map((v) => v.name);
    assert.deepEqual(names, ['a', 'b']);
  });

  it('treats arrays of a one-byte int named char as text even without the CHAR encoding bit', () => {
    const plainChar: BtfType = { kind: 'array', size: 4, elem: { ...int(1, true, 'char') }, length: 4 };
    assert.equal(encodeVariable(plainChar, 'ab'), '61620000');
    assert.equal(decodeVariable(plainChar, Buffer.from('61620000', 'hex')), 'ab');
  });

  it('describeType names typedefs and their shape', () => {
    assert.equal(describeType(u32), '__u32 (unsigned 32-bit)');
    assert.equal(describeType(comm), 'char[16]');
  });
});
