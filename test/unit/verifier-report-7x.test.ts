import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parseVerifierFailure } from '../../extension/formats/verifier-log';
import { parseRejection } from '../../extension/formats/verifier-rejection';
import { parseDiagnosticReport, withoutDiagnosticReport } from '../../extension/formats/verifier-report-7x';
import { parseVerifierTrace } from '../../extension/formats/verifier-trace';

// Linux 7.3 appends a structured report to a rejected program's log (torvalds/linux ce7c9f6c599b). The
// fixtures in report-7x/ are written from the kernel's renderer, kernel/bpf/diagnostics.c
// (torvalds/linux @ 09a0c2d678643aa8362ed83ea21b3a21566b318a), and from the example cilium/ebpf documents;
// report-7x/README.md says which is which. Each has a current-format twin captured from this kernel.
const dir = path.join(__dirname, 'fixtures', 'verifier-logs');
const read = (name: string) => fs.readFileSync(path.join(dir, name), 'utf8');

const twins: [classic: string, redesigned: string][] = [
  ['report-7x/r0_not_read.classic.log', 'report-7x/r0_not_read.7x.log'],
  ['null_deref_subprog.level1.log', 'report-7x/null_deref_subprog.level1.log'],
  ['kernel_ptr_deref.level1.log', 'report-7x/kernel_ptr_deref.level1.log'],
];

describe('Linux 7.3 verifier report', () => {
  it('reads the report cilium/ebpf documents', () => {
    const report = parseDiagnosticReport(read('report-7x/r0_not_read.7x.log'))!;
    assert.equal(report.category, 'Register Type Safety');
    assert.equal(report.problem, 'Unreadable register');
    assert.equal(
      report.reason,
      'R0 has never been initialized on this path, so the verifier cannot use it as an input.',
    );
    assert.deepEqual(report.at, { insn: 0, label: 'error', message: 'R0 is not readable', instruction: '(95) exit' });
    assert.deepEqual(report.causalPath, []);
    assert.deepEqual(report.causalNotes, ['no retained diagnostic events on this path']);
    assert.equal(report.suggestion, 'Initialize R0 on every path before this instruction.');
    assert.deepEqual(
      report.sections.map((s) => s.title),
      ['Reason', 'At', 'Causal path', 'Suggestion'],
    );
  });

  it('reads source sites, wrapped text and causal events', () => {
    const report = parseDiagnosticReport(read('report-7x/null_deref_subprog.level1.log'))!;
    assert.equal(report.problem, 'Invalid dereference');
    // The reason wraps at 100 columns in the log; it is read back as one paragraph.
    assert.equal(
      report.reason,
      'R0 may be NULL here (a nullable map value pointer). The program could dereference NULL on this path, so the verifier cannot prove this access is safe.',
    );
    assert.deepEqual(report.at, {
      function: 'bump_unchecked',
      file: 'null_deref_subprog.bpf.c',
      line: 28,
      column: 9,
      sourceText: '        *count += 2;',
      label: 'error',
      message: 'invalid dereference of R0 (a nullable map value pointer)',
      insn: 31,
      instruction: '(79) r1 = *(u64 *)(r0 +0)',
    });
    assert.equal(report.causalPath.length, 1);
    const event = report.causalPath[0];
    assert.deepEqual([event.label, event.line, event.insn], ['update', 26, 30]);
    // A caret message wrapped onto a second line is joined.
    assert.equal(event.message, 'R0 changed from uninitialized value to nullable map value from counts at offset 0');
    assert.equal(
      report.suggestion,
      'Add a NULL check before the access and dereference the pointer only on the non-NULL path.',
    );
  });

  it('reads the earlier layout with source and instruction lanes side by side', () => {
    const log = [
      "R0 invalid mem access 'scalar'",
      '',
      'Verification failed: Register Type Safety: Invalid dereference',
      '',
      'Reason:',
      '  R0 is an integer scalar here, not a pointer to memory.',
      '',
      'At:',
      '  kernel_ptr_deref @ kernel_ptr_deref.bpf.c:11:9',
      `       9 |         long *task = (long *)bpf_get_current_task();${' '.repeat(28)}0 | (85) call bpf_get_current_task#35`,
      '      10 | ...',
      `  >>> 11 |         return task[4] != 0;${' '.repeat(44)}>>> 1 | (79) r1 = *(u64 *)(r0 +32)`,
      '         |         ^-- error: invalid dereference of R0 (scalar)',
      `      12 | ...${' '.repeat(68)}2 | (b7) r0 = 1`,
      '',
      'Suggestion:',
      '  Preserve a pointer-valued register where needed.',
      '',
      'processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0',
    ].join('\n');
    const report = parseDiagnosticReport(log)!;
    assert.equal(report.at?.insn, 1);
    assert.equal(report.at?.instruction, '(79) r1 = *(u64 *)(r0 +32)');
    assert.equal(report.at?.sourceText, '        return task[4] != 0;');
    assert.equal(report.at?.message, 'invalid dereference of R0 (scalar)');
    assert.equal(report.suggestion, 'Preserve a pointer-valued register where needed.');
  });

  it('is absent from logs of kernels before 7.3', () => {
    for (const [classic] of twins) assert.equal(parseDiagnosticReport(read(classic)), undefined);
  });

  it('comes off cleanly: without it the log is its current-format twin', () => {
    for (const [classic, redesigned] of twins)
      assert.equal(withoutDiagnosticReport(read(redesigned)), read(classic), redesigned);
  });

  it('does not change the message, instruction, line or path the current parser finds in the twin', () => {
    for (const [classic, redesigned] of twins) {
      const current = parseVerifierFailure(read(classic))!;
      for (const name of [classic, redesigned]) {
        const rejection = parseRejection(read(name))!;
        assert.equal(rejection.message, current.message, name);
        assert.equal(rejection.instruction, current.instruction, name);
        assert.equal(
          rejection.insn,
          current.instruction ? Number(/^(\d+):/.exec(current.instruction)![1]) : undefined,
          name,
        );
        assert.equal(rejection.location?.file, current.location?.file, name);
        assert.equal(rejection.location?.line, current.location?.line, name);
        assert.deepEqual(rejection.path, current.path, name);
      }
      assert.ok(parseRejection(read(redesigned))!.report, redesigned);
    }
  });

  it('gives the trace the same walk and failure with or without it', () => {
    for (const [classic, redesigned] of twins) {
      const a = parseVerifierTrace(read(classic));
      const b = parseVerifierTrace(read(redesigned));
      assert.equal(b.length, a.length, redesigned);
      assert.equal(b.failure?.message, a.failure?.message, redesigned);
      assert.equal(b.failure?.insn, a.failure?.insn, redesigned);
      assert.deepEqual(b.failure?.path, a.failure?.path, redesigned);
      assert.equal(b.failure?.report?.category, 'Register Type Safety', redesigned);
    }
  });

  it('still gives a message, instruction and line when the classic lines are gone', () => {
    const log = read('report-7x/null_deref_subprog.level1.log');
    const reportOnly = log.slice(log.indexOf('Verification failed:'));
    const rejection = parseRejection(reportOnly)!;
    assert.equal(rejection.message, 'invalid dereference of R0 (a nullable map value pointer)');
    assert.equal(rejection.insn, 31);
    assert.equal(rejection.instruction, '31: (79) r1 = *(u64 *)(r0 +0)');
    assert.deepEqual(rejection.location, { file: 'null_deref_subprog.bpf.c', line: 28, code: '*count += 2;' });
  });
});
