// A user's first session in a real VS Code (code-server + chromium) with the packaged extension and
// bpf-samples/ open: the eBPF activity bar and its views, then Load Program… on fork_trace and Unload…,
// checked against the kernel with bpftool.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import { TIMEOUT, Workbench } from './support/workbench';

interface BpftoolProgram {
  id: number;
  name?: string;
  type: string;
}

function kernelPrograms(): BpftoolProgram[] {
  return JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'list'], { encoding: 'utf8' })) as BpftoolProgram[];
}

describe('e2e: eBPF Studio in code-server', function () {
  this.timeout(300_000);
  let wb: Workbench;

  before(async function () {
    this.timeout(240_000);
    wb = await Workbench.open('load-unload');
  });

  after(async () => {
    await wb?.close();
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

  it('loads fork_trace with Load Program…, shows it and its map, and unloads it with Unload…', async () => {
    await wb.openContainer('eBPF');
    await wb.statusItem('eBPF: helper running').waitFor({ timeout: TIMEOUT.kernel });
    const before = kernelPrograms();

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
      const prompt = wb.quickInput.locator('.quick-input-message, .quick-input-description', { hasText: 'parent_filter' });
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

    await wb.step('F1 eBPF Unload', async () => {
      await wb.runCommand('eBPF: Unload…');
      await wb.waitForQuickInput('eBPF: Unload');
      await wb.quickPickRow('fork_trace').waitFor();
    });
    await wb.step('pick fork_trace to unload', async () => {
      await wb.pick('fork_trace');
      await wb.toast(/Unloaded fork_trace/).waitFor({ timeout: TIMEOUT.kernel });
      await wb.treeRow('Programs', 'trace_fork').waitFor({ state: 'detached', timeout: TIMEOUT.kernel });
      await wb.treeRow('Maps', 'forks_by_parent').waitFor({ state: 'detached', timeout: TIMEOUT.kernel });
    });

    const after = kernelPrograms();
    assert.ok(!after.some((p) => p.id === programId), `program ${programId} is still in the kernel after Unload…`);
    const ids = (list: BpftoolProgram[]) => list.map((p) => p.id).sort((a, b) => a - b);
    assert.deepStrictEqual(ids(after), ids(before), 'bpftool prog list ids are the same as before the load');
  });
});
