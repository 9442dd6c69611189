// An installed helper (manifest.json beside its bundle, in a root-owned directory) keeps only the allow-listed
// environment, whatever started it: its launcher already clears the environment before the runtime starts, and
// this drops anything that still came through before any other module reads it (EBPF_STUDIO_FAULT is read at
// import) and before the helper starts mount(8) or bpftrace. Imported first by main.ts.
import * as fs from 'fs';
import * as path from 'path';
import { HELPER_ENV_ALLOWED, HELPER_PATH, MANIFEST } from '../formats/helper-install';

export const runningInstalled = fs.existsSync(path.join(__dirname, MANIFEST));

if (runningInstalled) {
  const allowed = new Set<string>(HELPER_ENV_ALLOWED);
  for (const name of Object.keys(process.env)) if (!allowed.has(name)) delete process.env[name];
  process.env.PATH = HELPER_PATH;
}
