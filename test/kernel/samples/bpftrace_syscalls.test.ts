// bpftrace_syscalls on the real kernel, through /usr/bin/bpftrace as eBPF Studio will run it (absolute
// path, no shell, -f json): it attaches, counts this process's reads, prints both maps when stopped
// with SIGTERM, and leaves the kernel as before. Also what 0.17 offers to check a script without
// running it (--emit-elf), which loads nothing.
import { strict as assert } from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { BpftraceEvent, BpftraceOutputParser, parseBpftraceStderr } from '../../../extension/formats/bpftrace-output';
import {
  eventually,
  expectKernelAsBefore,
  isRoot,
  kernelObjects,
  KernelObjects,
  repoRoot,
  requireCapability,
  tempDir,
} from '../../support/kernel';

const BPFTRACE = '/usr/bin/bpftrace';
const SCRIPT = path.join(repoRoot, 'bpf-samples', 'bpftrace_syscalls', 'syscalls.bt');

describe('sample bpftrace_syscalls', function () {
  let baseline: KernelObjects;

  before(function () {
    requireCapability(this, isRoot(), 'bpftrace needs root');
    requireCapability(this, fs.existsSync(BPFTRACE), `${BPFTRACE} is missing (Debian: apt install bpftrace)`);
    baseline = kernelObjects();
  });

  after(async function () {
    if (baseline) await expectKernelAsBefore(baseline);
  });

  it('runs, and prints @syscalls and the @read_bytes histogram when stopped with SIGTERM', async () => {
    const child = spawn(BPFTRACE, ['-f', 'json', SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
    const parser = new BpftraceOutputParser();
    const events: BpftraceEvent[] = [];
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => events.push(...parser.push(chunk)));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const started = await eventually(() => (events.some((e) => e.type === 'text') ? true : undefined), 30000);
      assert.ok(started, `the BEGIN line arrived; stderr: ${stderr}`);
      for (let i = 0; i < 20; i++) fs.readFileSync(SCRIPT); // reads of a known size, by this process
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, 'bpftrace exits cleanly on SIGTERM');
    events.push(...parser.end());

    const attached = events.find((e): e is Extract<BpftraceEvent, { type: 'attached' }> => e.type === 'attached');
    assert.ok(attached && attached.probes > 300, `every sys_enter_* tracepoint attached (${attached?.probes})`);
    const comm = fs.readFileSync('/proc/self/comm', 'utf8').trim();
    const syscalls = events.find(
      (e): e is Extract<BpftraceEvent, { type: 'map' }> => e.type === 'map' && e.name === '@syscalls' && e.atExit,
    );
    assert.ok(syscalls, 'the count map is printed at exit');
    const ourReads = syscalls.entries.find((e) => e.key === `tracepoint:syscalls:sys_enter_read,${comm}`);
    assert.ok(ourReads && Number(ourReads.value) >= 20, `this process's reads are counted (${ourReads?.value})`);
    const hist = events.find(
      (e): e is Extract<BpftraceEvent, { type: 'hist' }> => e.type === 'hist' && e.name === '@read_bytes' && e.atExit,
    );
    assert.ok(hist, 'the histogram is printed at exit');
    const size = fs.statSync(SCRIPT).size;
    const bucket = hist.entries[0].value.find((b) => Number(b.min) <= size && size <= Number(b.max));
    assert.ok(bucket && Number(bucket.count) >= 20, `the bucket of ${size}-byte reads holds ours`);
    assert.deepEqual(
      parseBpftraceStderr(stderr).diagnostics.filter((d) => d.severity === 'error'),
      [],
    );
  });

  it('--emit-elf checks a script without loading anything, and reports a broken one with its line', async () => {
    const dir = tempDir('bpftrace');
    try {
      const before = kernelObjects();
      const ok = spawnSync(BPFTRACE, ['--emit-elf', path.join(dir, 'ok.elf'), SCRIPT], { encoding: 'utf8' });
      assert.equal(ok.status, 0, ok.stderr);
      assert.deepEqual(kernelObjects(), before, 'nothing was loaded');

      const broken = path.join(dir, 'broken.bt');
      fs.writeFileSync(
        broken,
        fs.readFileSync(SCRIPT, 'utf8').replace('@read_bytes = hist(args->ret);', '@read_bytes = hist(args->nosuch);'),
      );
      const bad = spawnSync(BPFTRACE, ['--emit-elf', path.join(dir, 'bad.elf'), broken], { encoding: 'utf8' });
      assert.equal(bad.status, 1);
      const errors = parseBpftraceStderr(bad.stderr, { file: broken }).diagnostics.filter(
        (d) => d.severity === 'error',
      );
      const line =
        fs
          .readFileSync(broken, 'utf8')
          .split('\n')
          .findIndex((l) => l.includes('args->nosuch')) + 1;
      assert.equal(errors.length, 1, bad.stderr);
      assert.equal(errors[0].file, broken);
      assert.equal(errors[0].line, line);
      assert.match(errors[0].message, /nosuch/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
