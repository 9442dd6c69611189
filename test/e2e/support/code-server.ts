// Runs a real VS Code for `npm start` and the e2e/integration tiers: code-server (installed by
// scripts/code-server.sh into a cache outside the repository) with the packaged .vsix installed, bound to
// 127.0.0.1 with no auth, its HOME and TMPDIR kept out of /root and /tmp, in its own process group.
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';

export const repoRoot = path.join(__dirname, '..', '..', '..');
export const extensionId = 'ebpf-studio.ebpf-studio';

/** What scripts/code-server.sh installed, from the KEY=value lines it ends with. */
export interface Tools {
  /** The cache root for code-server, Node 24 and run state: ${EBPF_STUDIO_CACHE:-~/.cache/ebpf-studio}/code-server. */
  cache: string;
  node24: string;
  codeServer: string;
  codeServerVersion: string;
  /** Empty when installed with --no-chromium. */
  chromium: string;
}

/** Installs code-server (and chromium) when missing; seconds when they are cached. */
export function ensureTools(options: { chromium: boolean }): Tools {
  const script = path.join(repoRoot, 'scripts', 'code-server.sh');
  const out = execFileSync('bash', [script, ...(options.chromium ? [] : ['--no-chromium'])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const values = Object.fromEntries(
    out
      .split('\n')
      .map((line) => /^([A-Z0-9_]+)=(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[2]]),
  );
  for (const key of ['CACHE', 'NODE24', 'CODE_SERVER']) {
    if (!values[key]) throw new Error(`scripts/code-server.sh did not print ${key}=...; its output was:\n${out}`);
  }
  return {
    cache: values.CACHE,
    node24: values.NODE24,
    codeServer: values.CODE_SERVER,
    codeServerVersion: values.CODE_SERVER_VERSION ?? '',
    chromium: values.CHROMIUM ?? '',
  };
}

/** Builds and packs the .vsix (scripts/package.js); returns its path. EBPF_STUDIO_VSIX names a ready one. */
export function packageExtension(): string {
  const ready = process.env.EBPF_STUDIO_VSIX;
  if (ready) {
    if (!fs.existsSync(ready)) throw new Error(`EBPF_STUDIO_VSIX=${ready} does not exist`);
    return ready;
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  const vsix = path.join(repoRoot, `${manifest.name}-${manifest.version}.vsix`);
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'package.js'), '--out', vsix], { stdio: 'inherit' });
  return vsix;
}

/** A fresh state directory: HOME, TMPDIR and the user-data dir of one code-server run. */
export interface StateDirs {
  root: string;
  home: string;
  tmp: string;
  userData: string;
}

/**
 * User settings of every run: no welcome page, chat or tips covering the eBPF views, and no offer to open
 * the repository that holds bpf-samples/ (it is this project's own).
 */
const userSettings = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'git.openRepositoryInParentFolders': 'never',
  'telemetry.telemetryLevel': 'off',
};

/** Empties `root` and makes the directories of one run, with the user settings above. */
export function freshState(root: string): StateDirs {
  fs.rmSync(root, { recursive: true, force: true });
  const dirs = {
    root,
    home: path.join(root, 'home'),
    tmp: path.join(root, 'tmp'),
    userData: path.join(root, 'user-data'),
  };
  for (const dir of [dirs.home, dirs.tmp, path.join(dirs.userData, 'User')]) fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dirs.userData, 'User', 'settings.json'), JSON.stringify(userSettings, null, 2) + '\n');
  return dirs;
}

/** The environment code-server and its extension host run with. */
function serverEnv(tools: Tools, state: StateDirs): NodeJS.ProcessEnv {
  // Variables of an outer `npm run` (npm_config_*, npm_lifecycle_*, NODE) mean nothing to code-server.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) && key !== 'NODE'),
  );
  return {
    ...inherited,
    HOME: state.home,
    TMPDIR: state.tmp,
    XDG_CONFIG_HOME: path.join(state.home, '.config'),
    XDG_DATA_HOME: path.join(state.home, '.local', 'share'),
    // The extension's clang build keeps its vmlinux.h cache here: share the one outside the fresh HOME.
    EBPF_STUDIO_CACHE: path.dirname(tools.cache),
    PATH: `${path.dirname(tools.node24)}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    // tsx's loader (test runs) must not follow code-server into its Node 24.
    NODE_OPTIONS: undefined,
  };
}

/** Installs the .vsix into extensionsDir (replacing an older copy); returns the installed extension's folder. */
export function installExtension(tools: Tools, state: StateDirs, vsix: string, extensionsDir: string): string {
  fs.mkdirSync(extensionsDir, { recursive: true });
  execFileSync(
    tools.node24,
    [
      tools.codeServer,
      '--extensions-dir',
      extensionsDir,
      '--user-data-dir',
      state.userData,
      '--install-extension',
      vsix,
      '--force',
    ],
    { env: serverEnv(tools, state), stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
  );
  const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  const installed = path.join(extensionsDir, `${extensionId}-${manifest.version}`);
  if (!fs.existsSync(path.join(installed, 'package.json'))) {
    throw new Error(`code-server --install-extension ${vsix} left no ${installed}`);
  }
  return installed;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `preferred` if it is free on 127.0.0.1, else one the kernel picks. */
export async function freePort(preferred?: number): Promise<number> {
  if (preferred && (await portIsFree(preferred))) return preferred;
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface ServerOptions {
  state: StateDirs;
  extensionsDir: string;
  workspace: string;
  port: number;
  /** Lets a page run extension tests through the `payload` URL parameter (integration tier). */
  smokeTestDriver?: boolean;
  /** Where code-server's output goes; 'inherit' prints it (npm start). */
  log: string | 'inherit';
  /** More environment for code-server and so its extension host. */
  env?: Record<string, string>;
}

export class CodeServer {
  private exited: Promise<void>;

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly logPath: string | undefined,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** The workbench URL with `folder` set, plus any extra query parameters. */
  pageUrl(folder: string, query: Record<string, string> = {}): string {
    const params = new URLSearchParams({ folder, ...query });
    return `${this.url}/?${params}`;
  }

  static async start(tools: Tools, options: ServerOptions): Promise<CodeServer> {
    const args = [
      tools.codeServer,
      '--bind-addr',
      `127.0.0.1:${options.port}`,
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--user-data-dir',
      options.state.userData,
      '--extensions-dir',
      options.extensionsDir,
      ...(options.smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
      options.workspace,
    ];
    let stdio: 'inherit' | ['ignore', number, number];
    if (options.log === 'inherit') stdio = 'inherit';
    else {
      fs.mkdirSync(path.dirname(options.log), { recursive: true });
      const fd = fs.openSync(options.log, 'w');
      stdio = ['ignore', fd, fd];
    }
    // Its own process group: code-server leaves the extension host and file watchers behind for a few
    // seconds when only it is killed, so stop() signals the whole group.
    const child = spawn(tools.node24, args, {
      env: { ...serverEnv(tools, options.state), ...options.env },
      stdio,
      detached: true,
    });
    if (typeof stdio !== 'string') fs.closeSync(stdio[1]);
    const server = new CodeServer(
      child,
      `http://127.0.0.1:${options.port}`,
      options.log === 'inherit' ? undefined : options.log,
    );
    await server.waitUntilHealthy(60_000);
    return server;
  }

  /** Waits for /healthz to answer; fails with the log's tail if code-server exits or never answers. */
  async waitUntilHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (Date.now() < deadline) {
      if (exited) throw new Error(`code-server exited at start (exit code ${this.child.exitCode}).${this.logHint()}`);
      try {
        const response = await fetch(`${this.url}/healthz`);
        if (response.ok) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`code-server did not answer ${this.url}/healthz within ${timeoutMs / 1000} s.${this.logHint()}`);
  }

  private logHint(): string {
    if (!this.logPath) return '';
    let tail = '';
    try {
      tail = fs.readFileSync(this.logPath, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      // No log yet.
    }
    return ` Log: ${this.logPath}${tail ? `\n${tail}` : ''}`;
  }

  /** SIGTERM to the whole process group, SIGKILL after 5 s; resolves when the group is gone. */
  async stop(): Promise<void> {
    const pgid = this.child.pid;
    if (!pgid) return;
    const signal = (sig: NodeJS.Signals | 0) => {
      try {
        process.kill(-pgid, sig);
        return true;
      } catch {
        return false; // ESRCH: the group is gone.
      }
    };
    if (!signal('SIGTERM')) return;
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      if (!signal(0)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    signal('SIGKILL');
    while (signal(0)) await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
