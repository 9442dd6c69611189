// Stopping the bpftrace sample (bpf-samples/bpftrace_syscalls/syscalls.bt) through the helper: it attaches
// one probe per system call (~360 tracepoints), and bpftrace detaches them all before it prints its maps,
// which takes longer than the helper's old fixed 10 s grace (17 s measured on a 2-CPU VM): it was killed
// and no maps arrived (the cause of the e2e's missing "Maps: syscalls.bt" tab). Now it exits by itself and
// its final maps, with the @read_bytes histogram, reach the session that the map viewer shows.
import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { HelperClient } from '../../extension/host/client/client';
import { BpftraceSession } from '../../extension/host/features/bpftrace/session';
import { bpftracePlots, bpftraceRows } from '../../extension/host/features/bpftrace/model';
import { Methods } from '../../extension/protocol/methods';
import {
  eventually,
  expectKernelAsBefore,
  helperScript,
  isRoot,
  kernelObjects,
  KernelObjects,
  repoRoot,
  requireCapability,
} from '../support/kernel';

const SAMPLE = path.join(repoRoot, 'bpf-samples', 'bpftrace_syscalls', 'syscalls.bt');

describe('stopping the bpftrace sample with hundreds of probes', function () {
  this.timeout(240_000);
  let client: HelperClient;
  let baseline: KernelObjects;

  before(async function () {
    requireCapability(this, isRoot(), 'bpftrace loads programs and needs root');
    requireCapability(this, fs.existsSync('/usr/bin/bpftrace'), 'bpftrace is not installed at /usr/bin/bpftrace');
    assert.ok(fs.existsSync(helperScript), `${helperScript} is missing: run npm run build first`);
    baseline = kernelObjects();
    client = await HelperClient.start({ helperScript, elevation: 'auto', clientName: 'bpftrace-stop-test' });
  });

  after(async function () {
    await client?.dispose();
    if (baseline) await expectKernelAsBefore(baseline);
  });

  it('syscalls.bt exits by itself on Stop and its final maps arrive: @syscalls and the @read_bytes histogram', async () => {
    const session = await BpftraceSession.start(client, SAMPLE);
    const lines: string[] = [];
    let probes = 0;
    session.onText = (l) => lines.push(...l);
    session.onEvent = (e) => {
      if (e.type === 'attached') probes = e.probes;
    };
    try {
      await eventually(() => (lines.some((l) => l.startsWith('Tracing system calls')) ? true : undefined), 60_000);
      assert.ok(probes > 300, `one probe per system call: ${probes}`);
      for (let i = 0; i < 5; i++) execFileSync('/bin/cat', ['/etc/hostname']);
      const started = Date.now();
      const stopped = await session.stop();
      const took = Date.now() - started;
      console.log(`      ${probes} probes: stopped in ${(took / 1000).toFixed(1)} s`);
      assert.deepEqual(stopped, { exitCode: 0, signal: null }, `not killed; stderr: ${session.stderr}`);

      const read = session.maps.get('@read_bytes');
      assert.equal(read?.type, 'hist');
      assert.equal(read?.atExit, true);
      const syscalls = session.maps.get('@syscalls');
      assert.equal(syscalls?.type, 'map');
      assert.ok(
        syscalls!.entries.some((e) => e.key === 'tracepoint:syscalls:sys_enter_read,cat'),
        'our cat reads were counted',
      );
      // What the map viewer is sent: a row per entry and the histogram plot.
      const maps = [...session.maps.values()];
      assert.ok(
        bpftraceRows(maps).some((r) => r.cells[0] === '@read_bytes' && /^histogram, \d+ samples$/.test(r.cells[2])),
      );
      const plots = bpftracePlots(maps);
      assert.equal(plots.length, 1);
      assert.equal(plots[0].title, '@read_bytes');
      assert.ok(plots[0].counts.reduce((a, b) => a + b, 0) >= 5);
    } finally {
      if (session.running) await session.stop();
      session.dispose();
    }
    assert.deepEqual(await client.request(Methods.bpftraceList), []);
    await expectKernelAsBefore(baseline, 'stopping the sample leaves the kernel as before');
  });
});
