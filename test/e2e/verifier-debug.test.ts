// Debugging the verifier's path in a real VS Code (code-server + chromium): eBPF: Debug Verifier Path on
// verifier_bugs' count_getpid builds it, has the helper verify it at log level 2 and starts the
// ebpf-verifier session; Continue runs the walk to the rejection, which stops as an exception on the
// statement the README names, and the Variables view shows R0's type there. The workspace and the kernel
// are left as they were.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { repoRoot } from './support/code-server';
import { expectKernelAsBefore, kernelBaseline, KernelBaseline } from './support/system';
import { TIMEOUT, Workbench } from './support/workbench';

const dir = path.join(repoRoot, 'bpf-samples', 'verifier_bugs');

describe('e2e: debugging the verifier path in code-server', function () {
  this.timeout(300_000);
  let wb: Workbench;
  let baseline: KernelBaseline;

  before(async function () {
    this.timeout(240_000);
    baseline = kernelBaseline();
    wb = await Workbench.open('verifier-debug');
    await wb.statusItem('eBPF: helper running').waitFor({ timeout: TIMEOUT.kernel });
  });

  after(async () => {
    await wb?.close();
  });

  it('steps count_getpid to the failing line and shows R0 map_value_or_null in Variables', async () => {
    const source = path.join(dir, 'verifier_bugs.bpf.c');
    const object = path.join(dir, 'verifier_bugs.bpf.o');
    const objectExisted = fs.existsSync(object);
    const sourceBefore = fs.readFileSync(source);
    const lines = sourceBefore.toString('utf8').split('\n');
    const failing = lines.findIndex((l) => l.includes('*count += 1;')) + 1;
    const lookup = lines.findIndex((l) => l.includes('count = bpf_map_lookup_elem(')) + 1;
    const message = "R0 invalid mem access 'map_value_or_null'";
    try {
      await wb.step('open verifier_bugs.bpf.c', async () => {
        await wb.openFile('verifier_bugs/verifier_bugs.bpf.c');
      });
      await wb.step('eBPF Debug Verifier Path on count_getpid', async () => {
        await wb.runCommand('eBPF: Debug Verifier Path');
        await wb.pick('count_getpid');
        // Stopped at the first instruction: the debug toolbar and the paused call stack.
        await wb.page.locator('.debug-toolbar').waitFor({ timeout: TIMEOUT.kernel });
        // Ctrl+Shift+D: the activity bar icon is covered by its "1 active session" badge.
        await wb.page.keyboard.press('Control+Shift+D');
        await wb.page
          .locator('.part.sidebar .debug-call-stack .monaco-list-row', { hasText: 'count_getpid' })
          .first()
          .waitFor({ timeout: TIMEOUT.kernel });
      });
      await wb.step('step over to the line after the lookup', async () => {
        // F10 over C lines until the lookup's line is behind: the editor's current line follows.
        for (let i = 0; i < 10; i++) {
          const current = await wb.statusItem(/Ln \d+, Col \d+/).innerText();
          if (Number(/Ln (\d+)/.exec(current)?.[1]) > lookup) break;
          await wb.page.keyboard.press('F10');
          await wb.page.waitForTimeout(400);
        }
        await wb.statusItem(new RegExp(`Ln ${failing}, Col \\d+`)).waitFor();
      });
      await wb.step('Continue stops at the rejection as an exception', async () => {
        await wb.page.keyboard.press('F5');
        await wb.page.locator('.exception-widget', { hasText: message }).first().waitFor({ timeout: TIMEOUT.ui });
        await wb.statusItem(new RegExp(`Ln ${failing}, Col \\d+`)).waitFor();
      });
      const shot = await wb.step('Variables view shows R0 map_value_or_null', async () => {
        const r0 = wb
          .pane('Variables')
          .locator('.monaco-list-row', { hasText: /^\s*R0/ })
          .first();
        await r0.waitFor({ timeout: TIMEOUT.ui });
        const text = await r0.innerText();
        assert.match(text, /map_value_or_null\(id=\d+,map=calls_by_pid,ks=4,vs=8\)/, `R0 row: ${JSON.stringify(text)}`);
        return path.join(wb.artifacts, 'variables-r0.png');
      });
      await wb.page.screenshot({ path: shot });
      await wb.step('stop debugging', async () => {
        await wb.page.keyboard.press('Shift+F5');
        await wb.page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: TIMEOUT.ui });
      });
    } finally {
      if (!objectExisted) fs.rmSync(object, { force: true });
    }
    assert.ok(fs.readFileSync(source).equals(sourceBefore), 'verifier_bugs.bpf.c is unchanged');
    await expectKernelAsBefore(baseline);
  });
});
