import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { explainRejection } from '../../extension/formats/verifier-explain';
import { allowedProgramTypes, applyFix, explanationText, proposeFix } from '../../extension/formats/verifier-fixes';
import { parseRejection } from '../../extension/formats/verifier-rejection';

// The real logs of the fixtures' sources (test/unit/fixtures/verifier-logs/); test/kernel/verifier-fixes.test.ts
// verifies each fixed source on the kernel.
const dir = path.join(__dirname, 'fixtures', 'verifier-logs');

/** The fix for a fixture, with the explanation it answers, and the changed lines of the fixed source. */
function fixFixture(name: string) {
  const rejection = parseRejection(fs.readFileSync(path.join(dir, `${name}.level1.log`), 'utf8'))!;
  const explanation = explainRejection(rejection.message, rejection.report)!;
  const text = fs.readFileSync(path.join(dir, 'src', `${name}.bpf.c`), 'utf8');
  const fix = proposeFix({ text, line: rejection.location!.line, explanation });
  assert.ok(fix, `a fix for ${name}`);
  const fixed = applyFix(text, fix);
  // The lines the fix writes (inserted, or in place of the ones it replaces).
  const added = fix.edits.flatMap((e) => e.lines).filter((l) => l.trim() !== '');
  return { explanation, fix, fixed, added: added.map((l) => l.trim()) };
}

describe('verifier quick fixes', () => {
  const cases: [string, string, RegExp, string, string[]][] = [
    [
      'null_deref_subprog',
      'null-deref',
      /NULL when there is nothing to return.*will not let the program dereference/,
      'Check count against NULL after the lookup',
      ['if (!count)', 'return 0;'],
    ],
    [
      'packet_no_check',
      'packet-bounds',
      /reads byte 12 of the packet.*data_end/,
      'Check that all of *eth is inside the packet (data_end)',
      ['void *data_end = (void *)(long)ctx->data_end;', 'if ((void *)(eth + 1) > data_end)', 'return XDP_PASS;'],
    ],
    [
      'unbounded_index',
      'unbounded-index',
      /no bounds the verifier can see/,
      'Bound idx to the 16 elements of slot',
      ['if (idx >= 16)', 'return 0;'],
    ],
    [
      'index_negative',
      'unbounded-index',
      /can be negative/,
      'Bound idx to the 16 elements of slot',
      ['if (idx < 16) {', 'if (idx < 0 || idx >= 16)', 'return 0;', 's->slot[idx] += 1;', '}'],
    ],
    [
      'return_range',
      'return-range',
      /R0 must be within \[0, 1\], and on this path it can be 2/,
      'Return only values in [0, 1]',
      ['return 1;'],
    ],
    [
      'gpl_helper',
      'gpl-only',
      /exported to GPL-compatible programs only/,
      'License the program as "GPL" (GPL-only helpers need a GPL-compatible license)',
      ['char LICENSE[] SEC("license") = "GPL";'],
    ],
    [
      'helper_prog_type',
      'helper-not-allowed',
      /bpf_xdp_adjust_head is not offered to this program type/,
      'Make it an XDP program (SEC("xdp")): bpf_xdp_adjust_head is offered to xdp only',
      ['SEC("xdp")'],
    ],
    [
      'kernel_ptr_deref',
      'scalar-deref',
      /holds a plain number here.*BPF_CORE_READ or bpf_probe_read_kernel/,
      'Read task[4] with bpf_probe_read_kernel',
      ['long task_4 = 0;', 'bpf_probe_read_kernel(&task_4, sizeof(task_4), &task[4]);', 'return task_4 != 0;'],
    ],
  ];
  for (const [name, rule, why, title, added] of cases) {
    it(`${name}: explains (${rule}) and proposes "${title}"`, () => {
      const result = fixFixture(name);
      assert.equal(result.explanation.rule, rule);
      assert.match(result.explanation.text.replace(/\n/g, ' '), why);
      assert.equal(result.fix.title, title);
      assert.deepEqual(result.added, added);
    });
  }

  it('return_range: the out-of-range constant becomes the range end', () => {
    const { fixed } = fixFixture('return_range');
    assert.doesNotMatch(fixed, /return 2;/);
    assert.equal(fixed.match(/return 1;/g)?.length, 2);
  });

  it('names the program types that may call a helper', () => {
    assert.deepEqual(allowedProgramTypes('bpf_xdp_adjust_head'), ['xdp']);
    assert.deepEqual(allowedProgramTypes('bpf_skb_change_head'), ['tc (sched_cls)', 'sched_act']);
    assert.equal(allowedProgramTypes('bpf_map_lookup_elem'), undefined);
    const { explanation } = fixFixture('helper_prog_type');
    assert.match(
      explanationText(explanation),
      /not offered to this program type.* Program types that may call bpf_xdp_adjust_head: xdp\.$/,
    );
    const other = fixFixture('gpl_helper').explanation;
    assert.equal(explanationText(other), other.text);
  });

  it('reads a kernel pointer chain with BPF_CORE_READ, adding its header', () => {
    const text = [
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
    ].join('\n');
    const explanation = explainRejection("R1 invalid mem access 'scalar'")!;
    const fix = proposeFix({ text, line: 9, explanation })!;
    assert.equal(fix.title, 'Read task->real_parent->tgid with BPF_CORE_READ');
    const fixed = applyFix(text, fix).split('\n');
    assert.equal(fixed[2], '#include <bpf/bpf_core_read.h>');
    assert.equal(fixed[9], '\treturn BPF_CORE_READ(task, real_parent, tgid) & 1;');
  });

  it('proposes nothing where the code does not read as the fix expects', () => {
    const explanation = explainRejection("R0 invalid mem access 'map_value_or_null'")!;
    assert.equal(proposeFix({ text: 'int x;\n*p = 1;\n', line: 2, explanation }), undefined);
    assert.equal(proposeFix({ text: 'int x;\n', line: 9, explanation }), undefined);
  });
});
