// The kernel's BTF names for section completion (formats/btf-names.ts reads them), read once.
import * as fs from 'fs';
import { BtfNames, parseBtfNames } from '../formats/btf-names';

export { parseBtfNames };
export type { BtfNames };

let cached: BtfNames | undefined;

/** The running kernel's names, read once (about 100 ms); empty lists without kernel BTF. */
export function kernelBtfNames(btfPath = '/sys/kernel/btf/vmlinux'): BtfNames {
  if (cached) return cached;
  try {
    cached = parseBtfNames(fs.readFileSync(btfPath));
  } catch {
    cached = { functions: [], rawTracepoints: [], structs: [] };
  }
  return cached;
}
