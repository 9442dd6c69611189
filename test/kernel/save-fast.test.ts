// Save -> diagnostic on the real kernel: verify-only loads relocate CO-RE against a minimal kernel BTF and
// give the programs the kernel would get from the whole kernel BTF, and a save whose object is unchanged for
// the loader is not verified again while what is published equals a full verification.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { loadNative } from '../../native/index';
import { HelperClient } from '../../extension/host/client/client';
import { Methods } from '../../extension/protocol/methods';
import { compileBpf } from '../../extension/toolchain/compile';
import { checkSource, type Verifier } from '../../extension/toolchain/verify';
import { verifyObject } from '../../extension/toolchain/verify';
import { VerifyCache } from '../../extension/toolchain/verify-cache';
import {
  buildObject,
  expectKernelAsBefore,
  helperScript,
  isRoot,
  kernelObjects,
  repoRoot,
  requireCapability,
  samplePath,
  tempDir,
} from '../support/kernel';

describe('save -> diagnostic on the real kernel', function () {
  this.timeout(300_000);

  before(function () {
    requireCapability(this, isRoot(), 'verification loads programs into the kernel and needs root');
  });

  it('loads every CO-RE sample program against the minimal kernel BTF as against the whole kernel BTF', async () => {
    const addon = loadNative();
    const baseline = kernelObjects();
    const compared: string[] = [];
    for (const name of ['fork_trace', 'execsnoop', 'syscall_latency', 'config_demo', 'cgroup_skb', 'tc_blocklist']) {
      const object = await buildObject(samplePath(name));
      for (const program of addon.describeObject(object).programs) {
        const outcome = async (minimalCoreBtf: boolean) => {
          const o = await addon.loadObject({ path: object, programs: [program.name], minimalCoreBtf, logLevel: 4 });
          try {
            assert.ok(o.object, `${name}/${program.name} loads: ${o.error?.message}`);
            const loaded = o.object.programs()[0];
            // The tag hashes the instructions as relocated (map references zeroed): CO-RE results included.
            const { tag } = addon.programInstructions(loaded.id);
            const processed = /processed (\d+) insns/.exec(o.programs[0].log)?.[1];
            return { tag, processed };
          } finally {
            o.object?.close();
          }
        };
        assert.deepEqual(await outcome(true), await outcome(false), `${name}/${program.name}`);
        compared.push(`${name}/${program.name}`);
      }
    }
    assert.ok(compared.length >= 8, `compared ${compared.join(', ')}`);
    await expectKernelAsBefore(baseline);
  });

  it('does not verify again an object whose code is unchanged, and publishes what a full verification does', async () => {
    const baseline = kernelObjects();
    const helper = await HelperClient.start({ helperScript, elevation: 'auto', clientName: 'save-fast-test' });
    try {
      const work = tempDir('savefast');
      // verifier_bugs has programs the verifier rejects and one it accepts: verdicts of each kind.
      for (const file of fs.readdirSync(path.join(repoRoot, 'bpf-samples', 'verifier_bugs')))
        fs.copyFileSync(path.join(repoRoot, 'bpf-samples', 'verifier_bugs', file), path.join(work, file));
      const source = path.join(work, 'verifier_bugs.bpf.c');
      const original = fs.readFileSync(source, 'utf8');
      const cache = new VerifyCache();
      const cached: Verifier = (o, s, dirs) => verifyObject(helper, o, s, dirs, { cache });
      const full: Verifier = (o, s, dirs) => verifyObject(helper, o, s, dirs, { cache: false });
      const check = (verifier: Verifier) => checkSource(verifier, source, { outDir: path.join(work, 'out') });
      // Two verifications of one object differ only in the time the verifier took and the kernel addresses
      // of the maps it names: those are masked, everything else must be equal.
      const unstable = (log: string) =>
        log.replace(/verification time \d+ usec/g, 'verification time N usec').replace(/0xffff[0-9a-f]{12}/g, '0xADDR');
      const publishable = (r: Awaited<ReturnType<typeof check>>) => ({
        programs: r.programs.map((p) => ({
          ...p,
          ...('log' in p ? { log: unstable(p.log) } : {}),
          ...('stats' in p ? { stats: { ...p.stats, verificationTimeUsec: 0 } } : {}),
        })),
        diagnostics: r.diagnostics,
      });

      const first = await check(cached);
      assert.ok(first.programs.some((p) => p.status === 'rejected'));
      const asked = cache.stats.misses;
      assert.ok(asked >= 2, 'the first check asked the helper (describe, loads)');

      // A comment appended and a blank line added at the end: the loader sees the same object.
      fs.writeFileSync(source, `${original}\n\n/* saved again */\n`);
      const again = await check(cached);
      assert.equal(cache.stats.misses, asked, 'nothing was sent to the helper');
      assert.ok(cache.stats.hits >= asked);
      assert.deepEqual(publishable(again), publishable(await check(full)));

      // A comment inserted above the code: lines move, the object changes (line info). The rejected programs
      // are verified again (their logs name lines), accepted ones' verdicts stand, and what is published
      // (on the moved lines) equals a full verification.
      fs.writeFileSync(source, `/* a line above everything */\n${original}`);
      const reused = cache.stats.programsReused;
      const moved = await check(cached);
      assert.ok(cache.stats.misses > asked, 'the changed object was verified');
      assert.equal(
        cache.stats.programsReused - reused,
        first.programs.filter((p) => p.status === 'verified').length,
        'accepted verdicts were reused, rejections verified again',
      );
      assert.deepEqual(publishable(moved), publishable(await check(full)));
      assert.deepEqual(
        moved.diagnostics.map((d) => d.line),
        first.diagnostics.map((d) => (d.file === source ? d.line + 1 : d.line)),
      );
      assert.deepEqual(await helper.request(Methods.listLoaded), [], 'verification leaves no load behind');
    } finally {
      await helper.dispose();
    }
    await expectKernelAsBefore(baseline);
  });

  it('builds fork_trace with a minimal kernel BTF faster than with the whole one', async () => {
    // Not a benchmark (bench/verify-latency.bench.ts is): a guard that the minimal BTF is in use at all.
    const addon = loadNative();
    const result = await compileBpf(samplePath('fork_trace'), { outDir: tempDir('savefast-fork') });
    assert.ok(result.ok, result.stderr);
    const time = async (minimalCoreBtf: boolean) => {
      const samples: number[] = [];
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        const o = await addon.loadObject({ path: result.objectPath, minimalCoreBtf, logLevel: 4 });
        samples.push(performance.now() - started);
        assert.ok(o.object, o.error?.message);
        o.object.close();
      }
      return samples.sort((a, b) => a - b)[2];
    };
    await time(true); // the kernel BTF is parsed once per process
    const minimal = await time(true);
    const whole = await time(false);
    assert.ok(minimal < whole, `minimal ${minimal.toFixed(1)} ms, whole ${whole.toFixed(1)} ms`);
  });
});
