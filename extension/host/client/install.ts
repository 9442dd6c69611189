// The extension's half of installing the helper (no vscode API, so the CLI and tests use it too): decides
// which runtime the install uses, hashes what it is about to hand over, and starts the root-run step
// (dist/install-helper.js) with those hashes through pkexec, sudo or directly when already root. The
// root step copies first and compares the hashes of its root-owned copies with these.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HELPER_FILES, RuleKind, RUNTIME_COPY } from '../../formats/helper-install';
import { extensionVersion, installRoot, sha256File, unsafePathReason } from './installed';

export interface InstallRequest {
  /** The extension's dist/ (helper.js and native/ are in it). */
  dist: string;
  rule: RuleKind | 'none';
  /** The user the sudoers rule is for; the one running this by default (SUDO_USER when run through sudo). */
  user?: string;
  /** The extension host's runtime (process.execPath). */
  runtime?: string;
  isElectron?: boolean;
  root?: string;
  sudoersDir?: string;
  polkitDir?: string;
}

export interface RuntimeChoice {
  path: string;
  copy: boolean;
  electron: boolean;
}

/**
 * Which runtime the installed helper runs with: the extension host's own when root owns it (a package's
 * node, VS Code installed from a .deb); else a copy of it (a remote server's node in the user's home);
 * Electron cannot be copied alone (it needs its resources), so then a root-owned system node.
 */
export function chooseRuntime(runtime: string, isElectron: boolean): RuntimeChoice {
  if (!unsafePathReason(runtime, true)) return { path: runtime, copy: false, electron: isElectron };
  if (!isElectron) return { path: runtime, copy: true, electron: false };
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node'])
    if (fs.existsSync(candidate) && !unsafePathReason(candidate, true))
      return { path: candidate, copy: false, electron: false };
  throw new Error(
    `VS Code's runtime ${runtime} is not owned by root, and there is no root-owned Node (/usr/bin/node) to run ` +
      'the installed helper with: install Node.js 20 or later from your distribution, then install the helper again.',
  );
}

/** The root step's arguments: what to copy, and the sha256 of each file as the extension sees it now. */
export function installerArgs(request: InstallRequest): string[] {
  const version = extensionVersion(path.join(request.dist, 'helper.js'));
  const runtime = chooseRuntime(request.runtime ?? process.execPath, request.isElectron ?? isElectron());
  const expect = HELPER_FILES.map((name) => `${name}=${sha256File(path.join(request.dist, name))}`);
  if (runtime.copy) expect.push(`${RUNTIME_COPY}=${sha256File(runtime.path)}`);
  const user = request.user ?? invokingUser();
  return [
    '--from',
    request.dist,
    '--version',
    version,
    '--runtime',
    runtime.path,
    ...(runtime.copy ? ['--copy-runtime'] : []),
    ...(runtime.electron ? ['--electron'] : []),
    '--rule',
    request.rule,
    ...(request.rule === 'sudoers' ? ['--user', user] : []),
    '--install-root',
    request.root ?? installRoot(),
    ...(request.sudoersDir ? ['--sudoers-dir', request.sudoersDir] : []),
    ...(request.polkitDir ? ['--polkit-dir', request.polkitDir] : []),
    ...expect.flatMap((e) => ['--expect', e]),
  ];
}

export function uninstallerArgs(request: Pick<InstallRequest, 'root' | 'sudoersDir' | 'polkitDir'>): string[] {
  return [
    '--uninstall',
    '--install-root',
    request.root ?? installRoot(),
    ...(request.sudoersDir ? ['--sudoers-dir', request.sudoersDir] : []),
    ...(request.polkitDir ? ['--polkit-dir', request.polkitDir] : []),
  ];
}

function isElectron(): boolean {
  return Boolean(process.versions.electron);
}

/** Whom to write the rule for: the user behind sudo when run as `sudo ebpf-studio install-helper`. */
export function invokingUser(): string {
  if (process.geteuid?.() === 0 && process.env.SUDO_USER) return process.env.SUDO_USER;
  return os.userInfo().username;
}

export type InstallerElevation = 'direct' | 'sudo' | 'pkexec';

/** The command line of the root step: the extension host's runtime runs dist/install-helper.js. */
export function installerCommand(
  how: InstallerElevation,
  dist: string,
  args: string[],
  runtime = process.execPath,
  electron = isElectron(),
): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const script = path.join(dist, 'install-helper.js');
  // sudo and pkexec reset the environment; `env` (not a shell) sets the one variable Electron needs.
  const argv = [...(electron ? ['/usr/bin/env', 'ELECTRON_RUN_AS_NODE=1'] : []), runtime, script, ...args];
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...(electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}) };
  if (how === 'direct') return { command: argv[0], args: argv.slice(1), env };
  return { command: how, args: how === 'sudo' ? ['--', ...argv] : argv, env };
}

export interface InstallerRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the root step; `interactive` lets sudo ask for a password on this terminal (the CLI). */
export function runInstaller(
  cmd: { command: string; args: string[]; env: NodeJS.ProcessEnv },
  interactive = false,
): Promise<InstallerRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.command, cmd.args, {
      env: cmd.env,
      stdio: [interactive ? 'inherit' : 'ignore', 'pipe', interactive ? 'inherit' : 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-8192)));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function findTool(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/bin', '/usr/sbin', '/sbin'])
    if (dir && fs.existsSync(path.join(dir, name))) return path.join(dir, name);
  return undefined;
}

/** How the CLI reaches root: itself when root, else sudo on a terminal (it can ask there), else pkexec. */
function cliElevation(elevation: string | undefined): InstallerElevation {
  if (process.geteuid?.() === 0) return 'direct';
  if (elevation === 'sudo' || elevation === 'pkexec') return elevation;
  return findTool('sudo') ? 'sudo' : 'pkexec';
}

/** The rule when none is asked for: polkit where a desktop can show its dialog, else sudoers. */
export function defaultRule(env: NodeJS.ProcessEnv = process.env): RuleKind {
  return findTool('pkexec') && (env.DISPLAY || env.WAYLAND_DISPLAY) ? 'polkit' : 'sudoers';
}

/** `ebpf-studio install-helper`. */
export async function installHelper(dist: string, options: Record<string, string | undefined>): Promise<number> {
  const rule = options.rule ?? defaultRule();
  if (rule !== 'sudoers' && rule !== 'polkit' && rule !== 'none') throw new Error(`--rule sudoers|polkit, not ${rule}`);
  const args = installerArgs({
    dist,
    rule,
    user: options.user,
    runtime: options.runtime,
    root: options['install-root'],
    sudoersDir: options['sudoers-dir'],
    polkitDir: options['polkit-dir'],
  });
  const run = await runInstaller(installerCommand(cliElevation(options.elevation), dist, args), true);
  if (run.code !== 0) return 1;
  const result = JSON.parse(run.stdout) as { dir: string; launcher: string; ruleFile?: string };
  console.log(`installed the eBPF Studio helper in ${result.dir}`);
  if (result.ruleFile) console.log(`elevation rule: ${result.ruleFile} (runs only ${result.launcher})`);
  return 0;
}

/** `ebpf-studio uninstall-helper`. */
export async function uninstallHelper(dist: string, options: Record<string, string | undefined>): Promise<number> {
  const args = uninstallerArgs({
    root: options['install-root'],
    sudoersDir: options['sudoers-dir'],
    polkitDir: options['polkit-dir'],
  });
  const run = await runInstaller(installerCommand(cliElevation(options.elevation), dist, args), true);
  if (run.code !== 0) return 1;
  const { removed } = JSON.parse(run.stdout) as { removed: string[] };
  console.log(removed.length > 0 ? `removed:\n  ${removed.join('\n  ')}` : 'nothing was installed');
  return 0;
}
