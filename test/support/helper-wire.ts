// Shared by the kernel tests that talk to the helper: map keys and values as the protocol carries them
// (little-endian hex), and a request the helper must refuse.
import { strict as assert } from 'assert';
import { HelperError } from '../../extension/host/client/client';

export function u16le(n: number): string {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b.toString('hex');
}

export function u32le(n: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b.toString('hex');
}

export function u64le(n: number | bigint): string {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b.toString('hex');
}

/** Awaits a request the helper must refuse and returns its typed error. */
export async function expectRefusal(promise: Promise<unknown>): Promise<HelperError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof HelperError, `expected a HelperError, got ${error}`);
    return error;
  }
  assert.fail('expected the helper to refuse');
}
