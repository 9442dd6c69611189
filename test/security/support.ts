// What the security tests share: "other software" on the machine (foreign-agent, a plain libbpf loader that
// holds its objects like cilium-agent would), helpers started as the extension starts them, and the helper's
// typed refusals.
import { strict as assert } from 'assert';
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import { HelperClient } from '../../extension/host/client/client';
import { Methods } from '../../extension/protocol/methods';
import { buildObject, helperScript, tempDir } from '../support/kernel';

export { expectRefusal, u16le, u32le, u64le } from '../support/helper-wire';

const fixtures = path.join(__dirname, 'fixtures');
let agentBinary: string | undefined;
let foreignObject: string | undefined;

/** Builds foreign-agent (C over the system's libbpf) and the object it loads, once per run. */
export async function foreignAgentFiles(): Promise<{ binary: string; object: string }> {
  if (!agentBinary) {
    const dir = tempDir('foreign-agent');
    agentBinary = path.join(dir, 'foreign-agent');
    execFileSync('clang', ['-O2', '-Wall', '-o', agentBinary, path.join(fixtures, 'foreign-agent.c'), '-lbpf']);
  }
  foreignObject ??= await buildObject(path.join(fixtures, 'foreign.bpf.c'));
  return { binary: agentBinary, object: foreignObject };
}

/** Another tool's loader: holds its maps and program until close(); nothing of it is pinned or attached. */
export class ForeignAgent {
  readonly maps: Record<string, number> = {};
  readonly programs: Record<string, number> = {};

  private constructor(private readonly child: ChildProcess) {}

  get pid(): number {
    return this.child.pid!;
  }

  static async start(): Promise<ForeignAgent> {
    const { binary, object } = await foreignAgentFiles();
    const child = spawn(binary, [object], { stdio: ['pipe', 'pipe', 'inherit'] });
    const agent = new ForeignAgent(child);
    const lines = readline.createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`foreign-agent exited (${code}) before it was ready`)));
      lines.on('line', (line) => {
        const [kind, name, id] = line.split(' ');
        if (kind === 'map') agent.maps[name] = Number(id);
        if (kind === 'prog') agent.programs[name] = Number(id);
        if (kind === 'ready') resolve();
      });
    });
    child.removeAllListeners('exit');
    return agent;
  }

  /** Closes its stdin: it closes its object and exits, and the kernel frees what it held. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.end();
    await exited;
  }
}

/** A helper as the extension starts it (directly, since the tests run as root). */
export function startHelper(clientName: string): Promise<HelperClient> {
  assert.ok(fs.existsSync(helperScript), `${helperScript} is missing: run npm run build first`);
  return HelperClient.start({ helperScript, elevation: 'none', clientName });
}

/** Unloads everything a helper still lists (a failed test must not leave loads for the next one). */
export async function unloadAll(client: HelperClient | undefined): Promise<void> {
  if (!client?.running) return;
  for (const load of await client.request(Methods.listLoaded))
    await client.request(Methods.unload, { loadId: load.loadId });
}
