// How the helper is started: directly when this process already has the privileges BPF needs,
// otherwise through pkexec, sudo or a command the user configured. Never through a shell.
import * as fs from 'fs';
import * as path from 'path';
import { effectiveCapabilities, hasBpfPrivileges } from '../../formats/capabilities';

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
 * The ways to start the helper, in the order to try them. `runtime` is the extension host's own
 * executable (process.execPath), so users need no separate Node; under Electron it must run as Node.
 * "auto" starts it directly when this process is privileged, else tries `sudo -n` (works with a
 * NOPASSWD rule or cached credentials, never prompts) and then pkexec (a polkit dialog on desktops).
 */
export function helperCommands(
  setting: ElevationSetting,
  runtime: string,
  helperScript: string,
  privileged = currentProcessIsPrivileged(),
  isElectron = Boolean(process.versions.electron),
): HelperCommand[] {
  const env = { ...process.env, ...(isElectron ? { ELECTRON_RUN_AS_NODE: '1' } : {}) };
  const helperArgv = [runtime, helperScript];
  // sudo and pkexec reset the environment; `env` (not a shell) sets the one variable Electron needs.
  const elevatedArgv = isElectron ? ['/usr/bin/env', 'ELECTRON_RUN_AS_NODE=1', ...helperArgv] : helperArgv;
  const direct: HelperCommand = { command: runtime, args: [helperScript], env, via: privileged ? 'direct' : 'none' };
  const sudo: HelperCommand = {
    command: findOnPath('sudo') ?? 'sudo',
    args: ['-n', ...elevatedArgv],
    env,
    via: 'sudo',
  };
  const pkexec: HelperCommand = { command: findOnPath('pkexec') ?? 'pkexec', args: elevatedArgv, env, via: 'pkexec' };

  switch (setting) {
    case 'none':
      return [direct];
    case 'sudo':
      return [sudo];
    case 'pkexec':
      return [pkexec];
    case 'auto':
    case '':
      if (privileged) return [direct];
      return [...(findOnPath('sudo') ? [sudo] : []), ...(findOnPath('pkexec') ? [pkexec] : [])];
    default: {
      // A custom command, split on white space (no shell, no quoting); the helper's argv is appended.
      const words = setting.trim().split(/\s+/);
      return [{ command: words[0], args: [...words.slice(1), ...elevatedArgv], env, via: 'custom' }];
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
          `sudo refused to start the eBPF Studio helper as root (${said}). Allow it without a password ` +
          `(a sudoers rule for "${cmd.args.slice(1).join(' ')}"), or set "ebpfStudio.helper.elevation" to "pkexec".`
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
