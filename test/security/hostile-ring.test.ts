// A ring buffer consumer against a hostile consumer position. The consumer position of a BPF ring buffer is
// in a page every holder of the map can write; moved into the middle of a record, it makes the consumer read
// a "record header" from bytes a BPF program wrote. The addon's consumer must never read outside its mapping
// whatever the positions say: it resyncs to the producer position, counts that, and carries on.
// The scenario runs in a child process (fixtures/ring-scenario.ts), so a consumer that reads out of bounds
// shows up as a crashed child, not a crashed test run.
import { strict as assert } from 'assert';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { expectKernelAsBefore, isRoot, kernelObjects, repoRoot, requireCapability } from '../support/kernel';
import { compileBpfC } from './fixtures/hostile-objects';

const FIXTURES = path.join(__dirname, 'fixtures');

describe('ring buffer consumer against a hostile consumer position', function () {
  this.timeout(120000);
  let dir: string;

  before(function () {
    requireCapability(this, isRoot(), 'loading BPF programs and mapping a ring buffer need root');
    requireCapability(this, spawnSync('sh', ['-c', 'command -v clang']).status === 0, 'clang is not installed');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ebpf-studio-ring-'));
  });

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('skips to the producer position instead of reading a 1 MiB record out of a 4 KiB ring', async () => {
    const baseline = kernelObjects();
    const object = compileBpfC(dir, 'ring_hostile', fs.readFileSync(path.join(FIXTURES, 'ring_hostile.bpf.c'), 'utf8'));
    const poke = path.join(dir, 'ring-poke');
    execFileSync('clang', ['-O2', '-Wall', path.join(FIXTURES, 'ring-poke.c'), '-o', poke]);
    const child = spawnSync(
      process.execPath,
      ['-r', require.resolve('tsx/cjs'), path.join(FIXTURES, 'ring-scenario.ts'), object, poke],
      {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 60000,
      },
    );
    assert.equal(child.signal, null, `the consumer crashed its process (${child.signal})\n${child.stderr}`);
    assert.equal(child.status, 0, child.stderr);
    const seen = JSON.parse(child.stdout.trim()) as {
      consumerPos: number;
      producerPos: number;
      resynced: number;
      records: { length: number; fill: number }[];
    };
    console.log(
      `      consumer moved to ${seen.consumerPos} (producer at ${seen.producerPos}); records ${JSON.stringify(seen.records)}; resynced ${seen.resynced}`,
    );
    assert.deepEqual([seen.consumerPos, seen.producerPos], [16, 72], 'the hostile position is inside record 1');
    assert.ok(
      seen.records.every((r) => r.length === 64),
      "only the program's 64-byte records were delivered, never the fake 1 MiB one",
    );
    assert.equal(seen.records[0].fill, 0xa1);
    assert.ok(seen.resynced >= 1, 'the resync is counted and reported');
    assert.ok(
      seen.records.some((r) => r.fill === 0xa3),
      'records after the resync are read as usual',
    );
    await expectKernelAsBefore(baseline);
  });
});
