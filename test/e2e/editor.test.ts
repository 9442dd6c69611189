// Working on BPF C in a real VS Code (code-server + chromium): a broken sample saved with Ctrl+S gets the
// verifier's error on the line its README names (squiggle, hover, Problems); eBPF: Check System shows what
// this kernel refuses, row for row as the helper's capability probe says; and the xdp_counter packet tests
// run from the Testing view and pass. The workspace and the kernel are left as they were.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { repoRoot } from './support/code-server';
import { expectKernelAsBefore, kernelBaseline, KernelBaseline } from './support/system';
import { TIMEOUT, Workbench } from './support/workbench';

const samples = path.join(repoRoot, 'bpf-samples');

interface Capability {
  supported: boolean;
  reason?: string;
}

/** The helper's capability probe, through the CLI (its own helper, the same probe the page shows). */
function capabilities(): Record<string, Capability> {
  const out = execFileSync(process.execPath, [path.join(repoRoot, 'dist', 'cli.js'), 'capabilities', '--json'], {
    encoding: 'utf8',
  });
  return JSON.parse(out) as Record<string, Capability>;
}

/** 1-based line of the only line of `text` that contains `needle`. */
function lineOf(text: string, needle: string): number {
  const lines = text.split('\n');
  const hits = lines.flatMap((line, i) => (line.includes(needle) ? [i + 1] : []));
  assert.strictEqual(hits.length, 1, `exactly one line holds ${JSON.stringify(needle)}: ${hits.join(', ')}`);
  return hits[0];
}

function gitStatus(dir: string): string {
  return execFileSync('git', ['status', '--porcelain', '--', dir], { cwd: repoRoot, encoding: 'utf8' });
}

describe('e2e: editing, Check System and packet tests in code-server', function () {
  this.timeout(300_000);
  let wb: Workbench;
  let baseline: KernelBaseline;

  before(async function () {
    this.timeout(240_000);
    baseline = kernelBaseline();
    wb = await Workbench.open('editor');
    await wb.statusItem('eBPF: helper running').waitFor({ timeout: TIMEOUT.kernel });
  });

  after(async () => {
    await wb?.close();
  });

  it('puts the verifier error of verifier_bugs on the line its README names after Ctrl+S', async () => {
    const dir = path.join(samples, 'verifier_bugs');
    const source = path.join(dir, 'verifier_bugs.bpf.c');
    const object = path.join(dir, 'verifier_bugs.bpf.o');
    const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
    // The README names the faulty statement and the verifier's words for it.
    const statement = '*count += 1;';
    const message = "R0 invalid mem access 'map_value_or_null'";
    assert.ok(
      readme.includes(`\`${statement}\``) && readme.includes(`\`${message}\``),
      'the README names the statement and the message',
    );
    const sourceBefore = fs.readFileSync(source);
    const statusBefore = gitStatus(dir);
    const objectExisted = fs.existsSync(object);
    const line = lineOf(sourceBefore.toString('utf8'), statement);

    try {
      await wb.step('open verifier_bugs.bpf.c', async () => {
        await wb.openFile('verifier_bugs/verifier_bugs.bpf.c');
      });
      await wb.step('Ctrl+S and the error squiggle', async () => {
        // The keyboard is in the editor after Quick Open; Ctrl+S saves (the file is unchanged, so is its text).
        await wb.page.locator('.part.editor .monaco-editor textarea').first().focus();
        await wb.page.keyboard.press('Control+S');
        await wb.page
          .locator('.part.editor .monaco-editor .squiggly-error')
          .first()
          .waitFor({ timeout: TIMEOUT.kernel });
        // The status bar counts the errors: one per rejected program.
        await wb.page
          .locator('.part.statusbar .statusbar-item', { hasText: /^\s*2\s+0\s*$/ })
          .first()
          .waitFor();
      });
      await wb.step('Problems panel entry on the README line', async () => {
        await wb.page.keyboard.press('Control+Shift+M');
        const problem = wb.page.locator('.markers-panel .monaco-list-row', { hasText: message }).first();
        await problem.waitFor({ timeout: TIMEOUT.ui });
        const text = await problem.innerText();
        assert.match(
          text,
          new RegExp(`\\[Ln ${line}, Col \\d+\\]`),
          `the problem is on line ${line} (${statement}): ${JSON.stringify(text)}`,
        );
        // Going to the problem puts the cursor on that line.
        await problem.click();
        await wb.statusItem(new RegExp(`Ln ${line}, Col \\d+`)).waitFor();
      });
      await wb.step('hover the squiggle', async () => {
        // The squiggle drawn level with line number `line` in the gutter is the one to hover, as a user does.
        const editor = wb.page.locator('.part.editor .monaco-editor').first();
        const number = await editor
          .locator('.margin-view-overlays .line-numbers', { hasText: new RegExp(`^${line}$`) })
          .boundingBox();
        assert.ok(number, `line ${line} is on screen`);
        let target: { x: number; y: number } | undefined;
        for (const squiggle of await editor.locator('.squiggly-error').all()) {
          const box = await squiggle.boundingBox();
          if (box && Math.abs(box.y + box.height / 2 - (number.y + number.height / 2)) < number.height / 2) {
            target = { x: box.x + Math.min(20, box.width / 2), y: box.y + box.height / 2 };
          }
        }
        assert.ok(target, `an error squiggle is drawn on line ${line}`);
        await wb.page.mouse.move(target.x, target.y);
        await wb.page.locator('.monaco-hover', { hasText: message }).first().waitFor({ timeout: TIMEOUT.ui });
      });
    } finally {
      // The workspace as it was: the sample untouched, and no build output the test made.
      if (!objectExisted) fs.rmSync(object, { force: true });
    }
    assert.ok(fs.readFileSync(source).equals(sourceBefore), 'verifier_bugs.bpf.c is unchanged');
    assert.strictEqual(gitStatus(dir), statusBefore, 'git status of bpf-samples/verifier_bugs is as before');
    await expectKernelAsBefore(baseline);
  });

  it('shows on eBPF: Check System what the helper probed: lsm and fentry refused here, with the reason', async () => {
    const caps = capabilities();
    await wb.step('F1 eBPF Check System', async () => {
      await wb.page.keyboard.press('Escape');
      await wb.runCommand('eBPF: Check System');
      await wb.editorTab('eBPF: Check System').waitFor();
    });
    await wb.step('Check System program types', async () => {
      const page = await wb.webview('h1:text-is("eBPF: Check System")');
      const row = (section: string, label: string) =>
        page.locator(
          `xpath=//h2[starts-with(normalize-space(.), "${section}")]/following-sibling::table[1]//tr[th[normalize-space(.)="${label}"]]`,
        );
      for (const [section, prefix] of [
        ['Program types', 'program:'],
        ['Attach types', 'attach:'],
      ]) {
        for (const name of ['lsm', 'fentry']) {
          const cap = caps[`${prefix}${name}`];
          assert.ok(cap, `the helper probes ${prefix}${name}`);
          const tr = row(section, name);
          await tr.waitFor();
          const [cls, text] = [await tr.getAttribute('class'), (await tr.innerText()).replace(/\s+/g, ' ').trim()];
          if (cap.supported) {
            assert.strictEqual(cls, 'ok', `${prefix}${name} is accepted here and shown so: ${text}`);
          } else {
            assert.strictEqual(cls, 'error', `${prefix}${name} is refused here and shown so: ${text}`);
            assert.ok(
              text.includes(`no: ${cap.reason}`),
              `the page gives the probe's reason for ${prefix}${name}: ${JSON.stringify(text)}`,
            );
          }
        }
      }
      // Where the policy refuses them with EPERM (this VM), the page says EPERM.
      for (const key of ['program:lsm', 'program:fentry']) {
        if (!caps[key].supported && /EPERM/.test(caps[key].reason ?? '')) {
          assert.match(await row('Program types', key.slice('program:'.length)).innerText(), /EPERM/);
        }
      }
      await row('Program types', 'lsm').scrollIntoViewIfNeeded();
    });
    await expectKernelAsBefore(baseline);
  });

  it('runs the xdp_counter packet tests from the Testing view, and they pass', async () => {
    const dir = path.join(samples, 'xdp_counter');
    const object = path.join(dir, 'xdp_counter.bpf.o');
    const objectExisted = fs.existsSync(object);
    const tests = (
      JSON.parse(fs.readFileSync(path.join(dir, 'xdp_counter.bpftest.json'), 'utf8')) as { tests: { name: string }[] }
    ).tests;
    try {
      await wb.step('Testing view with the packet tests', async () => {
        await wb.openContainer('Testing');
        const file = wb.page
          .locator('.part.sidebar .test-explorer .monaco-list-row', { hasText: 'xdp_counter.bpftest.json' })
          .first();
        await file.waitFor({ timeout: TIMEOUT.ui });
        // Expanded, it lists every test of the file.
        if ((await file.getAttribute('aria-expanded')) !== 'true') await file.locator('.monaco-tl-twistie').click();
        for (const t of tests)
          await wb.page.locator('.part.sidebar .test-explorer .monaco-list-row', { hasText: t.name }).first().waitFor();
      });
      await wb.step('run xdp_counter tests passed', async () => {
        const file = wb.page
          .locator('.part.sidebar .test-explorer .monaco-list-row', { hasText: 'xdp_counter.bpftest.json' })
          .first();
        await file.hover();
        await file.locator('.action-label[aria-label^="Run Test"]').click();
        // Each test, and the file, shows the passed icon.
        await file.locator('.codicon-testing-passed-icon').waitFor({ timeout: TIMEOUT.kernel });
        for (const t of tests) {
          const row = wb.page.locator('.part.sidebar .test-explorer .monaco-list-row', { hasText: t.name }).first();
          await row.locator('.codicon-testing-passed-icon').waitFor();
        }
      });
    } finally {
      if (!objectExisted) fs.rmSync(object, { force: true });
    }
    await expectKernelAsBefore(baseline);
  });
});
