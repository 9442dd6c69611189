// A user's first session in a real VS Code (code-server + chromium) with the packaged extension and
// bpf-samples/ open: the eBPF activity bar and its views; F1 → Load Program… on fork_trace, the program in
// Programs and its map in Maps; the map viewer counting this test's forks; the trace panel printing them;
// F1 → Unload…; and a helper killed with SIGKILL coming back. Checked against bpftool and bpffs.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { repoRoot } from './support/code-server';
import {
  expectKernelAsBefore,
  forkChildren,
  helperProcesses,
  kernelBaseline,
  KernelBaseline,
  kernelPrograms,
  waitUntil,
} from './support/system';
import { TIMEOUT, Workbench } from './support/workbench';

describe('e2e: fork_trace in code-server', function () {
  this.timeout(300_000);
  let wb: Workbench;
  let baseline: KernelBaseline;
  // Load Program… builds fork_trace.bpf.c into fork_trace.bpf.o beside it: the workspace is left as found.
  const object = path.join(repoRoot, 'bpf-samples', 'fork_trace', 'fork_trace.bpf.o');
  let objectExisted = false;

  before(async function () {
    this.timeout(240_000);
    baseline = kernelBaseline();
    objectExisted = fs.existsSync(object);
    wb = await Workbench.open('fork-trace');
  });

  after(async () => {
    await wb?.close();
    if (!objectExisted) fs.rmSync(object, { force: true });
  });

  it('shows the eBPF activity bar with the Programs and Maps views, and the helper running', async () => {
    await wb.step('open eBPF activity bar', async () => {
      await wb.openContainer('eBPF');
      await wb.pane('Programs').waitFor();
      await wb.pane('Maps').waitFor();
    });
    await wb.step('helper running', async () => {
      // The status bar says so once the helper answered its handshake (root here: started directly).
      await wb.statusItem('eBPF: helper running').waitFor({ timeout: TIMEOUT.kernel });
      await wb.treeRow('Programs', 'Loaded here').waitFor();
      await wb.treeRow('Maps', 'Loaded here').waitFor();
    });
    await wb.step('click nothing loaded yet', async () => {
      // The placeholder item of an empty Programs view runs Load Program… when clicked.
      await wb.treeRow('Programs', 'nothing loaded yet').click();
      await wb.waitForQuickInput('eBPF: Load Program');
      await wb.quickPickRow('fork_trace.bpf.c').waitFor();
      await wb.page.keyboard.press('Escape');
      await wb.quickInput.waitFor({ state: 'hidden' });
    });
  });

  it('loads fork_trace, shows it in Programs and Maps, counts and prints forks, and unloads it', async () => {
    await wb.openContainer('eBPF');
    await wb.statusItem('eBPF: helper running').waitFor({ timeout: TIMEOUT.kernel });
    const before = kernelBaseline();

    await wb.step('F1 eBPF Load Program', async () => {
      await wb.runCommand('eBPF: Load Program…');
      await wb.waitForQuickInput('eBPF: Load Program');
      await wb.quickPickRow('fork_trace.bpf.c').waitFor();
    });
    await wb.step('pick fork_trace.bpf.c', async () => {
      await wb.pick('fork_trace.bpf.c');
      // clang builds it first; then the programs to load are asked for (only when there are several) and
      // each const volatile variable.
      const title = await wb.waitForQuickInput(/Load fork_trace: (programs|const volatile)/, TIMEOUT.kernel);
      if (title.includes('programs')) {
        await wb.quickPickRow('trace_fork').waitFor();
        await wb.page.keyboard.press('Enter');
        await wb.waitForQuickInput(/Load fork_trace: const volatile/);
      }
    });
    await wb.step('parent_filter input box', async () => {
      const prompt = wb.quickInput.locator('.quick-input-message, .quick-input-description', {
        hasText: 'parent_filter',
      });
      await prompt.first().waitFor();
      assert.strictEqual(await wb.quickInput.locator('input').inputValue(), '0', 'parent_filter shows its default, 0');
      await wb.page.keyboard.press('Enter');
    });
    let programId = 0;
    await wb.step('trace_fork in Programs', async () => {
      await wb.toast(/Loaded fork_trace/).waitFor({ timeout: TIMEOUT.kernel });
      const row = wb.treeRow('Programs', /trace_fork.*sched\/sched_process_fork/);
      await row.waitFor({ timeout: TIMEOUT.kernel });
      const text = await row.innerText();
      programId = Number(/id (\d+)/.exec(text)?.[1]);
      assert.ok(programId > 0, `the Programs row names the program id: ${JSON.stringify(text)}`);
      const inKernel = kernelPrograms().find((p) => p.id === programId);
      assert.ok(inKernel, `bpftool lists program ${programId}`);
      assert.strictEqual(inKernel.name, 'trace_fork');
    });
    await wb.step('forks_by_parent in Maps', async () => {
      await wb.treeRow('Maps', 'forks_by_parent').waitFor({ timeout: TIMEOUT.kernel });
    });

    // This process forks; fork_trace counts under its pid and prints "fork parent=<pid> child=<pid>".
    const pid = String(process.pid);
    await wb.step('map viewer forks_by_parent', async () => {
      // Clicking a map in the Maps view opens it in the map viewer.
      await wb.treeRow('Maps', 'forks_by_parent').click();
      await wb.editorTab('Map: forks_by_parent').waitFor();
      const viewer = await wb.webview('#title:text-is("forks_by_parent")');
      await viewer.locator('#summary', { hasText: 'hash' }).waitFor();
      // The columns come from the map's BTF: a __u32 key and a __u64 value.
      await viewer.locator('#header .th.key', { hasText: '__u32' }).waitFor();
      await viewer.locator('#header .th.value', { hasText: '__u64' }).waitFor();
      // The Add entry form labels a scalar key and value once each, with the type beside the input.
      await viewer.locator('#add').click();
      await viewer.locator('#formFields input').first().waitFor();
      assert.deepStrictEqual(await viewer.locator('#formFields label').allInnerTexts(), ['key', 'value']);
      assert.deepStrictEqual(await viewer.locator('#formFields .muted').allInnerTexts(), ['__u32', '__u64']);
      await viewer.locator('#formCancel').click();
    });
    let first = 0;
    await wb.step('map viewer counts rise', async () => {
      const viewer = await wb.webview('#title:text-is("forks_by_parent")');
      // As a user watching one parent: filter on its pid and refresh every second.
      await viewer.locator('#filter').fill(pid);
      await viewer.locator('#auto').selectOption('1000');
      const row = viewer.locator('#rows .row', { has: viewer.locator('.td.key', { hasText: new RegExp(`^${pid}$`) }) });
      const value = row.locator('.td.value');
      forkChildren(3);
      first = await waitUntil(
        `forks_by_parent[${pid}] in the map viewer, decoded as a count`,
        async () => {
          const text = await value.innerText({ timeout: 1000 }).catch(() => '');
          return /^\d+$/.test(text) && Number(text) > 0 ? Number(text) : undefined;
        },
        TIMEOUT.kernel,
      );
      forkChildren(5);
      const risen = await waitUntil(
        `forks_by_parent[${pid}] to rise from ${first} by 5 in the map viewer`,
        async () => {
          const now = Number(await value.innerText({ timeout: 1000 }).catch(() => 'NaN'));
          return now >= first + 5 ? now : undefined;
        },
        TIMEOUT.kernel,
      );
      assert.ok(risen >= first + 5);
    });

    await wb.step('F1 eBPF Show Trace Output', async () => {
      // The map viewer's iframe has the keyboard focus and covers the editor: F1 must still reach the workbench.
      await wb.runCommand('eBPF: Show Trace Output');
      const trace = await wb.webview('#status');
      await trace.locator('#status', { hasText: /^tracing/ }).waitFor({ timeout: TIMEOUT.kernel });
      await wb.page.locator('.part.panel .composite.title', { hasText: 'eBPF Trace' }).first().waitFor();
    });
    await wb.step('trace panel fork lines', async () => {
      const trace = await wb.webview('#status');
      await trace.locator('#text').fill(`fork parent=${pid}`);
      forkChildren(3);
      // Every line shown is one of this process's forks once the filter applied (it is sent after 250 ms
      // of no typing) and the forks arrived; each names the program that printed it.
      const lines = await waitUntil(
        `trace lines "fork parent=${pid} child=..." and no others in the filtered trace panel`,
        async () => {
          const shown = await trace.locator('#rows .line').allInnerTexts();
          return shown.length > 0 && shown.every((l) => l.includes(`fork parent=${pid} child=`)) ? shown : undefined;
        },
        TIMEOUT.kernel,
      );
      for (const line of lines) assert.match(line, /trace_fork: fork parent=/, 'the line is attributed to trace_fork');
    });

    await wb.step('F1 eBPF Unload', async () => {
      await wb.runCommand('eBPF: Unload…');
      await wb.waitForQuickInput('eBPF: Unload');
      await wb.quickPickRow('fork_trace').waitFor();
    });
    await wb.step('pick fork_trace to unload', async () => {
      await wb.pick('fork_trace');
      await wb.toast(/Unloaded fork_trace/).waitFor({ timeout: TIMEOUT.kernel });
      await wb.openContainer('eBPF');
      await wb.treeRow('Programs', 'trace_fork').waitFor({ state: 'detached', timeout: TIMEOUT.kernel });
      await wb.treeRow('Maps', 'forks_by_parent').waitFor({ state: 'detached', timeout: TIMEOUT.kernel });
    });
    await wb.step('map viewer says its map was unloaded', async () => {
      // The viewer stays open: it says the map is gone and stops auto-refresh instead of showing the last
      // read as if it were current.
      const viewer = await wb.webview('#title:text-is("forks_by_parent")');
      await viewer
        .locator('#error', {
          hasText: /is no longer in the kernel \(its program was unloaded\)\. The table shows what was read last\./,
        })
        .waitFor();
      assert.strictEqual(await viewer.locator('#auto').inputValue(), '0', 'auto-refresh is off');
    });

    assert.ok(
      !kernelPrograms().some((p) => p.id === programId),
      `program ${programId} is still in the kernel after Unload…`,
    );
    await expectKernelAsBefore(before);
  });

  it('restarts the helper after it is killed with SIGKILL, and the views recover', async () => {
    const before = kernelBaseline();
    await wb.openContainer('eBPF');
    await wb.statusItem('eBPF: helper running').waitFor({ timeout: TIMEOUT.kernel });
    const [helper, ...others] = helperProcesses(wb.extensionPath);
    assert.ok(helper, `a helper process runs ${wb.extensionPath}/dist/helper.js`);
    assert.deepStrictEqual(others, [], 'one helper process');
    await wb.step('helper killed with SIGKILL', async () => {
      process.kill(helper.pid, 'SIGKILL');
      await wb
        .toast('The eBPF Studio helper stopped (signal SIGKILL); restarting…')
        .waitFor({ timeout: TIMEOUT.kernel });
    });
    await wb.step('helper restarted', async () => {
      await wb.statusItem('eBPF: helper running').waitFor({ timeout: TIMEOUT.kernel });
      const next = await waitUntil('a new helper process', () =>
        helperProcesses(wb.extensionPath).find((p) => p.pid !== helper.pid),
      );
      assert.notStrictEqual(next.pid, helper.pid);
      // The views list the kernel through the new helper again.
      await wb.treeRow('Programs', 'nothing loaded yet').waitFor({ timeout: TIMEOUT.kernel });
      await wb.treeRow('Programs', 'Other programs on this system').waitFor();
      await wb.treeRow('Maps', 'Loaded here').waitFor();
    });
    await expectKernelAsBefore(before);
  });

  it('map viewer follows a helper restart: a pinned map is read through the new helper', async () => {
    const before = kernelBaseline();
    await wb.openContainer('eBPF');
    await wb.statusItem('eBPF: helper running').waitFor({ timeout: TIMEOUT.kernel });
    // Loaded and pinned by the CLI, so the map outlives the helper killed below.
    const loaded = JSON.parse(
      execFileSync(process.execPath, [path.join(repoRoot, 'dist', 'cli.js'), 'load', '--json', object], {
        encoding: 'utf8',
      }),
    );
    const mapId: number = loaded.maps.find((m: { name: string }) => m.name === 'forks_by_parent').id;
    try {
      const summary = `#summary:has-text("id ${mapId} ")`;
      await wb.step('F1 eBPF Open Map pinned forks_by_parent', async () => {
        await wb.runCommand('eBPF: Open Map…');
        await wb.waitForQuickInput('eBPF: Open Map');
        await wb.pick('forks_by_parent', `id ${mapId}`);
        await wb.webview(summary);
      });
      const pid = String(process.pid);
      await wb.step('helper killed with the viewer open, viewer reads again', async () => {
        const [helper] = helperProcesses(wb.extensionPath);
        process.kill(helper.pid, 'SIGKILL');
        await wb
          .toast('The eBPF Studio helper stopped (signal SIGKILL); restarting…')
          .waitFor({ timeout: TIMEOUT.kernel });
        await wb.statusItem('eBPF: helper running').waitFor({ timeout: TIMEOUT.kernel });
        const viewer = await wb.webview(summary);
        forkChildren(2);
        await viewer.locator('#filter').fill(pid);
        // Read through the new helper: this process's forks since the load appear, and no error is shown.
        await waitUntil(
          `forks_by_parent[${pid}] read through the restarted helper`,
          async () => {
            await viewer.locator('#refresh').click();
            const row = viewer.locator('#rows .row .td.key', { hasText: new RegExp(`^${pid}$`) });
            return (await row.count()) > 0 ? true : undefined;
          },
          TIMEOUT.kernel,
        );
        assert.strictEqual(await viewer.locator('#error').innerText(), '');
      });
    } finally {
      execFileSync(process.execPath, [path.join(repoRoot, 'dist', 'cli.js'), 'unload', loaded.loadId]);
    }
    await expectKernelAsBefore(before);
  });

  it('leaves the kernel as it found it', async () => {
    await expectKernelAsBefore(baseline);
  });
});
