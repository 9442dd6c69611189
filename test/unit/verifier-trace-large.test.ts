import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parseVerifierTrace } from '../../extension/formats/verifier-trace';
import type { VerifierState } from '../../extension/formats/verifier-trace-types';
import { lineHeat } from '../../extension/formats/line-heat';

// A million-step log built from a real one: the level 2 walk of null_deref_subprog (calls into two
// subprograms, branches popped with `from X to Y`, a pruned path, the rejection) repeated until it holds
// 1,000,000 instruction lines, as a long verification would. The numbers are printed; the assertions only
// catch a parser gone quadratic. The real targets (open < 2 s, a step < 50 ms, heat < 1 s) belong to the
// benchmark (`npm run bench`), on a quiet machine.
const real = fs.readFileSync(
  path.join(__dirname, 'fixtures', 'verifier-logs', 'null_deref_subprog.level2.log'),
  'utf8',
);
const json = (state: VerifierState) => JSON.stringify(state, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));

describe('verifier trace of a 1,000,000-step log', function () {
  this.timeout(120000);
  const body = real.slice(real.indexOf('0: R1=ctx()'), real.indexOf('\nverification time') + 1);
  const perCopy = (body.match(/^\d+: \([0-9a-f]{2}\) /gm) ?? []).length;
  const copies = Math.ceil(1_000_000 / perCopy);
  const one = parseVerifierTrace(real);

  it('opens, reaches any step and draws the heat map within generous bounds', () => {
    const log = body.repeat(copies) + real.slice(real.indexOf('verification time'));
    log.indexOf('\n', log.length - 2); // flatten the repeated string before timing

    const cpu = process.cpuUsage();
    let t = performance.now();
    const trace = parseVerifierTrace(log);
    const openMs = performance.now() - t;
    const openCpuMs = (process.cpuUsage(cpu).user + process.cpuUsage(cpu).system) / 1000;
    assert.equal(trace.length, perCopy * copies);

    let worst = 0;
    let total = 0;
    const probes = 200;
    for (let k = 0; k < probes; k++) {
      const i = Math.floor(((k * 7919) % probes) * (trace.length / probes)) + (k % perCopy);
      t = performance.now();
      const after = trace.stateAfter(i);
      const before = trace.stateBefore(i);
      const step = trace.step(i);
      const ms = performance.now() - t;
      worst = Math.max(worst, ms);
      total += ms;
      // Every copy repeats the walk, so step i holds what step i mod perCopy holds in the real log.
      const same = i % perCopy;
      assert.equal(step.insn, one.step(same).insn, `step ${i}`);
      assert.equal(json(after), json(one.stateAfter(same)), `state after step ${i}`);
      assert.equal(json(before), json(one.stateBefore(same)), `state before step ${i}`);
    }

    t = performance.now();
    const heat = lineHeat(log);
    const heatMs = performance.now() - t;
    assert.equal(heat.total, (perCopy + 1) * copies); // one pruned visit per copy

    console.log(
      `      ${(log.length / 1e6).toFixed(0)} MB, ${trace.length} steps: open ${openMs.toFixed(0)} ms (cpu ${openCpuMs.toFixed(0)} ms), ` +
        `step state mean ${(total / probes).toFixed(2)} ms worst ${worst.toFixed(1)} ms, heat ${heatMs.toFixed(0)} ms, ` +
        `heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB`,
    );
    assert.ok(openMs < 20000, `open took ${openMs} ms`);
    assert.ok(worst < 1000, `a step took ${worst} ms`);
    assert.ok(heatMs < 10000, `heat took ${heatMs} ms`);
    assert.equal(trace.failure?.message, "R0 invalid mem access 'map_value_or_null'");
  });
});
