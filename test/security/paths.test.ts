// Paths a user names are opened by a root process (issue 9): once, without following a link as the last
// component of an object file, without blocking, checked on the open descriptor and read from it. A FIFO
// swapped in must never hang the helper; ids and pids past the kernel's range are refused by the schema.
import { strict as assert } from 'assert';
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HelperClient } from '../../extension/host/client/client';
import { Methods } from '../../extension/protocol/methods';
import {
  buildObject,
  expectKernelAsBefore,
  isRoot,
  kernelObjects,
  KernelObjects,
  requireCapability,
  samplePath,
  tempDir,
} from '../support/kernel';
import { expectRefusal, startHelper, unloadAll } from './support';

/** Rejects when `promise` takes longer than `ms`: a hung helper fails the test instead of stalling it. */
function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms))),
  ]);
}

function privateCopies(): string[] {
  return fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('ebpf-studio-object-'));
}

describe('paths: opened once, never followed into a trap', function () {
  let client: HelperClient;
  let baseline: KernelObjects;
  let object: string;
  let dir: string;
  let copiesBefore: string[];

  before(async function () {
    requireCapability(this, isRoot(), 'the helper runs as root');
    dir = tempDir('paths');
    object = await buildObject(samplePath('fork_trace'), dir);
    baseline = kernelObjects();
    copiesBefore = privateCopies();
    client = await startHelper('security-paths');
  });

  afterEach(() => unloadAll(client));

  after(async function () {
    await client?.dispose();
    if (baseline) await expectKernelAsBefore(baseline);
    if (copiesBefore) assert.deepEqual(privateCopies(), copiesBefore, 'every private copy was removed');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an object file that is a symbolic link, even to a good object', async () => {
    const link = path.join(dir, 'link.bpf.o');
    fs.symlinkSync(object, link);
    for (const request of [
      client.request(Methods.describe, { path: link }),
      client.request(Methods.load, { path: link }),
      client.request(Methods.structTypes, { path: link }),
    ]) {
      const error = await expectRefusal(request);
      assert.equal(error.data.kind, 'BadInput');
      assert.equal(error.message, `${link} is a symbolic link: name the object file itself.`);
    }
  });

  it('refuses a FIFO at once instead of waiting for a writer', async () => {
    const fifo = path.join(dir, 'fifo.bpf.o');
    execFileSync('mkfifo', [fifo]);
    const error = await expectRefusal(within(3000, client.request(Methods.describe, { path: fifo }), 'describe'));
    assert.equal(error.message, `${fifo} is not a regular file.`);
    const uprobe = await expectRefusal(
      within(
        3000,
        client.request(Methods.load, {
          path: object,
          attach: { trace_fork: { kind: 'uprobe', binary: fifo, func: 'main', retprobe: false } },
        }),
        'load with a FIFO uprobe binary',
      ),
    );
    assert.equal(uprobe.data.kind, 'BadInput');
    assert.match(uprobe.message, /is not an ELF executable or shared library/);
  });

  it('answers every request while a FIFO and an object are swapped at the path, and reads only the object', async () => {
    const target = path.join(dir, 'swapped.bpf.o');
    const fifo = path.join(dir, 'swap-fifo');
    execFileSync('mkfifo', [fifo]);
    fs.copyFileSync(object, target);
    // A separate process renames a FIFO and the object over the path as fast as it can.
    const swapper: ChildProcess = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs'); const [obj, fifo, target] = process.argv.slice(1);
         fs.copyFileSync(target, obj);
         for (let i = 0; ; i++) {
           const from = i % 2 ? obj : fifo, tmp = target + '.tmp';
           try { fs.unlinkSync(tmp); } catch {}
           fs.linkSync(from, tmp); fs.renameSync(tmp, target);
         }`,
        path.join(dir, 'swap-object'),
        fifo,
        target,
      ],
      { stdio: 'ignore' },
    );
    let described = 0;
    let refused = 0;
    try {
      for (let i = 0; i < 150; i++) {
        try {
          const spec = await within(5000, client.request(Methods.describe, { path: target }), `describe #${i}`);
          assert.ok(spec.programs.some((p) => p.name === 'trace_fork'));
          described++;
        } catch (error) {
          if ((error as Error).message.includes('no answer')) throw error;
          assert.match((error as Error).message, /is not a regular file|No such file/);
          refused++;
        }
      }
    } finally {
      swapper.kill('SIGKILL');
    }
    assert.equal(described + refused, 150);
    assert.ok(described > 0 && refused > 0, `both kinds were met (described ${described}, refused ${refused})`);
    assert.equal((await client.request(Methods.listLoaded)).length, 0, 'and the helper still answers');
  });

  it('names the user’s file in messages, never its private copy', async () => {
    const notElf = path.join(dir, 'notes.bpf.o');
    fs.writeFileSync(notElf, 'not an ELF file\n');
    const error = await expectRefusal(client.request(Methods.describe, { path: notElf }));
    assert.equal(error.data.kind, 'BadInput');
    assert.ok(!error.message.includes('ebpf-studio-object-'), error.message);
    const load = await client.request(Methods.load, { path: object, attach: { trace_fork: { kind: 'none' } } });
    assert.equal(load.path, object);
    assert.equal(load.name, 'fork_trace', 'libbpf named it after the copy, which has the same base name');
  });

  it('refuses a uprobe pid past PID_MAX_LIMIT (2^22) instead of truncating it to another process', async () => {
    for (const pid of [4294967297, 2 ** 22 + 1, 0, -1, 1.5]) {
      const error = await expectRefusal(
        client.request(Methods.load, {
          path: object,
          attach: { trace_fork: { kind: 'uprobe', binary: '/bin/true', func: 'main', pid, retprobe: false } },
        }),
      );
      assert.equal(error.data.kind, 'BadInput', `pid ${pid}`);
      assert.match(error.message, /attach\.trace_fork\.pid/);
    }
    for (const [what, request] of [
      ['map id 2^31', client.request(Methods.mapLookup, { mapId: 2 ** 31, key: '00' })],
      ['program id 2^32+1', client.request(Methods.testRun, { progId: 2 ** 32 + 1, data: '00' })],
      ['subscription 2^53', client.request(Methods.unsubscribe, { subscription: 2 ** 53 })],
    ] as const) {
      const error = await expectRefusal(request);
      assert.equal(error.data.kind, 'BadInput', what);
    }
  });
});
