// bcc-style log2 histograms inside BTF values: which integer arrays of a value are histograms and how
// their buckets are labelled. Pure code, run by the extension host.
import type { BtfType } from '../protocol/types';
import { leavesOf } from './btf-leaves';

/** A bcc-style log2 histogram inside a value: an integer array named like `slots`. */
export interface HistogramShape {
  /** The array's path ("slots", "hist.slots"), or "" when the value itself is the array. */
  path: string;
  /** Indices into leavesOf(valueType) of the buckets, in order. */
  leafIndices: number[];
}

export function findHistograms(valueType: BtfType, mapName = ''): HistogramShape[] {
  const leaves = leavesOf(valueType);
  const arrays = new Map<string, number[]>();
  leaves.forEach((leaf, i) => {
    const m = /^(.*)\[(\d+)\]$/.exec(leaf.path);
    if (!m || leaf.kind !== 'int' || m[1].includes('[')) return;
    (arrays.get(m[1]) ?? arrays.set(m[1], []).get(m[1])!).push(i);
  });
  return [...arrays.entries()]
    .filter(([path, idx]) => idx.length >= 2 && /(^|[._])(slots|hist|buckets|log2)\w*$/i.test(path || mapName))
    .map(([path, leafIndices]) => ({ path, leafIndices }));
}

/** bcc's bucket labels for log2 histograms: 0 -> 1, 2 -> 3, 4 -> 7, ... */
export function log2BucketLabel(i: number): string {
  const high = (1n << BigInt(i + 1)) - 1n;
  let low = (1n << BigInt(i + 1)) >> 1n;
  if (low === high) low -= 1n;
  return `${low} -> ${high}`;
}
