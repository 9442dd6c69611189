// bpftrace scripts through the helper on the real kernel: `bpftrace -f json` run as the helper's own load,
// its printf lines and maps arriving through bpftrace/output, its programs visible with bpftrace as their
// holder, stop and helper exit leaving the kernel as before, and --emit-elf errors landing on their line.
import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { HelperClient } from '../../extension/host/client/client';
import { Methods } from '../../extension/protocol/methods';
import { BpftraceSession } from '../../extension/host/features/bpftrace/session';
import { bpftraceHistogramPlots, parseBpftraceStderr } from '../../extension/formats/bpftrace-output';
import {
  eventually,
  expectKernelAsBefore,
  helperScript,
  isRoot,
  kernelObjects,
  KernelObjects,
  requireCapability,
  tempDir,
} from '../support/kernel';
import { expectRefusal } from '../support/helper-wire';

const SCRIPT = `BEGIN
{
  printf("hello from bpftrace %d\\n", 42);
  printf("two lines: one\\ntwo\\n");
  @answer = 42;
  @sizes = hist(3);
  @sizes = hist(100);
  @sizes = hist(100);
}

tracepoint:syscalls:sys_enter_nanosleep,tracepoint:syscalls:sys_enter_clock_nanosleep
{
  @sleeps[comm] = count();
}
`;

/** Line 3 calls a function bpftrace does not have. */
const BROKEN = `BEGIN
{
  @x = no_such_function(1);
}
`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('bpftrace scripts through the helper', function () {
  let client: HelperClient;
  let baseline: KernelObjects;
  let dir: string;
  const script = () => path.join(dir, 'answer.bt');

  before(async function () {
    requireCapability(this, isRoot(), 'bpftrace loads BPF programs and needs root');
    requireCapability(this, fs.existsSync('/usr/bin/bpftrace'), '/usr/bin/bpftrace is not installed');
    dir = tempDir('bpftrace');
    fs.writeFileSync(script(), SCRIPT);
    fs.writeFileSync(path.join(dir, 'broken.bt'), BROKEN);
    baseline = kernelObjects();
    client = await HelperClient.start({ helperScript, elevation: 'auto', clientName: 'kernel-test' });
  });

  after(async function () {
    await client?.dispose();
    if (baseline) await expectKernelAsBefore(baseline, 'no bpftrace program or map outlives its run');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs a script: printf lines stream, its programs are listed with bpftrace as holder, stop prints its maps', async () => {
    const session = await BpftraceSession.start(client, script());
    const lines: string[] = [];
    session.onText = (l) => lines.push(...l);
    try {
      assert.ok(session.info.pid > 0);
      assert.deepEqual(
        (await client.request(Methods.bpftraceList)).map((r) => r.run),
        [session.info.run],
      );
      const printed = await eventually(() => (lines.length >= 3 ? lines : undefined), 30_000);
      assert.deepEqual(printed?.slice(0, 3), ['hello from bpftrace 42', 'two lines: one', 'two']);

      // While it runs its tracepoint program is in the kernel, held by the bpftrace process.
      const owners = await client.request(Methods.owners);
      const held = Object.entries(owners.programs).filter(([, holders]) =>
        holders.some((h) => h.pid === session.info.pid),
      );
      assert.ok(held.length >= 1, 'the Programs view can name bpftrace as the holder of its programs');
      const programs = await client.request(Methods.programs);
      assert.ok(
        held.every(([id]) => programs.some((p) => p.id === Number(id))),
        'bpftrace programs appear in kernel/programs',
      );

      execFileSync('/bin/sleep', ['0.05']);
      const stopped = await session.stop();
      assert.equal(
        stopped.exitCode,
        0,
        `bpftrace exits cleanly on SIGINT (signal: ${stopped.signal}); stderr: ${session.stderr}`,
      );
      assert.ok(session.exit, 'the exit notification arrived before stop() answered');

      const answer = session.maps.get('@answer');
      assert.equal(answer?.type, 'map');
      assert.equal(answer?.atExit, true);
      assert.deepEqual(answer?.entries, [{ value: 42 }]);
      const sizes = session.maps.get('@sizes');
      assert.equal(sizes?.type, 'hist');
      const [plot] = bpftraceHistogramPlots(sizes as Extract<typeof sizes, { type: 'hist' }>);
      assert.equal(plot.title, '@sizes');
      assert.equal(
        plot.counts.reduce((a, b) => a + b, 0),
        3,
      );
      assert.equal(plot.counts[plot.labels.indexOf('[2, 4)')], 1);
      assert.equal(plot.counts[plot.labels.indexOf('[64, 128)')], 2);
      const sleeps = session.maps.get('@sleeps');
      assert.equal(sleeps?.type, 'map');
      assert.ok(
        sleeps!.entries.some((e) => e.key === 'sleep'),
        `our /bin/sleep was counted: ${JSON.stringify(sleeps)}`,
      );
    } finally {
      if (session.running) await session.stop();
      session.dispose();
    }
    assert.deepEqual(await client.request(Methods.bpftraceList), []);
    await expectKernelAsBefore(baseline, 'stopping a bpftrace run leaves the kernel as before');
  });

  it('checks a script with --emit-elf: a good one passes, a syntax error lands on its line, nothing is loaded', async () => {
    const good = await client.request(Methods.bpftraceCheck, { path: script() });
    assert.equal(good.ok, true, good.stderr);
    const brokenPath = path.join(dir, 'broken.bt');
    const bad = await client.request(Methods.bpftraceCheck, { path: brokenPath });
    assert.equal(bad.ok, false);
    const { diagnostics } = parseBpftraceStderr(bad.stderr, { file: brokenPath });
    const error = diagnostics.find((d) => d.severity === 'error' && d.line !== undefined);
    assert.ok(error, `an error with a line: ${bad.stderr}`);
    assert.equal(error.file, brokenPath);
    assert.equal(error.line, 3);
    assert.equal(error.column, BROKEN.split('\n')[2].indexOf('no_such_function') + 1);
    assert.match(error.message, /no_such_function/);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['answer.bt', 'broken.bt'], 'the temporary ELF is removed');
    await expectKernelAsBefore(baseline, 'a check loads nothing');
  });

  it('refuses what is not an absolute .bt path to a regular file', async () => {
    assert.equal(
      (await expectRefusal(client.request(Methods.bpftraceRun, { path: 'answer.bt' }))).data.kind,
      'BadInput',
    );
    assert.equal(
      (await expectRefusal(client.request(Methods.bpftraceRun, { path: '/etc/passwd' }))).data.kind,
      'BadInput',
    );
    assert.equal(
      (await expectRefusal(client.request(Methods.bpftraceRun, { path: `${dir}/../x.bt` }))).data.kind,
      'BadInput',
    );
    assert.equal(
      (await expectRefusal(client.request(Methods.bpftraceRun, { path: path.join(dir, 'missing.bt') }))).data.kind,
      'NotFound',
    );
    fs.mkdirSync(path.join(dir, 'dir.bt'));
    try {
      assert.equal(
        (await expectRefusal(client.request(Methods.bpftraceRun, { path: path.join(dir, 'dir.bt') }))).data.kind,
        'BadInput',
      );
      assert.equal((await expectRefusal(client.request(Methods.bpftraceStop, { run: 999 }))).data.kind, 'NotFound');
    } finally {
      fs.rmdirSync(path.join(dir, 'dir.bt'));
    }
  });

  it('kills a running script when the helper exits', async () => {
    const session = await BpftraceSession.start(client, script());
    const lines: string[] = [];
    session.onText = (l) => lines.push(...l);
    await eventually(() => (lines.length > 0 ? true : undefined), 30_000);
    assert.ok(alive(session.info.pid));
    await client.dispose();
    const gone = await eventually(() => (alive(session.info.pid) ? undefined : true), 10_000);
    assert.ok(gone, `bpftrace ${session.info.pid} still runs after the helper exited`);
    await expectKernelAsBefore(baseline, 'a bpftrace run ends with its helper');
    client = await HelperClient.start({ helperScript, elevation: 'auto', clientName: 'kernel-test' });
  });
});
