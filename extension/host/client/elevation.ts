// How the helper is started: directly when this process already has the privileges BPF needs,
// otherwise through pkexec, sudo or a command the user configured, and then only the installed,
// root-owned copy (installed.ts checks it first). Never through a shell.
import * as fs from 'fs';
import * as path from 'path';
import { effectiveCapabilities, hasBpfPrivileges } from '../../formats/capabilities';
import { HELPER_PATH } from '../../formats/helper-install';
import { extensionVersion, findInstalledHelper, InstalledHelper } from './installed';

export type ElevationSetting = 'auto' | 'pkexec' | 'sudo' | 'none' | string;

export interface HelperCommand {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** How it was elevated, for messages: "direct", "sudo", "pkexec", "custom". */
  via: 'direct' | 'sudo' | 'pkexec' | 'custom' | 'none';
}

export function currentProcessIsPrivileged(): boolean {
  try {
    return hasBpfPrivileges(effectiveCapabilities(fs.readFileSync('/proc/self/status', 'utf8')));
  } catch {
    return process.geteuid?.() === 0;
  }
}

function findOnPath(name: string, searchPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of [...searchPath.split(':'), '/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // Not here; keep looking.
    }
  }
  return undefined;
}

/**
 * The environment handed to sudo, pkexec or a custom elevation command: nothing of the extension host's
 * (no NODE_OPTIONS, no EBPF_STUDIO_*). The installed launcher clears it again before the runtime starts.
 */
export function elevationEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { PATH: HELPER_PATH, ...(env.LANG ? { LANG: env.LANG } : {}) };
}

/**
 * The ways to start the helper, in the order to try them. `runtime` is the extension host's own
 * executable (process.execPath), so users need no separate Node; under Electron it must run as Node.
 * "auto" starts it directly when this process is privileged, else tries `sudo -n` (works with the
 * installed NOPASSWD rule or cached credentials, never prompts) and then pkexec (a polkit dialog on
 * desktops). Elevated, it runs only the installed helper's launcher, found and checked by `findInstalled`
 * (which throws HelperInstallError when it is missing, of another version or changed).
 */
export function helperCommands(
  setting: ElevationSetting,
  runtime: string,
  helperScript: string,
  privileged = currentProcessIsPrivileged(),
  isElectron = Boolean(process.versions.electron),
  findInstalled: () => InstalledHelper = () => findInstalledHelper(extensionVersion(helperScript)),
): HelperCommand[] {
  const env = { ...process.env, ...(isElectron ? { ELECTRON_RUN_AS_NODE: '1' } : {}) };
  const direct: HelperCommand = { command: runtime, args: [helperScript], env, via: privileged ? 'direct' : 'none' };
  if (setting === 'none' || ((setting === 'auto' || setting === '') && privileged)) return [direct];
  const custom = !['auto', '', 'sudo', 'pkexec'].includes(setting) ? setting.trim().split(/\s+/) : undefined;
  // Already privileged (root's VS Code, CI), a command of one's own only wraps the direct start (unshare,
  // env, nice): nothing is elevated, so nothing needs the installed copy.
  if (custom && privileged)
    return [{ ...direct, command: custom[0], args: [...custom.slice(1), runtime, helperScript], via: 'custom' }];
  const sudoPath = findOnPath('sudo');
  const pkexecPath = findOnPath('pkexec');
  if ((setting === 'auto' || setting === '') && !sudoPath && !pkexecPath) return [];

  // The launcher takes no arguments and sets the helper's environment itself.
  const launcher = findInstalled().launcher;
  const elevatedEnv = elevationEnv();
  const sudo: HelperCommand = { command: sudoPath ?? 'sudo', args: ['-n', launcher], env: elevatedEnv, via: 'sudo' };
  const pkexec: HelperCommand = { command: pkexecPath ?? 'pkexec', args: [launcher], env: elevatedEnv, via: 'pkexec' };

  switch (setting) {
    case 'sudo':
      return [sudo];
    case 'pkexec':
      return [pkexec];
    case 'auto':
    case '':
      return [...(sudoPath ? [sudo] : []), ...(pkexecPath ? [pkexec] : [])];
    default: {
      // A custom command, split on white space (no shell, no quoting); the launcher is appended.
      const words = custom!;
      return [{ command: words[0], args: [...words.slice(1), launcher], env: elevatedEnv, via: 'custom' }];
    }
  }
}

/** Turns what the elevation tool printed when it refused into a sentence a user can act on. */
export function explainRefusal(cmd: HelperCommand, exitCode: number | null, stderr: string): string {
  const said = stderr.trim().split('\n').slice(-3).join(' ').trim();
  switch (cmd.via) {
    case 'sudo':
      if (/password is required|not in the sudoers|not allowed to execute|may not run sudo/.test(said)) {
        return (
          `sudo refused to start the eBPF Studio helper as root (${said}). Install the helper with a sudoers ` +
          `rule for ${cmd.args.slice(1).join(' ')} ("eBPF: Install Privileged Helper", or ` +
          '`sudo ebpf-studio install-helper --rule sudoers`), or set "ebpfStudio.helper.elevation" to "pkexec".'
        );
      }
      return `sudo could not start the eBPF Studio helper (exit ${exitCode}): ${said || 'no message'}`;
    case 'pkexec':
      if (exitCode === 126) return 'Authentication was cancelled: the eBPF Studio helper was not started.';
      if (exitCode === 127) {
        return (
          `pkexec refused to start the eBPF Studio helper (not authorized${said ? ': ' + said : ''}). ` +
          'Without a polkit agent (remote or headless sessions) use "ebpfStudio.helper.elevation": "sudo".'
        );
      }
      return `pkexec could not start the eBPF Studio helper (exit ${exitCode}): ${said || 'no message'}`;
    case 'none':
      return (
        'The eBPF Studio helper runs without elevation ("ebpfStudio.helper.elevation": "none") and lacks ' +
        `the privileges to load BPF programs (CAP_BPF/CAP_SYS_ADMIN). ${said}`
      );
    default:
      return `The eBPF Studio helper exited (code ${exitCode}) before it answered: ${said || 'no message'}`;
  }
}
