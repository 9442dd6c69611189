// The helper's wire: field schemas every parameter is built from (bounded strings, ids, hex bytes). Pure:
// imported by the method definitions (methods.ts) and by protocol modules of their own (bpftrace.ts).
import { z } from 'zod';

export const absolutePath = z
  .string()
  .min(2)
  .max(4096)
  .refine((p) => p.startsWith('/') && !p.includes('\0') && !p.split('/').includes('..'), {
    message: 'must be an absolute path without ".." components',
  });
export const cIdentifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be a C identifier');
export const interfaceName = z.string().regex(/^[A-Za-z0-9_.:@-]{1,15}$/, 'must be a network interface name');
export const kernelId = z.number().int().min(1).max(0x7fffffff);
/** Bytes travel as lower-case hex, the form users type and logs show. */
export const hexBytes = z
  .string()
  .max(2 * 1024 * 1024)
  .regex(/^([0-9a-f]{2})*$/, 'must be hex bytes (two lower-case digits per byte)');
export const loadId = z.string().regex(/^[a-z0-9_-]{1,64}$/, 'must be a load id');
