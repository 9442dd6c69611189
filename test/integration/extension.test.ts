// Runs inside the real extension host of code-server (see index.js), against the installed .vsix opened
// as the development extension, with bpf-samples/ as the workspace: the manifest's commands are
// registered, the eBPF views exist, settings read through the configuration API, and the helper runs.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';

const extensionId = 'ebpf-studio.ebpf-studio';

interface Manifest {
  contributes: {
    commands: { command: string; title: string }[];
    views: Record<string, { id: string; name: string }[]>;
    configuration: { properties: Record<string, { default?: unknown }> };
  };
}

function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(extensionId);
  assert.ok(ext, `${extensionId} is not among the extensions of this host`);
  return ext;
}

/** pid → ppid and command line of every process, from /proc. */
function processes(): { pid: number; ppid: number; cmdline: string }[] {
  return fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => {
      try {
        const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
        // The command name in parentheses may hold spaces; the fields after it do not.
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        const cmdline = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ');
        return [{ pid: Number(name), ppid, cmdline }];
      } catch {
        return []; // Exited meanwhile.
      }
    });
}

/** Pids of helper processes (dist/helper.js of this extension) that descend from this extension host. */
function helperPids(extensionPath: string): number[] {
  const all = processes();
  const parent = new Map(all.map((p) => [p.pid, p.ppid]));
  const descends = (pid: number) => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === process.pid) return true;
    return false;
  };
  const script = path.join(extensionPath, 'dist', 'helper.js');
  return all.filter((p) => p.cmdline.includes(script) && descends(p.pid)).map((p) => p.pid);
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('integration: eBPF Studio in the extension host', () => {
  let manifest: Manifest;

  before(async () => {
    const ext = extension();
    manifest = ext.packageJSON as Manifest;
    // bpf-samples/ holds *.bpf.c, so the extension activates by itself; activate() waits for that.
    await ext.activate();
  });

  it('activates in a workspace with *.bpf.c files', () => {
    assert.strictEqual(extension().isActive, true);
    assert.ok(
      vscode.workspace.workspaceFolders?.some((f) => path.basename(f.uri.fsPath) === 'bpf-samples'),
      'bpf-samples/ is the workspace folder',
    );
  });

  it('registers every command of the manifest', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    const declared = manifest.contributes.commands.map((c) => c.command);
    for (const id of ['ebpf.loadProgram', 'ebpf.unload', 'ebpf.restartHelper', 'ebpf.pin', 'ebpf.refresh']) {
      assert.ok(declared.includes(id), `package.json declares ${id}`);
    }
    const missing = declared.filter((id) => !registered.has(id));
    assert.deepStrictEqual(missing, [], 'commands declared in package.json but not registered');
  });

  it('contributes the Programs and Maps views in the eBPF container, and they open', async () => {
    const views = manifest.contributes.views.ebpf?.map((v) => v.id) ?? [];
    assert.deepStrictEqual(views.sort(), ['ebpf.maps', 'ebpf.programs']);
    const registered = new Set(await vscode.commands.getCommands(true));
    // VS Code adds <container> and <view>.focus commands for contributed containers and views.
    for (const id of ['workbench.view.extension.ebpf', 'ebpf.programs.focus', 'ebpf.maps.focus']) {
      assert.ok(registered.has(id), `${id} is registered`);
    }
    await vscode.commands.executeCommand('workbench.view.extension.ebpf');
    await vscode.commands.executeCommand('ebpf.programs.focus');
    await vscode.commands.executeCommand('ebpf.maps.focus');
  });

  it('reads its settings, with the manifest defaults', () => {
    const config = vscode.workspace.getConfiguration('ebpfStudio');
    const elevation = config.inspect<string>('helper.elevation');
    assert.strictEqual(elevation?.defaultValue, 'auto');
    assert.strictEqual(config.get('helper.elevation'), 'auto');
    const declared = manifest.contributes.configuration.properties;
    for (const [key, schema] of Object.entries(declared)) {
      const relative = key.replace(/^ebpfStudio\./, '');
      assert.deepStrictEqual(config.inspect(relative)?.defaultValue, schema.default, `default of ${key}`);
    }
  });

  it('starts the helper, and ebpf.restartHelper replaces it with a new one', async () => {
    const extensionPath = extension().extensionPath;
    const first = await waitFor('the helper process (dist/helper.js) under this extension host', () => {
      const pids = helperPids(extensionPath);
      return pids.length > 0 ? pids : undefined;
    });
    assert.strictEqual(first.length, 1, `one helper runs, not ${first.length}: ${first.join(', ')}`);
    // The command resolves once the new helper answered its handshake.
    await vscode.commands.executeCommand('ebpf.restartHelper');
    const second = helperPids(extensionPath);
    assert.strictEqual(second.length, 1, `one helper after the restart, not ${second.length}`);
    assert.notStrictEqual(second[0], first[0], 'the restart started a new helper process');
    await vscode.commands.executeCommand('ebpf.refresh');
  });
});
