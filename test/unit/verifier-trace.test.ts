import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parseVerifierTrace } from '../../extension/formats/verifier-trace';
import { parseRegisterValue, parseStackSlot } from '../../extension/formats/verifier-registers';
import type { VerifierState } from '../../extension/formats/verifier-trace-types';
import { parseDiagnosticReport } from '../../extension/formats/verifier-report-7x';
import { parseRejection } from '../../extension/formats/verifier-rejection';
import { lineHeat } from '../../extension/formats/line-heat';
import { explainRejection } from '../../extension/formats/verifier-explain';

// Logs captured from this kernel (6.18) by test/unit/fixtures/verifier-logs/capture.ts; sources in src/.
const dir = path.join(__dirname, 'fixtures', 'verifier-logs');
const read = (name: string) => fs.readFileSync(path.join(dir, name), 'utf8');
const logNames = fs.readdirSync(dir).filter((f) => f.endsWith('.log'));

/** States as comparable JSON (bigints as strings). */
const json = (state: VerifierState) => JSON.stringify(state, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));

describe('verifier trace', () => {
  describe('a rejected program with subprograms and branches, level 2', () => {
    const trace = parseVerifierTrace(read('null_deref_subprog.level2.log'));

    it('has one step per instruction line and the statistics', () => {
      assert.equal(trace.length, 31);
      assert.equal(trace.stats.insnsProcessed, 32);
      assert.equal(trace.stats.totalStates, 3);
      assert.deepEqual(trace.stats.stackDepth, [0, 8, 8]);
      assert.deepEqual(trace.step(0), {
        step: 0,
        insn: 0,
        frame: 0,
        instruction: '(85) call bpf_get_current_pid_tgid#14',
        file: 'null_deref_subprog.bpf.c',
        line: 35,
        code: '__u32 pid = bpf_get_current_pid_tgid() >> 32;',
      });
    });

    it('enters and leaves subprogram frames', () => {
      assert.equal(trace.step(5).instruction, '(85) call pc+5');
      assert.equal(trace.stateBefore(5).frames.length, 1);
      const inCallee = trace.stateAfter(5);
      assert.equal(inCallee.frames.length, 2);
      assert.equal(inCallee.frames[1].registers[1]?.bounds.umin32, 101);
      const first = trace.step(6);
      assert.equal(first.insn, 11);
      assert.equal(first.frame, 1);
      assert.equal(first.line, 14);
      // The exit of bump_checked returns to the caller with R0 = 1.
      assert.equal(trace.step(18).instruction, '(95) exit');
      const back = trace.stateAfter(18);
      assert.equal(back.frames.length, 1);
      assert.equal(back.frames[0].registers[0]?.imm, 1n);
    });

    it('types R0 map_value_or_null after the lookup and map_value after the NULL check', () => {
      assert.equal(trace.step(10).instruction, '(85) call bpf_map_lookup_elem#1');
      const afterLookup = trace.stateAfter(10).frames[1];
      const r0 = afterLookup.registers[0]!;
      assert.equal(r0.type, 'map_value_or_null');
      assert.equal(r0.kind, 'map_value');
      assert.equal(r0.nullable, true);
      assert.deepEqual(r0.map, { name: 'counts', keySize: 4, valueSize: 8 });
      assert.equal(r0.id, 2);
      // The call ends R1-R5; R10 and the spilled key stay.
      assert.deepEqual(
        [1, 2, 3, 4, 5].map((r) => afterLookup.registers[r]),
        [undefined, undefined, undefined, undefined, undefined],
      );
      assert.equal(afterLookup.registers[10]?.type, 'fp');
      assert.deepEqual(
        afterLookup.stack.map((s) => [s.offset, s.bytes]),
        [[-8, 'mmmm????']],
      );
      assert.equal(trace.step(12).instruction, '(15) if r0 == 0x0 goto pc+4');
      const checked = trace.stateAfter(12).frames[1].registers[0]!;
      assert.equal(checked.type, 'map_value');
      assert.equal(checked.nullable, false);
    });

    it('resumes popped branches with the frames they were pushed in', () => {
      // `from 18 to 23`: inside bump_checked again, its caller as it was at the call.
      const resumed = trace.step(21);
      assert.equal(resumed.resumedFrom, 18);
      assert.equal(resumed.insn, 23);
      assert.equal(resumed.frame, 1);
      assert.equal(trace.parentStep(21), 12);
      const before = trace.stateBefore(21);
      assert.equal(before.frames.length, 2);
      assert.equal(before.frames[0].registers[10]?.text, 'fp0');
      assert.equal(before.frames[1].registers[0]?.imm, 0n);
      // `from 3 to 7`: the other side of `if (pid > 100)`, pid known to be at most 100.
      assert.equal(trace.step(23).resumedFrom, 3);
      assert.equal(trace.parentStep(23), 3);
      assert.equal(trace.stateBefore(23).frames[0].registers[0]?.bounds.umax, 100n);
      assert.deepEqual(trace.pathTo(30), [
        [0, 3],
        [23, 30],
      ]);
    });

    it('ends in the failure, with the walked path', () => {
      const failure = trace.failure!;
      assert.equal(failure.message, "R0 invalid mem access 'map_value_or_null'");
      assert.equal(failure.step, 30);
      assert.equal(failure.insn, 31);
      assert.equal(failure.instruction, '31: (79) r1 = *(u64 *)(r0 +0)');
      assert.deepEqual(failure.location, { file: 'null_deref_subprog.bpf.c', line: 28, code: '*count += 2;' });
      assert.deepEqual(
        failure.path.map((p) => p.line),
        [35, 37, 39, 24, 26],
      );
    });

    it('names what each instruction changed', () => {
      const lookup = trace.changes(10).map((c) => `${c.frame}:${c.name}`);
      assert.deepEqual(lookup, ['1:R1', '1:R2', '1:R3', '1:R4', '1:R5', '1:R0']);
      const spill = trace.changes(6).map((c) => `${c.frame}:${c.name}`);
      assert.ok(spill.includes('1:fp-8'), spill.join());
    });

    it('finds the steps of a source line for breakpoints', () => {
      assert.deepEqual(trace.stepsAt('null_deref_subprog.bpf.c', 26), [28, 29]);
      assert.deepEqual(trace.stepsAt('/home/me/src/null_deref_subprog.bpf.c', 26), [28, 29]);
      assert.deepEqual(trace.stepsAt('null_deref_subprog.bpf.c', 27), []);
    });
  });

  describe('the same rejection at level 1', () => {
    const level1 = parseVerifierTrace(read('null_deref_subprog.level1.log'));
    const level2 = parseVerifierTrace(read('null_deref_subprog.level2.log'));

    it('reads the branch state the kernel rewound onto the branch line', () => {
      assert.equal(level1.length, 12);
      // `3: (2d) if r1 > r0 goto pc+3 7: R0=...`: the instruction text stops before the rewound state.
      assert.equal(level1.step(3).instruction, '(2d) if r1 > r0 goto pc+3');
      assert.equal(level1.step(4).insn, 7);
      assert.equal(level1.step(4).resumedFrom, 3);
      assert.equal(level1.stateBefore(4).frames[0].registers[0]?.bounds.umax, 100n);
    });

    it('gives the failing path and states the level 2 log gives', () => {
      assert.deepEqual(level1.failure!.path, level2.failure!.path);
      assert.equal(level1.failure!.insn, level2.failure!.insn);
      // The last steps (the lookup and the failing read) hold the same states in both logs.
      for (let back = 1; back <= 3; back++) {
        const a = level1.length - back;
        const b = level2.length - back;
        assert.equal(level1.step(a).insn, level2.step(b).insn);
        assert.equal(json(level1.stateAfter(a)), json(level2.stateAfter(b)));
      }
    });
  });

  describe('an accepted program', () => {
    const trace = parseVerifierTrace(read('accepted_xdp.level2.log'));

    it('has no failure and marks the global subprogram verified on its own', () => {
      assert.equal(trace.failure, undefined);
      assert.deepEqual(trace.sections, [{ name: 'count_proto', firstStep: 43 }]);
      const first = trace.stateBefore(43);
      assert.equal(first.frames.length, 1);
      assert.equal(first.frames[0].registers[1]?.type, 'scalar');
      assert.equal(first.frames[0].registers[0], undefined);
    });

    it('keeps the packet pointer range proven by the data_end check', () => {
      assert.equal(trace.step(5).instruction, '(2d) if r3 > r2 goto pc+23');
      const after = trace.stateAfter(5).frames[0];
      assert.equal(after.registers[3]?.kind, 'pkt');
      assert.equal(after.registers[3]?.off, 14);
      assert.equal(after.registers[3]?.range, 14);
      assert.equal(after.registers[2]?.kind, 'pkt_end');
    });

    it('treats a call of a global function as a call: R0 set, R1-R5 gone, same frame', () => {
      assert.equal(trace.step(35).instruction, '(85) call pc+10');
      const after = trace.stateAfter(35);
      assert.equal(after.frames.length, 1);
      assert.equal(after.frames[0].registers[0]?.type, 'scalar');
      assert.equal(after.frames[0].registers[1], undefined);
    });

    it('reads a loop with pruned paths and precision backtracking', () => {
      const loop = parseVerifierTrace(read('loop_heat.level2.log'));
      assert.equal(loop.failure, undefined);
      // Every processed instruction is a step except the pruned visits (`N: safe`).
      const pruned = (read('loop_heat.level2.log').match(/^(\d+: |from \d+ to \d+: )safe$/gm) ?? []).length;
      assert.equal(loop.length + pruned, loop.stats.insnsProcessed);
      assert.ok(loop.stepsAt('loop_heat.bpf.c', 16).length > 100);
    });

    it('lets the caller say the load succeeded or failed', () => {
      assert.equal(
        parseVerifierTrace(read('null_deref_subprog.level2.log'), { verdict: 'accepted' }).failure,
        undefined,
      );
      assert.ok(parseVerifierTrace(read('infinite_loop.level2.log'), { verdict: 'rejected' }).failure);
    });
  });

  it('reports the failure of every rejected fixture at its last step', () => {
    for (const name of logNames.filter((n) => !/^(accepted_xdp|loop_heat|null_deref_fixed)\./.test(n))) {
      const trace = parseVerifierTrace(read(name));
      const failure = trace.failure;
      assert.ok(failure, name);
      assert.equal(failure.step, trace.length - 1, name);
      assert.equal(failure.insn, trace.step(trace.length - 1).insn, name);
      assert.equal(failure.message, parseRejection(read(name))!.message, name);
    }
  });

  it('gives the same states whatever the checkpoint interval', () => {
    for (const name of logNames) {
      const log = read(name);
      const dense = parseVerifierTrace(log, { checkpointEvery: 1 });
      const sparse = parseVerifierTrace(log, { checkpointEvery: 7 });
      const usual = parseVerifierTrace(log);
      assert.equal(dense.length, usual.length, name);
      for (let i = 0; i < usual.length; i += usual.length > 200 ? 13 : 1) {
        const expected = json(dense.stateAfter(i));
        assert.equal(json(sparse.stateAfter(i)), expected, `${name} step ${i}`);
        assert.equal(json(usual.stateAfter(i)), expected, `${name} step ${i}`);
        assert.equal(json(usual.stateBefore(i)), json(dense.stateBefore(i)), `${name} step ${i}`);
      }
    }
  });

  it('refuses steps that do not exist', () => {
    const trace = parseVerifierTrace(read('return_range.level1.log'));
    assert.throws(() => trace.step(trace.length), RangeError);
    assert.throws(() => trace.stateAfter(-1), RangeError);
    assert.equal(parseVerifierTrace('').length, 0);
  });
});

describe('verifier register and slot texts', () => {
  // Texts from the fixtures above (Linux 6.18).
  it('reads scalars with their bounds and known bits', () => {
    const r = parseRegisterValue('scalar(smin=umin=umin32=101,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))');
    assert.equal(r.kind, 'scalar');
    assert.deepEqual(r.bounds, { smin: 101n, umin: 101n, umin32: 101, smax: 0xffffffffn, umax: 0xffffffffn });
    assert.deepEqual(r.varOff, { value: 0n, mask: 0xffffffffn });
    const negative = parseRegisterValue('scalar(smin=smin32=-255,smax=smax32=0)');
    assert.deepEqual(negative.bounds, { smin: -255n, smin32: -255, smax: 0n, smax32: 0 });
    const id = parseRegisterValue('scalar(id=3,smin=smin32=0,smax=umax=smax32=umax32=100,var_off=(0x0; 0x7f))');
    assert.equal(id.id, 3);
    assert.equal(id.bounds.umax32, 100);
  });

  it('reads constants, precise marks and stack pointers', () => {
    assert.equal(parseRegisterValue('101').imm, 101n);
    assert.equal(parseRegisterValue('0xffffffff').imm, 0xffffffffn);
    const precise = parseRegisterValue('P0xdd86');
    assert.equal(precise.precise, true);
    assert.equal(precise.imm, 0xdd86n);
    assert.equal(
      parseRegisterValue('Pscalar(smin=smin32=0,smax=umax=smax32=umax32=0xffff,var_off=(0x0; 0xffff))').precise,
      true,
    );
    const fp = parseRegisterValue('fp-4');
    assert.equal(fp.kind, 'fp');
    assert.equal(fp.off, -4);
  });

  it('reads pointers: context, packet, map', () => {
    assert.equal(parseRegisterValue('ctx()').kind, 'ctx');
    const pkt = parseRegisterValue('pkt(off=14,r=14)');
    assert.deepEqual([pkt.kind, pkt.off, pkt.range], ['pkt', 14, 14]);
    assert.equal(parseRegisterValue('pkt_end()').kind, 'pkt_end');
    const mapPtr = parseRegisterValue('map_ptr(map=counts,ks=4,vs=8)');
    assert.deepEqual([mapPtr.kind, mapPtr.map], ['map_ptr', { name: 'counts', keySize: 4, valueSize: 8 }]);
    const value = parseRegisterValue(
      'map_value(map=table,ks=4,vs=128,smin=0,smax=umax=0x7fffffff8,smax32=0x7ffffff8,umax32=0xfffffff8,var_off=(0x0; 0x7fffffff8))',
    );
    assert.equal(value.bounds.umax, 0x7fffffff8n);
    assert.equal(value.varOff?.mask, 0x7fffffff8n);
  });

  it('reads the spellings of other kernels (kernel/bpf/log.c history)', () => {
    // 5.x: `inv` for scalars, `_value` bound names, `imm=` in hex.
    const inv = parseRegisterValue('inv(id=0,umax_value=255,var_off=(0x0; 0xff))');
    assert.deepEqual([inv.kind, inv.bounds.umax], ['scalar', 255n]);
    assert.deepEqual([parseRegisterValue('invP0').precise, parseRegisterValue('inv12').imm], [true, 12n]);
    assert.equal(parseRegisterValue('map_value(id=0,off=0,ks=4,vs=8,imm=10)').imm, 0x10n);
    // BTF pointers carry the type name; flags prefix them.
    const task = parseRegisterValue('trusted_ptr_task_struct()');
    assert.deepEqual([task.kind, task.btfType, task.nullable], ['ptr', 'task_struct', false]);
    const maybe = parseRegisterValue('rcu_ptr_or_null_task_struct(id=3)');
    assert.deepEqual([maybe.kind, maybe.btfType, maybe.nullable], ['ptr', 'task_struct', true]);
    assert.deepEqual(
      [parseRegisterValue('rdonly_mem(sz=8)').kind, parseRegisterValue('rdonly_mem(sz=8)').size],
      ['mem', 8],
    );
  });

  it('reads stack slots: bytes or a spilled register', () => {
    assert.deepEqual(parseStackSlot(-8, 'mmmm????'), { offset: -8, text: 'mmmm????', bytes: 'mmmm????' });
    assert.equal(parseStackSlot(-8, '0000????').bytes, '0000????');
    assert.equal(parseStackSlot(-16, 'ctx()').spilled?.kind, 'ctx');
    assert.equal(parseStackSlot(-16, 'dynptr_ringbuf(ref_id=1)').spilled?.kind, 'dynptr_ringbuf');
  });
});

/** xorshift32: the same mutations on every run. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

// fast-check is not installed here (reported to the lead); until it is, a seeded mutation loop over the
// real logs checks that no parser throws on damaged or arbitrary text.
describe('verifier log parsers on damaged text', () => {
  const sources = logNames.filter((n) => !n.startsWith('loop_heat')).map(read);
  sources.push(
    ...fs
      .readdirSync(path.join(dir, 'report-7x'))
      .filter((f) => f.endsWith('.log'))
      .map((f) => read(path.join('report-7x', f))),
  );
  const junk = [
    '(',
    ')',
    ';',
    ' ',
    '\n',
    ':',
    '=',
    'R',
    'fp-',
    'frame1:',
    'from 3 to 7:',
    '0: ',
    '@ x.c:',
    '>>> ',
    '| ^-- ',
    'Verification failed: ',
    'safe',
    '\r',
    '\u00e9',
    '9999999999',
  ];

  function mutate(text: string, rand: () => number): string {
    const lines = text.split('\n');
    const edits = 1 + Math.floor(rand() * 6);
    for (let e = 0; e < edits; e++) {
      const i = Math.floor(rand() * lines.length);
      switch (Math.floor(rand() * 6)) {
        case 0:
          lines.splice(i, 1);
          break;
        case 1:
          lines.splice(i, 0, lines[Math.floor(rand() * lines.length)] ?? '');
          break;
        case 2:
          lines[i] = (lines[i] ?? '').slice(0, Math.floor(rand() * ((lines[i] ?? '').length + 1)));
          break;
        case 3: {
          const line = lines[i] ?? '';
          const at = Math.floor(rand() * (line.length + 1));
          lines[i] = line.slice(0, at) + junk[Math.floor(rand() * junk.length)] + line.slice(at);
          break;
        }
        case 4:
          lines.length = Math.floor(rand() * lines.length);
          break;
        default:
          lines[i] = Array.from({ length: Math.floor(rand() * 40) }, () =>
            String.fromCharCode(32 + Math.floor(rand() * 95)),
          ).join('');
      }
    }
    return lines.join(rand() < 0.1 ? '\r\n' : '\n');
  }

  it('never throws, and every step it reports can be read', function () {
    this.timeout(60000);
    const rand = prng(0x5eed);
    for (let round = 0; round < 1500; round++) {
      const text = mutate(sources[round % sources.length], rand);
      try {
        const trace = parseVerifierTrace(text, { checkpointEvery: 1 + Math.floor(rand() * 8) });
        for (let i = 0; i < trace.length; i++) {
          trace.step(i);
          trace.stateBefore(i);
          trace.stateAfter(i);
          trace.changes(i);
          trace.pathTo(i);
        }
        parseRejection(text);
        parseDiagnosticReport(text);
        lineHeat(text);
        const rejection = parseRejection(text);
        if (rejection) explainRejection(rejection.message, rejection.report);
      } catch (error) {
        assert.fail(`round ${round} threw ${(error as Error).stack}\n--- text ---\n${text}`);
      }
    }
  });
});

describe('verifier trace of older kernels', () => {
  // The shape 5.x kernels print (kernel/bpf/verifier.c before 5.17): `_w`/`_r` liveness marks, `inv` scalars,
  // the whole state on its own indented line after a branch, `from X to Y` at level 1 too.
  const log = [
    '0: R1=ctx(id=0,off=0,imm=0) R10=fp0',
    '; int prog(struct xdp_md *ctx)',
    '0: (61) r2 = *(u32 *)(r1 +0)',
    '1: (61) r3 = *(u32 *)(r1 +4)',
    '2: (bf) r4 = r2',
    '3: (07) r4 += 14',
    '4: (2d) if r4 > r3 goto pc+2',
    ' R1=ctx(id=0,off=0,imm=0) R2_w=pkt(id=0,off=0,r=14,imm=0) R3_w=pkt_end(id=0,off=0,imm=0) R4_w=pkt(id=0,off=14,r=14,imm=0) R10=fp0',
    '5: (71) r0 = *(u8 *)(r2 +12)',
    '6: (95) exit',
    '',
    'from 4 to 7: R1=ctx(id=0,off=0,imm=0) R2=pkt(id=0,off=0,r=0,imm=0) R3=pkt_end(id=0,off=0,imm=0) R4=pkt(id=0,off=14,r=0,imm=0) R10=fp0',
    '7: (b7) r0 = 2',
    '8: (95) exit',
    'processed 9 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 1',
  ].join('\n');

  it('reads their states, whole-state lines and branches', () => {
    const trace = parseVerifierTrace(log);
    assert.equal(trace.length, 9);
    assert.equal(trace.failure, undefined);
    const afterBranch = trace.stateAfter(4).frames[0];
    assert.deepEqual([afterBranch.registers[2]?.kind, afterBranch.registers[2]?.range], ['pkt', 14]);
    assert.equal(afterBranch.registers[4]?.off, 14);
    assert.equal(trace.step(7).resumedFrom, 4);
    assert.equal(trace.parentStep(7), 4);
    assert.equal(trace.stateBefore(7).frames[0].registers[2]?.range, 0);
  });
});
