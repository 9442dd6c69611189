// The root-run step of `ebpf-studio install-helper`: copies the helper, the addon, its libbpf (and, when
// the extension host's runtime is not root-owned, that runtime) from the user's extension directory into
// a root-owned directory, and only then hashes the root-owned copies and compares them with the hashes the
// extension computed before it asked for elevation. A file changed in between (the user's directory is
// the user's to change) makes the install fail instead of installing it. Then it writes the launcher, the
// manifest and one elevation rule (sudoers, checked with visudo, or a polkit action) naming that copy.
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import {
  DEFAULT_POLKIT_DIR,
  DEFAULT_SUDOERS_DIR,
  HELPER_FILES,
  InstallManifest,
  isPlainPath,
  isPlainUser,
  isPlainVersion,
  launcherScript,
  LAUNCHER,
  MANIFEST,
  POLKIT_POLICY_FILE,
  polkitPolicy,
  RULE_MARKER,
  RuleKind,
  RUNTIME_COPY,
  sudoersFileName,
  sudoersRule,
  versionDir,
} from '../formats/helper-install';

export interface InstallOptions {
  /** The extension's dist/ directory, the user's. */
  from: string;
  root: string;
  version: string;
  /** Who the sudoers rule is for. */
  user?: string;
  rule: RuleKind | 'none';
  runtime: string;
  /** Copy the runtime into the install (it is not root-owned where it is). */
  copyRuntime: boolean;
  electron: boolean;
  /** sha256 the extension computed for each file before elevation (HELPER_FILES, and RUNTIME_COPY when copied). */
  expect: Record<string, string>;
  sudoersDir?: string;
  polkitDir?: string;
}

export interface InstallResult {
  dir: string;
  launcher: string;
  manifest: InstallManifest;
  ruleFile?: string;
  removedVersions: string[];
}

/** A refusal with a sentence for the person installing; nothing half-installed is left behind. */
export class InstallError extends Error {
  override name = 'InstallError';
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function uidOf(user: string): number {
  try {
    return Number(execFileSync('/usr/bin/id', ['-u', user], { encoding: 'utf8' }).trim());
  } catch {
    throw new InstallError(`there is no user "${user}"`);
  }
}

/** Whether a path and every directory above it is root's alone (sticky directories such as /tmp allowed). */
function rootOwnedChain(target: string): string | undefined {
  const real = fs.realpathSync(target);
  for (let p = real; ; p = path.dirname(p)) {
    const st = fs.statSync(p);
    if (st.uid !== 0) return `${p} is owned by uid ${st.uid}`;
    if (st.mode & 0o022 && !(st.isDirectory() && st.mode & 0o1000)) return `${p} is writable by others`;
    if (p === '/') return undefined;
  }
}

/**
 * Copies one of the user's files without following a final symbolic link, from a regular file the user
 * could read anyway (owned by them or world-readable): the installer must not become a way to read root's
 * files. The copy is root's, 0600 until the install is complete.
 */
function copyFromUser(src: string, dst: string, userUid: number | undefined): void {
  let fd: number;
  try {
    fd = fs.openSync(src, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (error) {
    throw new InstallError(`cannot open ${src}: ${(error as NodeJS.ErrnoException).code}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new InstallError(`${src} is not a regular file`);
    if (!(st.mode & 0o004) && st.uid !== userUid)
      throw new InstallError(`${src} is neither world-readable nor owned by the installing user`);
    fs.mkdirSync(path.dirname(dst), { recursive: true, mode: 0o700 });
    const out = fs.openSync(dst, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    try {
      const buffer = Buffer.alloc(1 << 20);
      for (;;) {
        const n = fs.readSync(fd, buffer, 0, buffer.length, null);
        if (n === 0) break;
        fs.writeSync(out, buffer, 0, n);
      }
    } finally {
      fs.closeSync(out);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Every regular file under dir, relative to it. */
function filesUnder(dir: string, prefix = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    return e.isDirectory() ? filesUnder(path.join(dir, e.name), rel) : [rel];
  });
}

function setOwnership(dir: string, executables: Set<string>): void {
  fs.lchownSync(dir, 0, 0);
  fs.chmodSync(dir, 0o755);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) setOwnership(full, executables);
    else {
      fs.lchownSync(full, 0, 0);
      fs.chmodSync(full, executables.has(full) ? 0o755 : 0o644);
    }
  }
}

function which(tool: string): string {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    const p = path.join(dir, tool);
    if (fs.existsSync(p)) return p;
  }
  throw new InstallError(`${tool} is not installed`);
}

/** Writes a rule file beside its final place under a name the reader ignores, checks it, then renames it. */
function placeRule(dir: string, name: string, text: string, mode: number, check?: (file: string) => void): string {
  if (!fs.existsSync(dir)) throw new InstallError(`${dir} does not exist`);
  const final = path.join(dir, name);
  // sudo's @includedir skips names with a dot, polkit reads only *.policy: neither reads the temporary file.
  const temporary = path.join(dir, `.${name}.${process.pid}.tmp`);
  fs.rmSync(temporary, { force: true });
  fs.writeFileSync(temporary, text, { mode, flag: 'wx' });
  try {
    fs.chownSync(temporary, 0, 0);
    fs.chmodSync(temporary, mode);
    check?.(temporary);
    fs.renameSync(temporary, final);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
  return final;
}

/** The rule files this installer wrote (they carry RULE_MARKER). */
export function ruleFiles(sudoersDir = DEFAULT_SUDOERS_DIR, polkitDir = DEFAULT_POLKIT_DIR): string[] {
  const candidates = [
    ...(fs.existsSync(sudoersDir)
      ? fs
          .readdirSync(sudoersDir)
          .filter((n) => n.startsWith('ebpf-studio-'))
          .map((n) => path.join(sudoersDir, n))
      : []),
    path.join(polkitDir, POLKIT_POLICY_FILE),
  ];
  return candidates.filter((file) => {
    try {
      return fs.readFileSync(file, 'utf8').includes(RULE_MARKER);
    } catch {
      return false;
    }
  });
}

/** Removes installed versions under root that no rule names any more (and leftovers of failed installs). */
function prune(root: string, keep: string, rules: string[]): string[] {
  const named = rules.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  const removed: string[] = [];
  for (const name of fs.readdirSync(root)) {
    const dir = path.join(root, name);
    if (name.startsWith('.staging-') || name.startsWith('.old-')) fs.rmSync(dir, { recursive: true, force: true });
    else if (name !== keep && fs.existsSync(path.join(dir, MANIFEST)) && !named.includes(`${dir}/${LAUNCHER}`)) {
      fs.rmSync(dir, { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed;
}

export function install(options: InstallOptions): InstallResult {
  if (process.geteuid?.() !== 0) throw new InstallError('the install step must run as root');
  const { from, version, runtime } = options;
  const root = path.resolve(options.root);
  if (!isPlainVersion(version)) throw new InstallError(`not a version: ${version}`);
  if (!isPlainPath(root)) throw new InstallError(`the install root must be a plain absolute path: ${root}`);
  if (!isPlainPath(runtime)) throw new InstallError(`the runtime must be a plain absolute path: ${runtime}`);
  if (options.rule === 'sudoers' && (!options.user || !isPlainUser(options.user)))
    throw new InstallError('a sudoers rule needs --user NAME');
  const userUid = options.user ? uidOf(options.user) : undefined;
  const wanted = [...HELPER_FILES, ...(options.copyRuntime ? [RUNTIME_COPY] : [])];
  for (const name of wanted)
    if (!/^[0-9a-f]{64}$/.test(options.expect[name] ?? '')) throw new InstallError(`no expected sha256 for ${name}`);
  if (!options.copyRuntime) {
    const why = rootOwnedChain(runtime);
    if (why) throw new InstallError(`the runtime ${runtime} is not root's alone (${why}); copy it (--copy-runtime)`);
  }

  fs.mkdirSync(root, { recursive: true, mode: 0o755 });
  const unsafeRoot = rootOwnedChain(root);
  if (unsafeRoot) throw new InstallError(`cannot install under ${root}: ${unsafeRoot}`);
  const dir = versionDir(root, version);
  const staging = fs.mkdtempSync(path.join(root, `.staging-${version}-`));
  try {
    // Copy first, then hash the root-owned copies: what is compared is exactly what will run.
    for (const name of HELPER_FILES) copyFromUser(path.join(from, name), path.join(staging, name), userUid);
    if (options.copyRuntime) copyFromUser(runtime, path.join(staging, RUNTIME_COPY), userUid);
    for (const name of wanted) {
      const actual = sha256(path.join(staging, name));
      if (actual !== options.expect[name])
        throw new InstallError(
          `${name === RUNTIME_COPY ? runtime : path.join(from, name)} changed between the extension hashing it ` +
            'and the install copying it; nothing was installed',
        );
    }
    const runtimePath = options.copyRuntime ? path.join(dir, RUNTIME_COPY) : runtime;
    fs.writeFileSync(path.join(staging, LAUNCHER), launcherScript(dir, runtimePath, options.electron, version), {
      mode: 0o600,
    });
    const files: Record<string, string> = {};
    for (const name of filesUnder(staging).sort()) files[name] = sha256(path.join(staging, name));
    const manifest: InstallManifest = {
      name: 'ebpf-studio-helper',
      version,
      installedAt: new Date().toISOString(),
      runtime: { path: runtimePath, copied: options.copyRuntime, electron: options.electron },
      files,
    };
    fs.writeFileSync(path.join(staging, MANIFEST), JSON.stringify(manifest, null, 2) + '\n', { mode: 0o600 });
    setOwnership(staging, new Set([path.join(staging, LAUNCHER), path.join(staging, RUNTIME_COPY)]));
    if (fs.existsSync(dir)) {
      const old = fs.mkdtempSync(path.join(root, `.old-${version}-`));
      fs.renameSync(dir, path.join(old, 'v'));
      fs.renameSync(staging, dir);
      fs.rmSync(old, { recursive: true, force: true });
    } else fs.renameSync(staging, dir);

    const launcher = path.join(dir, LAUNCHER);
    let ruleFile: string | undefined;
    if (options.rule === 'sudoers') {
      const visudo = which('visudo');
      ruleFile = placeRule(
        options.sudoersDir ?? DEFAULT_SUDOERS_DIR,
        sudoersFileName(options.user!),
        sudoersRule(options.user!, launcher),
        0o440,
        (file) => {
          try {
            execFileSync(visudo, ['-c', '-f', file], { stdio: 'pipe' });
          } catch (error) {
            const e = error as { stdout?: Buffer; stderr?: Buffer };
            throw new InstallError(`visudo refused the rule: ${String(e.stderr ?? '') + String(e.stdout ?? '')}`);
          }
        },
      );
    } else if (options.rule === 'polkit') {
      ruleFile = placeRule(
        options.polkitDir ?? DEFAULT_POLKIT_DIR,
        POLKIT_POLICY_FILE,
        polkitPolicy(launcher, version),
        0o644,
      );
    }
    const removedVersions = prune(root, version, ruleFiles(options.sudoersDir, options.polkitDir));
    return { dir, launcher, manifest, ruleFile, removedVersions };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

export interface UninstallOptions {
  root: string;
  sudoersDir?: string;
  polkitDir?: string;
}

/** Removes every installed version under root and every rule file this installer wrote. */
export function uninstall(options: UninstallOptions): string[] {
  if (process.geteuid?.() !== 0) throw new InstallError('the uninstall step must run as root');
  const root = path.resolve(options.root);
  const removed = ruleFiles(options.sudoersDir, options.polkitDir);
  // Rules first: from here on nothing elevates the files being removed.
  for (const file of removed) fs.rmSync(file, { force: true });
  if (fs.existsSync(root)) {
    for (const name of fs.readdirSync(root)) {
      const dir = path.join(root, name);
      // Only what this installer made: version directories with a manifest, and its leftovers.
      if (fs.existsSync(path.join(dir, MANIFEST)) || name.startsWith('.staging-') || name.startsWith('.old-')) {
        fs.rmSync(dir, { recursive: true, force: true });
        removed.push(dir);
      }
    }
    if (fs.readdirSync(root).length === 0) fs.rmdirSync(root);
  }
  return removed;
}
