// Runs inside the real extension host of code-server (see index.js), against the installed .vsix opened
// as the development extension, with bpf-samples/ as the workspace: the manifest's commands are
// registered, the eBPF views exist, settings read through the configuration API, and the helper runs.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { extension, theHelper } from './support';

interface Manifest {
  contributes: {
    commands: { command: string; title: string }[];
    views: Record<string, { id: string; name: string }[]>;
    configuration: { properties: Record<string, { default?: unknown }> };
  };
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
    const first = await theHelper();
    // The command resolves once the new helper answered its handshake.
    await vscode.commands.executeCommand('ebpf.restartHelper');
    const second = await theHelper(first.pid);
    assert.notStrictEqual(second.pid, first.pid, 'the restart started a new helper process');
    assert.ok(!fs.existsSync(`/proc/${first.pid}`), `the old helper (pid ${first.pid}) has exited`);
    await vscode.commands.executeCommand('ebpf.refresh');
  });
});
