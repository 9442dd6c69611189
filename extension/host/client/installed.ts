// Finds and checks the installed, root-owned helper before the extension elevates it: the version must
// be this extension's, every file root-owned, not writable by anyone else, and hashed as its manifest says.
// Only what passes is ever run as root; the extension's own dist/ never is.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { DEFAULT_INSTALL_ROOT, InstallManifest, LAUNCHER, MANIFEST, versionDir } from '../../formats/helper-install';

const ManifestSchema: z.ZodType<InstallManifest> = z.object({
  name: z.literal('ebpf-studio-helper'),
  version: z.string(),
  installedAt: z.string(),
  runtime: z.object({ path: z.string(), copied: z.boolean(), electron: z.boolean() }),
  files: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)),
});

let installRootOverride: string | undefined;

/**
 * Where installs are looked for: /usr/local/lib/ebpf-studio unless the CLI's `--install-root`, or
 * EBPF_STUDIO_INSTALL_ROOT in the extension host's own environment (tests), says otherwise. Not a setting:
 * a workspace must not choose what runs as root. Another root cannot widen anything: an install is used only
 * if it and every folder above it are root-owned and unwritable by others, and sudo/polkit allow only the
 * launcher path the administrator's rule names.
 */
export function installRoot(): string {
  return installRootOverride ?? process.env.EBPF_STUDIO_INSTALL_ROOT ?? DEFAULT_INSTALL_ROOT;
}

export function useInstallRoot(root: string | undefined): void {
  installRootOverride = root ? path.resolve(root) : undefined;
}

/** Why the installed helper cannot be used; `action` is what the user can do about it. */
export class HelperInstallError extends Error {
  override name = 'HelperInstallError';
  constructor(
    message: string,
    readonly problem: 'missing' | 'outdated' | 'tampered',
    readonly action: 'Install Helper' | 'Update Helper' | 'Reinstall Helper',
  ) {
    super(message);
  }
}

export interface InstalledHelper {
  dir: string;
  launcher: string;
  manifest: InstallManifest;
}

/** The extension's version, from the package.json above its dist/ (the helper bundle's folder). */
export function extensionVersion(helperScript: string): string {
  const file = path.join(path.dirname(helperScript), '..', 'package.json');
  const version = (JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: unknown }).version;
  if (typeof version !== 'string') throw new Error(`${file} names no version`);
  return version;
}

export function sha256File(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/**
 * Why a path is not safe to run as root, or undefined: it and every directory above it must be owned by
 * root and writable by no one else. A sticky directory (/tmp) is allowed above a root-owned entry, since
 * others cannot rename or remove root's entries there.
 */
export function unsafePathReason(target: string, allowSymlink = false): string | undefined {
  const absolute = path.resolve(target);
  let st: fs.Stats;
  try {
    st = fs.lstatSync(absolute);
  } catch (error) {
    return `${absolute}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
  }
  if (st.isSymbolicLink()) {
    if (!allowSymlink) return `${absolute} is a symbolic link`;
    const why = unsafePathReason(fs.realpathSync(absolute));
    if (why) return `${absolute} leads to an unsafe place: ${why}`;
  } else {
    if (st.uid !== 0) return `${absolute} is owned by uid ${st.uid}, not root`;
    if (st.mode & 0o022) return `${absolute} is writable by group or others (mode ${(st.mode & 0o7777).toString(8)})`;
  }
  // Whoever can write a directory above can swap what is below it.
  for (let dir = path.dirname(absolute); ; dir = path.dirname(dir)) {
    const d = fs.lstatSync(dir);
    if (d.isSymbolicLink()) {
      const why = unsafePathReason(fs.realpathSync(dir));
      if (why) return `${dir} leads to an unsafe place: ${why}`;
    } else {
      if (d.uid !== 0) return `${dir} is owned by uid ${d.uid}, not root`;
      if (d.mode & 0o022 && !(d.mode & 0o1000)) return `${dir} is writable by group or others`;
    }
    if (dir === '/') break;
  }
  return undefined;
}

/** The versions installed under the root (directories with a manifest), for "installed: 0.0.9". */
export function installedVersions(root = installRoot()): string[] {
  try {
    return fs
      .readdirSync(root)
      .filter((name) => !name.startsWith('.') && fs.existsSync(path.join(root, name, MANIFEST)))
      .sort();
  } catch {
    return [];
  }
}

/**
 * The installed helper of this version, checked; throws HelperInstallError saying what is wrong. Reads
 * root-owned files only after checking they are root-owned, so what is hashed is what sudo will run.
 */
export function findInstalledHelper(version: string, root = installRoot()): InstalledHelper {
  const dir = versionDir(root, version);
  const manifestPath = path.join(dir, MANIFEST);
  if (!fs.existsSync(manifestPath)) {
    const others = installedVersions(root);
    if (others.length > 0) {
      throw new HelperInstallError(
        `The installed eBPF Studio helper is version ${others.join(', ')}; this extension is ${version}. ` +
          'Update it (an administrator authenticates once).',
        'outdated',
        'Update Helper',
      );
    }
    throw new HelperInstallError(
      `eBPF Studio needs root to load BPF programs, and its privileged helper is not installed (${dir}). ` +
        'Install it once with "eBPF: Install Privileged Helper" or `sudo ebpf-studio install-helper`.',
      'missing',
      'Install Helper',
    );
  }
  const tampered = (why: string) =>
    new HelperInstallError(
      `The installed eBPF Studio helper in ${dir} was not started: ${why}. Reinstall it.`,
      'tampered',
      'Reinstall Helper',
    );
  const unsafe = unsafePathReason(manifestPath);
  if (unsafe) throw tampered(unsafe);
  const parsed = ManifestSchema.safeParse(JSON.parse(fs.readFileSync(manifestPath, 'utf8')));
  if (!parsed.success) throw tampered(`${manifestPath} is not an install manifest`);
  const manifest = parsed.data;
  if (manifest.version !== version) throw tampered(`its manifest says version ${manifest.version}`);
  if (!(LAUNCHER in manifest.files)) throw tampered(`its manifest lists no ${LAUNCHER}`);
  for (const [name, expected] of Object.entries(manifest.files)) {
    const file = path.join(dir, name);
    if (path.relative(dir, file).startsWith('..')) throw tampered(`its manifest names ${name}`);
    const why = unsafePathReason(file);
    if (why) throw tampered(why);
    if (sha256File(file) !== expected) throw tampered(`${file} does not match its manifest (sha256)`);
  }
  if (!manifest.runtime.copied) {
    // A system runtime (a package's /usr/bin/node, VS Code's /usr/share/code/code): root-owned, updated by
    // the package manager, so its ownership is checked and not its hash.
    const why = unsafePathReason(manifest.runtime.path, true);
    if (why) throw tampered(`its runtime is not safe: ${why}`);
  }
  return { dir, launcher: path.join(dir, LAUNCHER), manifest };
}
