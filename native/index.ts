// Loads the native addon. Only the privileged helper imports this module; everything else
// imports ./types alone.
import * as fs from 'fs';
import * as path from 'path';
import { MANIFEST } from '../extension/formats/helper-install';
import type { NativeAddon } from './types';

export * from './types';

/** Where the addon may be, in order: explicit override, bundled dist/, source build, staged copy (installed: its own only). */
export function addonCandidates(): string[] {
  // An installed, root-owned helper (its manifest beside the bundle) loads only its own addon: the environment
  // of whoever elevated it must not choose native code that runs as root. The override is for tests run from
  // the repository.
  if (fs.existsSync(path.join(__dirname, MANIFEST))) return [path.join(__dirname, 'native', 'ebpf_studio.node')];
  const candidates: string[] = [];
  if (process.env.EBPF_STUDIO_ADDON) candidates.push(process.env.EBPF_STUDIO_ADDON);
  candidates.push(
    path.join(__dirname, 'native', 'ebpf_studio.node'), // bundled into dist/
    path.join(__dirname, 'build', 'Release', 'ebpf_studio.node'), // native/index.ts run from source
    path.join(__dirname, '..', 'dist', 'native', 'ebpf_studio.node'), // staged by build:native
  );
  return candidates;
}

let cached: NativeAddon | undefined;

/** Loads ebpf_studio.node (needs libbpf.so.1 next to it or on the system); throws one Error listing every path tried. */
export function loadNative(): NativeAddon {
  if (cached) return cached;
  const failures: string[] = [];
  for (const candidate of addonCandidates()) {
    try {
      // The addon's path is known only at run time, so it is required, not imported.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(candidate) as NativeAddon;
      cached = mod;
      return mod;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const reason = e.code === 'MODULE_NOT_FOUND' ? 'not found' : e.message.split('\n')[0];
      failures.push(`  ${candidate}: ${reason}`);
    }
  }
  throw new Error(
    `cannot load the eBPF Studio native addon (run "npm run build:native"); tried:\n${failures.join('\n')}`,
  );
}
