// Kernel tests of the native addon's bounds: map pages are bounded in bytes (key size, value size x
// possible CPUs for per-CPU maps) and by the map's max_entries; the key-walk fallback reads every entry
// once (no map type without batch ops takes big values, so its byte bound is the same code); perf buffers
// take a bounded number of pages per CPU; a verifier log grows no further than its limit. Maps are made
// with bpftool and pinned for the test's length only. Reads that must stay small run in a child process
// (test/security/fixtures/addon-call.ts), whose peak RSS is the measure, and where an unbounded
// allocation is a visible failure.
import { strict as assert } from 'assert';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { loadNative } from '../../native/index';
import type { BatchRead, MapHandle, NativeAddon, NativeError, NativeLimits } from '../../native/index';
import {
  expectKernelAsBefore,
  isRoot,
  kernelObjects,
  KernelObjects,
  repoRoot,
  requireCapability,
} from '../support/kernel';

const CHILD = path.join(__dirname, '..', 'security', 'fixtures', 'addon-call.ts');

interface Outcome {
  ok: boolean;
  maxRssKiB: number;
  result?: { count: number; keys: { bytes: number }; values: { bytes: number }; next?: { bytes: number } };
  error?: { message: string; kind?: string };
}

function inChild(fn: string, ...args: unknown[]): Outcome {
  const child = spawnSync(
    process.execPath,
    ['-r', require.resolve('tsx/cjs'), CHILD, JSON.stringify([[fn, ...args]])],
    {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60000,
    },
  );
  assert.equal(child.signal, null, `${fn}(${args.join(', ')}) crashed with ${child.signal}\n${child.stderr}`);
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout.trim()) as Outcome;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/** An LPM trie key: {u32 prefixlen; u8 addr[4]}. */
function lpmKey(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(32, 0);
  b.writeUInt32BE(n, 4);
  return b;
}

/** Every page of a map, in order, through lookupBatch. */
function allPages(read: (cursor?: Buffer) => BatchRead): BatchRead[] {
  const pages: BatchRead[] = [];
  let cursor: Buffer | undefined;
  for (let i = 0; i < 1000; i++) {
    const page = read(cursor);
    pages.push(page);
    if (!page.next) return pages;
    cursor = page.next;
  }
  throw new Error('no end after 1000 pages');
}

describe('native addon limits (real kernel)', function () {
  this.timeout(120000);
  let addon: NativeAddon;
  let limits: NativeLimits;
  let baseline: KernelObjects;
  const pins: string[] = [];
  const base = `/sys/fs/bpf/ebpf-studio-limits-${process.pid}`;

  /** A map made by bpftool, pinned until the end of the test; its id. */
  function createMap(name: string, args: string[]): number {
    const pin = `${base}-${name}`;
    execFileSync('bpftool', ['map', 'create', pin, ...args, 'name', name.slice(0, 15)]);
    pins.push(pin);
    return addon.pinnedObjectInfo(pin).id;
  }

  function withMap<R>(id: number, use: (map: MapHandle) => R): R {
    const map = addon.openMap(id);
    try {
      return use(map);
    } finally {
      map.close();
    }
  }

  before(function () {
    addon = loadNative();
    limits = addon.limits();
    requireCapability(this, isRoot(), 'creating BPF maps needs root');
    requireCapability(this, spawnSync('sh', ['-c', 'command -v bpftool']).status === 0, 'bpftool is not installed');
    spawnSync('sh', ['-c', 'mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf']);
    baseline = kernelObjects();
  });

  after(async () => {
    for (const pin of pins) fs.rmSync(pin, { force: true });
    if (baseline) await expectKernelAsBefore(baseline);
  });

  it('says its limits', () => {
    assert.deepEqual(limits, {
      pageBytes: 4 << 20,
      bucketPageBytes: 16 << 20,
      overridePreallocBytes: 1 << 30,
      verifierLogBytes: 64 << 20,
      perfPagesPerCpu: 256,
      btfTreeNodes: 4096,
      btfCallNodes: 16384,
      structTypes: 4096,
    });
  });

  it('pages of a per-CPU hash with 32 KiB values are bounded in bytes, and read every entry once', () => {
    const entries = 200;
    const id = createMap('pcpu_big', ['type', 'percpu_hash', 'key', '4', 'value', '32768', 'entries', String(entries)]);
    const valueSize = withMap(id, (map) => {
      for (let k = 0; k < entries; k++) map.update(u32(k), Buffer.alloc(map.userValueSize, k & 0xff), 0);
      return map.userValueSize;
    });
    const entryBytes = 4 + valueSize;
    const perPage = Math.floor(limits.pageBytes / entryBytes);
    console.log(
      `      ${valueSize / 32768} possible CPUs: ${valueSize} value bytes per entry, ${perPage} entries per page`,
    );

    // Asking for a million entries of a 200-entry map: one bounded page, not a million zero-filled slots.
    for (const fn of ['lookupBatchAsync', 'openMap.lookupBatch']) {
      const out = inChild(fn, id, 1_000_000);
      assert.ok(out.ok, JSON.stringify(out.error));
      const page = out.result!;
      assert.ok(
        page.count > 0 && page.count <= perPage,
        `${fn}: ${page.count} entries in one page (at most ${perPage})`,
      );
      assert.equal(page.values.bytes, page.count * valueSize);
      assert.ok(page.keys.bytes + page.values.bytes <= limits.pageBytes, `${fn}: ${page.values.bytes} value bytes`);
      assert.ok(out.maxRssKiB < 256 * 1024, `${fn}: peak RSS ${out.maxRssKiB} KiB`);
    }
    // 20,000 asked of 200 entries: the page is clamped to the map, not sized for 20,000 x 64 KiB.
    const clamped = inChild('lookupBatchAsync', id, 20_000);
    assert.ok(clamped.maxRssKiB < 256 * 1024, `peak RSS ${clamped.maxRssKiB} KiB`);

    // Paging reads every key exactly once, sync and async.
    const keysOf = (pages: BatchRead[]) =>
      pages.flatMap((p) => Array.from({ length: p.count }, (_, i) => p.keys.readUInt32LE(i * 4)));
    const sync = withMap(id, (map) => allPages((cursor) => map.lookupBatch(1_000_000, cursor)));
    assert.ok(sync.length >= Math.ceil(entries / perPage));
    assert.deepEqual(
      keysOf(sync).sort((a, b) => a - b),
      Array.from({ length: entries }, (_, k) => k),
    );
    for (const p of sync) {
      assert.ok(p.keys.length + p.values.length <= limits.pageBytes);
      for (let i = 0; i < p.count; i++)
        assert.equal(p.values[i * valueSize], p.keys.readUInt32LE(i * 4) & 0xff, 'values stay with their keys');
    }
  });

  it('an LPM trie with 64 KiB values is paged within the same bound', () => {
    const entries = 150;
    const id = createMap('lpm_big', [
      'type',
      'lpm_trie',
      'key',
      '8',
      'value',
      '65536',
      'entries',
      String(entries),
      'flags',
      '1',
    ]);
    withMap(id, (map) => {
      for (let k = 0; k < entries; k++) map.update(lpmKey(k + 1), Buffer.alloc(65536, k & 0xff), 0);
    });
    const perPage = Math.floor(limits.pageBytes / (8 + 65536));
    for (const fn of ['lookupBatchAsync', 'openMap.lookupBatch']) {
      const one = inChild(fn, id, 1_000_000);
      assert.ok(one.ok, JSON.stringify(one.error));
      assert.ok(one.result!.count <= perPage && one.result!.next, `${fn}: ${one.result!.count} entries, more to come`);
      assert.ok(one.result!.keys.bytes + one.result!.values.bytes <= limits.pageBytes);
      assert.ok(one.maxRssKiB < 256 * 1024, `${fn}: peak RSS ${one.maxRssKiB} KiB`);
    }
    const pages = withMap(id, (map) => allPages((cursor) => map.lookupBatch(1_000_000, cursor)));
    assert.equal(
      pages.reduce((n, p) => n + p.count, 0),
      entries,
    );
    for (const p of pages) assert.ok(p.count <= perPage && p.keys.length + p.values.length <= limits.pageBytes);
  });

  it('a devmap_hash (no batch ops: the key walk) reads every entry once in pages of the size asked', () => {
    const id = createMap('devmap_walk', ['type', 'devmap_hash', 'key', '4', 'value', '4', 'entries', '32']);
    withMap(id, (map) => {
      for (let k = 0; k < 20; k++) map.update(u32(k), u32(1), 0); // ifindex 1: lo
    });
    // The kernel has no batch ops for devmap_hash: the worker's dump walks keys on its own, in bounded pages.
    const walked = inChild('lookupBatchAsync', id, 10);
    assert.ok(walked.ok, JSON.stringify(walked.error));
    assert.ok(walked.result!.count <= 10 && walked.result!.next, `${walked.result!.count} entries, more to come`);
    const pages = withMap(id, (map) => allPages((cursor) => map.lookupBatch(6, cursor)));
    assert.ok(pages.every((p) => p.count <= 6));
    const keys = pages.flatMap((p) => Array.from({ length: p.count }, (_, i) => p.keys.readUInt32LE(i * 4)));
    assert.deepEqual(
      keys.sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, k) => k),
    );
  });

  it('a verifier log grows to the 64 MiB limit and no further; the load says the log is cut there', async () => {
    const obj = path.join(fs.mkdtempSync('/tmp/ebpf-studio-limits-'), 'long_log.bpf.o');
    execFileSync('clang', [
      '-O2',
      '-g',
      '-target',
      'bpf',
      '-I/usr/include/x86_64-linux-gnu',
      '-c',
      path.join(__dirname, 'fixtures', 'long_log.bpf.c'),
      '-o',
      obj,
    ]);
    try {
      // 16 MiB is too small: the log grows once, to the limit, which is too small as well.
      const r = await addon.loadObject({ path: obj, logLevel: 2, logSize: 16 << 20 });
      assert.equal(r.object, undefined);
      assert.equal(r.error?.errno, 28, JSON.stringify(r.error));
      assert.equal(r.error?.program, 'long_log');
      assert.equal(
        r.error?.message,
        `load ${obj}: program long_log: its verifier log is longer than the 64 MiB limit and is cut there: No space left on device`,
      );
      const log = r.programs.find((p) => p.name === 'long_log')!.log;
      assert.ok(
        log.length > 16 << 20 && log.length < limits.verifierLogBytes,
        `the log grew to the limit: ${log.length} bytes`,
      );
      assert.match(log, /^\d+: \([0-9a-f]{2}\) /m, 'what there is of it is the verifier log');
    } finally {
      fs.rmSync(path.dirname(obj), { recursive: true, force: true });
    }
  });

  it('a perf buffer takes at most perfPagesPerCpu pages per CPU, and says so', () => {
    const id = createMap('perf_cap', ['type', 'perf_event_array', 'key', '4', 'value', '4', 'entries', '2']);
    assert.throws(
      () => addon.consumePerfBuffer(id, limits.perfPagesPerCpu * 2, () => undefined),
      (e: NativeError) =>
        e.kind === 'BadInput' &&
        e.field === 'pageCount' &&
        e.errno === 7 &&
        e.message ===
          `consume perf buffer: ${limits.perfPagesPerCpu * 2} pages per CPU is over the limit of ${limits.perfPagesPerCpu}`,
    );
    const consumer = addon.consumePerfBuffer(id, limits.perfPagesPerCpu, () => undefined);
    consumer.close();
  });
});
