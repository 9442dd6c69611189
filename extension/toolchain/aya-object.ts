// Where an aya eBPF crate's built object is: cargo puts it in target/bpfel-unknown-none/<profile>/<bin>,
// the target folder being the crate's own or, in a workspace (aya's template), the workspace root's. A
// Rust file of the crate is verified, lensed and linked through that object.
import * as fs from 'fs';
import * as path from 'path';
import { CargoProject, describeCargoProject } from './cargo';

export const AYA_TARGET = 'bpfel-unknown-none';

/** The aya eBPF crate a file belongs to: the nearest Cargo.toml above it, when it depends on aya-ebpf. */
export function ayaCrateOf(file: string): CargoProject | undefined {
  let dir = path.dirname(path.resolve(file));
  for (let depth = 0; depth < 12; depth++) {
    if (fs.existsSync(path.join(dir, 'Cargo.toml'))) {
      const project = describeCargoProject(dir);
      return project?.kind === 'aya-ebpf' ? project : undefined;
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

/**
 * The newest built object of a crate, from target/bpfel-unknown-none/{debug,release}/ in the crate or a
 * folder above it (a workspace's). Cargo names the binary after the package, keeping its dashes; a
 * `.o` of the same name (or with underscores) counts too. `profile` narrows the search to one profile.
 */
export function ayaBuiltObject(project: CargoProject, profile?: 'debug' | 'release'): string | undefined {
  if (!project.name) return undefined;
  const names = new Set([project.name, project.name.replace(/-/g, '_')].flatMap((n) => [n, `${n}.o`, `${n}.bpf.o`]));
  const found: { file: string; mtime: number }[] = [];
  let dir = project.root;
  for (let depth = 0; depth < 4; depth++) {
    for (const p of profile ? [profile] : ['debug', 'release']) {
      const out = path.join(dir, 'target', AYA_TARGET, p);
      for (const name of names) {
        const file = path.join(out, name);
        try {
          const stat = fs.statSync(file);
          if (stat.isFile()) found.push({ file, mtime: stat.mtimeMs });
        } catch {
          // Not built in this profile.
        }
      }
    }
    const up = path.dirname(dir);
    if (up === dir || fs.existsSync(path.join(dir, '.git'))) break;
    dir = up;
  }
  found.sort((a, b) => b.mtime - a.mtime);
  return found[0]?.file;
}

/**
 * After the `ebpf` task built an aya crate (`ebpf-studio build-ebpf`, a release build): the object it
 * made, to be offered to eBPF: Load Program. `crate` is the task's folder, relative to `folder`.
 */
export function ayaTaskObject(folder: string, crate: string): string | undefined {
  const project = describeCargoProject(path.resolve(folder, crate));
  return project?.kind === 'aya-ebpf' ? ayaBuiltObject(project, 'release') : undefined;
}
