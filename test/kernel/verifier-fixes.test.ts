// Each quick fix on a verifier rejection turns a source the kernel's verifier refuses into one it accepts:
// the fixtures of test/unit/fixtures/verifier-logs/src/ and bpf-samples/verifier_bugs are built, verified
// (rejected, with the explanation the fix answers), fixed with the code action's edit, built and verified
// again (accepted). Verify-only loads: nothing stays in the kernel.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { HelperClient } from '../../extension/host/client/client';
import { explainRejection } from '../../extension/formats/verifier-explain';
import { applyFix, proposeFix } from '../../extension/formats/verifier-fixes';
import { parseRejection } from '../../extension/formats/verifier-rejection';
import { compileBpf } from '../../extension/toolchain/compile';
import { type ProgramVerdict, verifyObject } from '../../extension/toolchain/verify';
import {
  expectKernelAsBefore,
  helperScript,
  isRoot,
  kernelObjects,
  KernelObjects,
  repoRoot,
  requireCapability,
  tempDir,
} from '../support/kernel';

const fixtures = path.join(repoRoot, 'test', 'unit', 'fixtures', 'verifier-logs', 'src');

describe('verifier quick fixes on the kernel', function () {
  this.timeout(120_000);
  let helper: HelperClient;
  let baseline: KernelObjects;
  let dir: string;

  before(async function () {
    requireCapability(this, isRoot(), 'verification loads programs into the kernel and needs root');
    baseline = kernelObjects();
    helper = await HelperClient.start({ helperScript, elevation: 'auto', clientName: 'verifier-fixes-test' });
    dir = tempDir('fixes');
  });

  after(async function () {
    await helper?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (baseline) await expectKernelAsBefore(baseline);
  });

  async function verify(source: string): Promise<ProgramVerdict[]> {
    const built = await compileBpf(source, { outDir: dir });
    assert.ok(built.ok, `${path.basename(source)} builds:\n${built.stderr}`);
    return (await verifyObject(helper, built.objectPath, source)).programs;
  }

  /** Verifies, fixes the first rejection with its quick fix, and returns what the second verification says. */
  async function fixOnce(source: string) {
    const verdicts = await verify(source);
    const rejected = verdicts.find((v) => v.status === 'rejected');
    assert.ok(rejected && rejected.status === 'rejected', `${path.basename(source)} is rejected first`);
    const rejection = parseRejection(rejected.log)!;
    const explanation = explainRejection(rejection.message, rejection.report);
    assert.ok(explanation, `the rejection is explained: ${rejection.message}`);
    assert.ok(rejection.location, 'the rejection has a source line');
    const text = fs.readFileSync(source, 'utf8');
    const fix = proposeFix({ text, line: rejection.location.line, explanation });
    assert.ok(fix, `a fix for ${explanation.rule}`);
    fs.writeFileSync(source, applyFix(text, fix));
    return { rule: explanation.rule, fix, program: rejected.program, after: await verify(source) };
  }

  const cases: [string, string][] = [
    ['null_deref_subprog', 'null-deref'],
    ['packet_no_check', 'packet-bounds'],
    ['unbounded_index', 'unbounded-index'],
    ['index_too_large', 'unbounded-index'],
    ['index_negative', 'unbounded-index'],
    ['negative_index', 'unbounded-index'],
    ['return_range', 'return-range'],
    ['gpl_helper', 'gpl-only'],
    ['helper_prog_type', 'helper-not-allowed'],
    ['kernel_ptr_deref', 'scalar-deref'],
  ];
  for (const [name, rule] of cases) {
    it(`${name}: the ${rule} fix makes it verify`, async () => {
      const source = path.join(dir, `${name}.bpf.c`);
      fs.copyFileSync(path.join(fixtures, `${name}.bpf.c`), source);
      const result = await fixOnce(source);
      assert.equal(result.rule, rule);
      const verdict = result.after.find((v) => v.program === result.program);
      assert.equal(verdict?.status, 'verified', `${name} after "${result.fix.title}": ${JSON.stringify(verdict)}`);
    });
  }

  it('a kernel pointer chain read with BPF_CORE_READ verifies (vmlinux.h)', async () => {
    const source = path.join(dir, 'core_chain.bpf.c');
    fs.writeFileSync(
      source,
      [
        '// SPDX-License-Identifier: GPL-2.0',
        '#include "vmlinux.h"',
        '#include <bpf/bpf_helpers.h>',
        '',
        'SEC("tracepoint/syscalls/sys_enter_getpid")',
        'int parent_tgid(void *ctx)',
        '{',
        '\tstruct task_struct *task = (struct task_struct *)bpf_get_current_task();',
        '',
        '\treturn task->real_parent->tgid & 1;',
        '}',
        '',
        'char LICENSE[] SEC("license") = "GPL";',
        '',
      ].join('\n'),
    );
    const result = await fixOnce(source);
    assert.equal(result.rule, 'scalar-deref');
    assert.equal(result.fix.title, 'Read task->real_parent->tgid with BPF_CORE_READ');
    assert.equal(result.after[0]?.status, 'verified', JSON.stringify(result.after[0]));
  });

  it('bpf-samples/verifier_bugs: the NULL check and the data_end check make both programs verify', async () => {
    const source = path.join(dir, 'verifier_bugs.bpf.c');
    fs.copyFileSync(path.join(repoRoot, 'bpf-samples', 'verifier_bugs', 'verifier_bugs.bpf.c'), source);
    const first = await fixOnce(source);
    assert.equal(first.rule, 'null-deref');
    const second = await fixOnce(source);
    assert.equal(second.rule, 'packet-bounds');
    assert.deepEqual(
      second.after.map((v) => [v.program, v.status]),
      [
        ['count_getpid', 'verified'],
        ['drop_ipv6', 'verified'],
      ],
    );
  });
});
