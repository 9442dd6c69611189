// Bit-level reading and writing of BTF values: little-endian bit fields, fast aligned integers, exact
// 64-bit numbers as decimal strings, hex, and C strings with their escapes. Pure code, run by both processes.

/** Reads `bits` bits little-endian starting `bitOffset` bits into `buf` (plus `base` bytes). */
export function readBits(buf: Uint8Array, base: number, bitOffset: number, bits: number): bigint {
  const first = base + Math.floor(bitOffset / 8);
  const shift = bitOffset & 7;
  const last = base + Math.floor((bitOffset + bits + 7) / 8);
  let v = 0n;
  for (let i = last - 1; i >= first; i--) v = (v << 8n) | BigInt(buf[i] ?? 0);
  return (v >> BigInt(shift)) & ((1n << BigInt(bits)) - 1n);
}

/** Writes the low `bits` bits of `value` at `bitOffset`, leaving the neighbouring bits as they were. */
export function writeBits(buf: Uint8Array, base: number, bitOffset: number, bits: number, value: bigint): void {
  const first = base + Math.floor(bitOffset / 8);
  const shift = BigInt(bitOffset & 7);
  const span = ((bitOffset & 7) + bits + 7) >> 3;
  let word = 0n;
  for (let i = span - 1; i >= 0; i--) word = (word << 8n) | BigInt(buf[first + i]);
  const mask = ((1n << BigInt(bits)) - 1n) << shift;
  word = (word & ~mask) | ((value << shift) & mask);
  for (let i = 0; i < span; i++) {
    buf[first + i] = Number(word & 0xffn);
    word >>= 8n;
  }
}

export function toSigned(v: bigint, bits: number): bigint {
  return v >= 1n << BigInt(bits - 1) ? v - (1n << BigInt(bits)) : v;
}

/** A number where it is exact, else its decimal string. */
export function bigToScalar(v: bigint): number | string {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
}

export function hex(buf: Uint8Array, from: number, to: number): string {
  // A leaf wider than the whole buffer (hostile BTF: a 374 MB "__u64" in the fuzz tier) is shown up to the
  // buffer's end; a short buffer under an ordinary leaf still reads as zeros to the leaf's width.
  const end = to - from > buf.length ? Math.min(to, buf.length) : to;
  let s = '';
  for (let i = from; i < end; i++) s += (buf[i] ?? 0).toString(16).padStart(2, '0');
  return s;
}

/** C string of a char array: up to the first NUL; bytes that are not printable ASCII show as \xNN. */
export function cString(buf: Uint8Array, from: number, length: number): string {
  let s = '';
  for (let i = from; i < from + length; i++) {
    const c = buf[i];
    // Past the end of a short buffer reads as the terminating NUL.
    if (c === 0 || c === undefined) break;
    s +=
      c >= 0x20 && c < 0x7f && c !== 0x5c
        ? String.fromCharCode(c)
        : c === 0x5c
          ? '\\\\'
          : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return s;
}

/** The inverse of cString's escapes: "\\\\" is a backslash, "\\xNN" a byte; other text is UTF-8. */
export function unescapeCString(text: string): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  for (const m of text.matchAll(/\\\\|\\x([0-9a-fA-F]{2})/g)) {
    parts.push(Buffer.from(text.slice(from, m.index), 'utf8'), Buffer.from([m[1] ? parseInt(m[1], 16) : 0x5c]));
    from = m.index! + m[0].length;
  }
  parts.push(Buffer.from(text.slice(from), 'utf8'));
  return Buffer.concat(parts);
}

/** Byte-aligned 8/16/32/64-bit integers without a bit-by-bit walk (events arrive by the million); values
 * beyond 2^53 come back as exact decimal strings. */
export function alignedInteger(
  buf: Uint8Array,
  at: number,
  bits: number,
  signed: boolean,
): number | string | undefined {
  // A value cut short by its buffer takes the bit-by-bit path, which reads missing bytes as zeros.
  if (at + (bits >> 3) > buf.length) return undefined;
  switch (bits) {
    case 8:
      return signed ? (buf[at] << 24) >> 24 : buf[at];
    case 16: {
      const v = buf[at] | (buf[at + 1] << 8);
      return signed ? (v << 16) >> 16 : v;
    }
    case 32: {
      const v = buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24);
      return signed ? v : v >>> 0;
    }
    case 64: {
      const lo = (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24)) >>> 0;
      const hi = (buf[at + 4] | (buf[at + 5] << 8) | (buf[at + 6] << 16) | (buf[at + 7] << 24)) >>> 0;
      if (hi < 0x200000) return hi * 0x100000000 + lo;
      // Beyond 2^53 (timestamps, hashes, negative numbers): exact, as a decimal string.
      const v = (BigInt(hi) << 32n) | BigInt(lo);
      return bigToScalar(signed ? BigInt.asIntN(64, v) : v);
    }
  }
  return undefined;
}
