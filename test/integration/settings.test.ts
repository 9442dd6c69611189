// Settings honoured by the running extension: ebpfStudio.build.onSave decides whether saving a BPF C file
// builds and verifies it (an explicit eBPF: Build and Verify always does), and ebpfStudio.helper.elevation
// decides how the helper is started (through sudo, or directly when "none"; root here, so both work).
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { repoRoot } from '../e2e/support/code-server';
import { waitUntil } from '../e2e/support/system';
import { api, commandName, extensionId, extensionLog, parentOf, theHelper, waitForNodes } from './support';

const message = "R0 invalid mem access 'map_value_or_null'";

/** A copy of verifier_bugs.bpf.c (two programs the verifier rejects) under `name` in `dir`. */
function brokenSample(dir: string, name: string): { uri: vscode.Uri; line: number } {
  const text = fs.readFileSync(path.join(repoRoot, 'bpf-samples', 'verifier_bugs', 'verifier_bugs.bpf.c'), 'utf8');
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  // The statement the sample's README names for the NULL dereference, 1-based.
  return { uri: vscode.Uri.file(file), line: text.split('\n').findIndex((l) => l.includes('*count += 1;')) + 1 };
}

/** Appends a newline through the editor and saves: a real edit and a real save (didSave). */
async function editAndSave(uri: vscode.Uri): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc);
  const edit = new vscode.WorkspaceEdit();
  edit.insert(uri, doc.lineAt(doc.lineCount - 1).range.end, '\n');
  assert.ok(await vscode.workspace.applyEdit(edit), 'the edit applies');
  // VS Code aborts a save whose will-save participants take over 1.75 s ("Aborted onWillSaveTextDocument-event"),
  // which happens when the extension host is busy on a loaded machine; a user saves again, and so does this.
  let saved = await doc.save();
  for (let retry = 0; !saved && doc.isDirty && retry < 3; retry++) saved = await doc.save();
  assert.ok(saved, `${path.basename(uri.fsPath)} saved`);
}

function verifierErrorOn(uri: vscode.Uri, line: number): vscode.Diagnostic | undefined {
  return vscode.languages
    .getDiagnostics(uri)
    .find(
      (d) =>
        d.severity === vscode.DiagnosticSeverity.Error &&
        d.message.includes(message) &&
        d.range.start.line === line - 1,
    );
}

async function setSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('ebpfStudio').update(key, value, vscode.ConfigurationTarget.Global);
  const expected = value ?? vscode.workspace.getConfiguration('ebpfStudio').inspect(key)?.defaultValue;
  await waitUntil(`ebpfStudio.${key} to read ${JSON.stringify(expected)}`, () =>
    JSON.stringify(vscode.workspace.getConfiguration('ebpfStudio').get(key)) === JSON.stringify(expected)
      ? true
      : undefined,
  );
}

describe('integration: settings honoured', () => {
  before(async () => {
    await api();
    await theHelper();
  });

  describe('ebpfStudio.build.onSave', () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ebpf-studio-onsave-'));
    });
    after(async () => {
      await setSetting('build.onSave', undefined);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('on (the default): saving a broken source puts the verifier error on its line', async () => {
      const on = brokenSample(dir, 'onsave-on.bpf.c');
      await editAndSave(on.uri);
      const diagnostic = await waitUntil(
        `the verifier error on line ${on.line} of onsave-on.bpf.c`,
        () => verifierErrorOn(on.uri, on.line),
        60_000,
      );
      assert.strictEqual(diagnostic.source, 'bpf verifier');
    });

    it('off: saving builds nothing; only eBPF: Build and Verify does', async () => {
      await setSetting('build.onSave', false);
      const off = brokenSample(dir, 'onsave-off.bpf.c');
      const marker = brokenSample(dir, 'onsave-marker.bpf.c');
      await editAndSave(off.uri);
      // The explicit build of the same file: with build-on-save on, the save's build would be running or
      // done by now, and the language server would log a second "built" line for the file.
      await vscode.commands.executeCommand('ebpf.build');
      assert.ok(verifierErrorOn(off.uri, off.line), 'eBPF: Build and Verify put the verifier error on its line');
      // The language server logs one line per build to the eBPF Studio channel, in order: once the next
      // file's line is in the log, every line about onsave-off.bpf.c is too.
      await vscode.window.showTextDocument(marker.uri);
      await vscode.commands.executeCommand('ebpf.build');
      const log = await waitUntil("the language server's line about onsave-marker.bpf.c in the log", () => {
        const text = extensionLog();
        return /onsave-marker\.bpf\.c: built/.test(text) ? text : undefined;
      });
      const builds = log.split('\n').filter((l) => /onsave-off\.bpf\.c: built/.test(l));
      assert.strictEqual(
        builds.length,
        1,
        `onsave-off.bpf.c was built once (by the command), not on save: ${builds.join(' | ')}`,
      );
    });
  });

  describe('ebpfStudio.helper.elevation', () => {
    let installed: { root: string } | undefined;

    after(async function () {
      this.timeout(60_000);
      await setSetting('helper.elevation', undefined);
      await vscode.commands.executeCommand('ebpf.restartHelper');
      delete process.env.EBPF_STUDIO_INSTALL_ROOT;
      // No rule was written (--rule none): the scratch root is all there is to remove. (uninstall-helper
      // would also remove the machine's own rules.)
      if (installed) fs.rmSync(installed.root, { recursive: true, force: true });
    });

    it('"sudo" starts the helper through sudo -n; "none" starts it directly; the views follow the new helper', async function () {
      this.timeout(120_000);
      const views = await api();
      // Elevation starts only an installed, root-owned helper: install this extension's into a scratch root
      // (no rule: this runs as root, whom sudo -n lets through anyway), and point the extension host at it.
      const cli = path.join(vscode.extensions.getExtension(extensionId)!.extensionPath, 'dist', 'cli.js');
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ebpf-studio-integration-install-'));
      installed = { root };
      execFileSync(process.execPath, [cli, 'install-helper', '--rule', 'none', '--install-root', root], {
        stdio: 'pipe',
      });
      process.env.EBPF_STUDIO_INSTALL_ROOT = root;
      await setSetting('helper.elevation', 'sudo');
      await vscode.commands.executeCommand('ebpf.restartHelper');
      const viaSudo = await theHelper(undefined, root);
      // sudo stays the helper's parent (with use_pty, a second sudo monitors it): every process between
      // the helper and this extension host is sudo.
      const between: string[] = [];
      for (let p = parentOf(viaSudo.pid); p !== undefined && p !== process.pid && p > 1; p = parentOf(p))
        between.push(commandName(p));
      assert.ok(
        between.length > 0 && between.every((c) => c === 'sudo'),
        `the helper runs under sudo: ${between.join(' <- ')}`,
      );
      assert.ok(fs.readFileSync(`/proc/${viaSudo.pid}/status`, 'utf8').match(/^Uid:\s+0\s/m), 'as root');
      const cmdline = fs.readFileSync(`/proc/${viaSudo.pid}/cmdline`, 'utf8').split('\0');
      assert.ok(
        cmdline.some((arg) => arg.startsWith(root)),
        `the installed copy runs, not the extension's: ${cmdline.join(' ')}`,
      );
      await waitForNodes('the Programs view listing through the sudo helper', views.programs, (nodes) =>
        nodes.some((n) => n.id === 'group:others') ? true : undefined,
      );

      await setSetting('helper.elevation', 'none');
      await vscode.commands.executeCommand('ebpf.restartHelper');
      const direct = await theHelper(viaSudo.pid);
      assert.strictEqual(parentOf(direct.pid), process.pid, 'with "none" the extension host starts the helper itself');
      await waitForNodes('the Programs view listing through the direct helper', views.programs, (nodes) =>
        nodes.some((n) => n.id === 'group:others') ? true : undefined,
      );
    });
  });
});
