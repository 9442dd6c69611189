// Helper process: the folders of pins under BPFFS_PREFIX. A load is pinned into a staging folder named
// after its helper's pid and renamed into place, so no helper ever leaves a half-pinned load; a folder
// is only ever removed below our own prefix.
import * as fs from 'fs';
import * as path from 'path';
import type { NativeAddon } from '../../native/types';
import { BPFFS_PREFIX } from '../protocol/methods';
import { HelperFailure } from './errors';
import { faultPoint } from './faults';
import type { OwnedLoad } from './loads';

/** Where an explicit restart parks the window's unpinned loads for the next helper (bpffs has no dots). */
export const HANDOFF_DIR = path.join(BPFFS_PREFIX, 'handoff');

/** Pins in progress live in `<prefix>/pinning--<pid>--<loadId>` until they are complete. */
const STAGING_PREFIX = 'pinning--';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** bpffs refuses names with dots (internal maps are called "obj.rodata"), so pins use underscores. */
function pinName(kind: 'prog' | 'map', name: string): string {
  return `${kind}_${name.replace(/\./g, '_')}`;
}

export function collision(loadId: string, dir: string): never {
  throw new HelperFailure(
    { kind: 'BadInput', field: 'loadId', reason: `${dir} already exists` },
    `Pinning ${loadId} failed: ${dir} already exists (another helper's pins); nothing was changed.`,
  );
}

/**
 * Pins a load's programs, maps and links into `dir`, which must not exist. They are pinned into a staging
 * folder beside it, named after this helper's pid, and renamed into place at the end: a helper that dies
 * half-way leaves no half-pinned load (the next helper removes a dead helper's staging folder, and what it
 * held leaves the kernel as an unpinned load would). On failure, what this call pinned is unpinned.
 */
export function pinInto(native: NativeAddon, load: OwnedLoad, dir: string): void {
  fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o700 });
  // A directory already there is another helper's, and is left alone.
  if (fs.existsSync(dir)) collision(load.summary.loadId, dir);
  const staging = path.join(path.dirname(dir), `${STAGING_PREFIX}${process.pid}--${path.basename(dir)}`);
  fs.mkdirSync(staging, { mode: 0o700 });
  const pinned: string[] = [];
  const pinTo = (file: string, pin: (file: string) => void) => {
    pin(file);
    pinned.push(file);
  };
  try {
    for (const program of load.object!.programs())
      pinTo(path.join(staging, pinName('prog', program.name)), (f) => load.object!.pinProgram(program.name, f));
    faultPoint('pin:partial');
    for (const map of load.object!.maps())
      pinTo(path.join(staging, pinName('map', map.name)), (f) => load.object!.pinMap(map.name, f));
    load.attachments.forEach((attachment, i) => {
      if (attachment.linkId) pinTo(path.join(staging, `link_${i}`), (f) => attachment.pin(f));
    });
    // Into place in one step; should another helper have taken the name meanwhile, rename fails and the
    // pins are removed here, its folder untouched.
    fs.renameSync(staging, dir);
  } catch (error) {
    for (const file of pinned) native.unpin(file);
    fs.rmdirSync(staging);
    throw error;
  }
}

/** Unpins everything in a load's folder and removes it; only ever a folder right below our prefix. */
export function removePinsIn(native: NativeAddon, dir: string): void {
  // Only ever a load's folder below our own prefix: load ids are validated and joined, never taken as paths.
  if (![BPFFS_PREFIX, HANDOFF_DIR].includes(path.dirname(dir))) throw new Error(`refusing to touch ${dir}`);
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir)) native.unpin(path.join(dir, entry));
  fs.rmdirSync(dir);
}

/** A staging folder of a pin that did not finish: removed when its helper is gone. True for any staging folder. */
export function removeDeadStaging(native: NativeAddon, entry: string): boolean {
  const staging = new RegExp(`^${STAGING_PREFIX}(\\d+)--`).exec(entry);
  if (!staging) return false;
  if (processAlive(Number(staging[1]))) return true;
  const dir = path.join(BPFFS_PREFIX, entry);
  for (const pin of fs.readdirSync(dir)) native.unpin(path.join(dir, pin));
  fs.rmdirSync(dir);
  return true;
}
