// The spine on the real kernel: the extension's client starts the helper, which loads through the addon.
// Every test leaves `bpftool prog/map/link list` exactly as it found it.
import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { HelperClient } from '../../extension/host/client/client';
import { BPFFS_PREFIX, Methods } from '../../extension/protocol/methods';
import type { RecordsFrame } from '../../extension/formats/frames';
import { recordText, splitRecords } from '../../extension/formats/records';
import { parseTraceLine } from '../../extension/formats/trace-line';
import {
  buildObject,
  eventually,
  expectKernelAsBefore,
  forkChildren,
  helperScript,
  isRoot,
  kernelObjects,
  KernelObjects,
  requireCapability,
  samplePath,
  tempDir,
} from '../support/kernel';
import { expectRefusal, u32le } from '../support/helper-wire';

const fixture = (name: string) => path.join(__dirname, 'fixtures', `${name}.bpf.c`);

describe('helper on the real kernel', function () {
  let client: HelperClient;
  let baseline: KernelObjects;
  let forkTraceObject: string;

  before(async function () {
    requireCapability(this, isRoot(), 'the kernel tier loads BPF programs and needs root');
    assert.ok(fs.existsSync(helperScript), `${helperScript} is missing: run npm run build first`);
    forkTraceObject = await buildObject(samplePath('fork_trace'));
    baseline = kernelObjects();
    client = await HelperClient.start({ helperScript, elevation: 'auto', clientName: 'kernel-test' });
  });

  // A failed assertion must not leave a load behind for the next test to trip over.
  afterEach(async function () {
    if (!client?.running) return;
    for (const load of await client.request(Methods.listLoaded))
      await client.request(Methods.unload, { loadId: load.loadId });
  });

  after(async function () {
    await client?.dispose();
    if (baseline) await expectKernelAsBefore(baseline, 'the kernel holds the same programs, maps and links as before');
  });

  it('starts directly as root, mounts what it needs and reports the kernel', () => {
    assert.equal(client.startedVia, 'direct');
    assert.equal(client.info.uid, 0);
    assert.match(client.info.libbpfVersion, /^1\.\d+/);
    assert.equal(client.info.bpffsPrefix, BPFFS_PREFIX);
    for (const state of Object.values(client.info.mounts)) assert.match(state, /^(present|mounted)$/);
  });

  it('describes fork_trace without loading it', async () => {
    const spec = await client.request(Methods.describe, { path: forkTraceObject });
    assert.deepEqual(
      spec.programs.map((p) => [p.name, p.section, p.type]),
      [['trace_fork', 'tracepoint/sched/sched_process_fork', 'tracepoint']],
    );
    const map = spec.maps.find((m) => m.name === 'forks_by_parent')!;
    assert.deepEqual([map.type, map.keySize, map.valueSize, map.maxEntries], ['hash', 4, 8, 10240]);
    const filter = spec.variables.find((v) => v.name === 'parent_filter')!;
    assert.equal(filter.section, '.rodata');
    assert.equal(filter.size, 4);
    await expectKernelAsBefore(baseline);
  });

  it('loads fork_trace, counts forks, prints them, and unloads without a trace', async () => {
    const trace = await client.request(Methods.subscribe, { source: 'trace_pipe' });
    const lines: string[] = [];
    const listener = client.onEvents((e: RecordsFrame) => {
      if (e.subscription !== trace.subscription) return;
      assert.equal(e.kind, 'lines');
      const index = splitRecords(e.records);
      for (let i = 0; i < index.count; i++) lines.push(recordText(e.records, index, i));
      client.ackEvents(e.subscription, e.records.length);
    });
    try {
      const loaded = await client.request(Methods.load, { path: forkTraceObject, source: samplePath('fork_trace') });
      const program = loaded.programs[0];
      assert.equal(program.name, 'trace_fork');
      assert.ok(program.id > 0);
      assert.equal(program.attachment?.description, 'tracepoint/sched/sched_process_fork');
      assert.ok((program.stats.insnsProcessed ?? 0) > 0, 'verifier statistics come back on success');

      const kernelProgram = (await client.request(Methods.programs)).find((p) => p.id === program.id);
      assert.equal(kernelProgram?.type, 'tracepoint');
      const map = loaded.maps.find((m) => m.name === 'forks_by_parent')!;

      forkChildren(5);
      const count = await eventually(async () => {
        const { value } = await client.request(Methods.mapLookup, { mapId: map.id, key: u32le(process.pid) });
        const n = value === null ? 0 : Number(Buffer.from(value, 'hex').readBigUInt64LE());
        return n >= 5 ? n : undefined;
      });
      assert.ok(count !== undefined && count >= 5, `forks_by_parent[${process.pid}] counts our 5 forks (got ${count})`);

      const dump = await client.request(Methods.mapDump, { mapId: map.id, count: 10240 });
      const keys = dump.page!.keys;
      const pids = Array.from({ length: dump.count }, (_, i) => keys.readUInt32LE(i * 4));
      assert.ok(pids.includes(process.pid), 'a batch dump of the map includes our pid');

      const ours = await eventually(() => {
        const parsed = lines.map(parseTraceLine).find((l) => l?.message.startsWith(`fork parent=${process.pid} `));
        return parsed ?? undefined;
      });
      assert.ok(ours, `a "fork parent=${process.pid}" line arrived from trace_pipe (saw ${lines.length} lines)`);

      await client.request(Methods.unload, { loadId: loaded.loadId });
      assert.deepEqual(await client.request(Methods.listLoaded), []);
    } finally {
      listener.dispose();
      await client.request(Methods.unsubscribe, trace);
    }
    await expectKernelAsBefore(baseline);
  });

  it('sets a const volatile global before load', async () => {
    // A parent pid no process has: the program must then count nothing.
    const loaded = await client.request(Methods.load, {
      path: forkTraceObject,
      variables: { parent_filter: u32le(0x7ffffffe) },
    });
    try {
      forkChildren(3);
      const map = loaded.maps.find((m) => m.name === 'forks_by_parent')!;
      const dump = await client.request(Methods.mapDump, { mapId: map.id, count: 100 });
      assert.equal(dump.count, 0);
    } finally {
      await client.request(Methods.unload, { loadId: loaded.loadId });
    }
  });

  it('names a program type the kernel refuses, and loads the rest when asked', async () => {
    const object = await buildObject(fixture('mixed_types'));
    const capabilities = await client.request(Methods.capabilities);
    if (capabilities['program:fentry'].supported && capabilities['program:lsm'].supported) {
      // A kernel that allows fentry and LSM: everything loads.
      const loaded = await client.request(Methods.load, {
        path: object,
        attach: { watch_unlink: { kind: 'none' }, deny_nothing: { kind: 'none' } },
      });
      assert.equal(loaded.programs.filter((p) => p.loaded).length, 3);
      await client.request(Methods.unload, { loadId: loaded.loadId });
      return;
    }
    const error = await expectRefusal(client.request(Methods.load, { path: object }));
    assert.equal(error.data.kind, 'NotSupported');
    assert.match(
      error.message,
      /Cannot load (watch_unlink|deny_nothing) \(SEC\("(fentry\/do_unlinkat|lsm\/sb_mount)"\)\): this kernel refuses (tracing|lsm) .*EPERM/,
    );
    await expectKernelAsBefore(baseline, 'a refused load leaves nothing behind');

    const loaded = await client.request(Methods.load, { path: object, skipRefused: true });
    const byName = new Map(loaded.programs.map((p) => [p.name, p]));
    assert.equal(byName.get('count_getppid')?.loaded, true);
    assert.equal(byName.get('watch_unlink')?.loaded, capabilities['program:fentry'].supported);
    assert.equal(byName.get('deny_nothing')?.loaded, capabilities['program:lsm'].supported);
    await client.request(Methods.unload, { loadId: loaded.loadId });
  });

  it('puts a verifier rejection on its source line with the full log', async () => {
    const object = await buildObject(fixture('null_deref'));
    const error = await expectRefusal(client.request(Methods.load, { path: object }));
    assert.equal(error.data.kind, 'VerifierRejected');
    if (error.data.kind !== 'VerifierRejected') return;
    assert.equal(error.data.program, 'forget_null_check');
    assert.match(error.data.message, /invalid mem access 'map_value_or_null'/);
    assert.match(error.message, /null_deref\.bpf\.c:19/);
    assert.match(error.data.log, /processed \d+ insns/, 'the log is complete, statistics included');
    await expectKernelAsBefore(baseline);
  });

  it('refuses a file that is not a BPF object', async () => {
    const notElf = path.join(tempDir('bad'), 'notes.bpf.o');
    fs.writeFileSync(notElf, 'this is not an ELF file\n');
    const error = await expectRefusal(client.request(Methods.load, { path: notElf }));
    assert.equal(error.data.kind, 'BadInput');
    assert.match(error.message, /not a BPF object|ELF/i);
    const missing = await expectRefusal(client.request(Methods.describe, { path: '/nonexistent/x.bpf.o' }));
    assert.equal(missing.data.kind, 'NotFound');
    // A cut-off copy of a real object says so, rather than libelf's "invalid `Elf' handle".
    const truncated = path.join(tempDir('bad'), 'cut.bpf.o');
    const whole = fs.readFileSync(forkTraceObject);
    fs.writeFileSync(truncated, whole.subarray(0, 3000));
    const cut = await expectRefusal(client.request(Methods.load, { path: truncated }));
    assert.equal(cut.data.kind, 'BadInput');
    assert.match(
      cut.message,
      new RegExp(
        `^not a BPF object file: ${truncated}: truncated \\(3000 bytes; its section headers end at byte \\d+\\)$`,
      ),
    );
    // A corrupt section header table: named by the addon's own ELF check before libbpf opens it.
    const corrupt = Buffer.from(whole);
    corrupt.fill(0xff, Number(corrupt.readBigUInt64LE(0x28)), Number(corrupt.readBigUInt64LE(0x28)) + 256);
    const corruptPath = path.join(tempDir('bad'), 'corrupt.bpf.o');
    fs.writeFileSync(corruptPath, corrupt);
    const bad = await expectRefusal(client.request(Methods.load, { path: corruptPath }));
    assert.equal(bad.data.kind, 'BadInput');
    assert.match(
      bad.message,
      /not a BPF object file: .*corrupt\.bpf\.o: section \d+ runs from byte \d+ .* past the end of the file/,
    );
    assert.doesNotMatch(bad.message, /libbpf: libbpf:/);
    await expectKernelAsBefore(baseline);
  });

  it('refuses an interface that does not exist, leaving nothing loaded', async () => {
    const object = await buildObject(fixture('xdp_pass'));
    const error = await expectRefusal(
      client.request(Methods.load, { path: object, attach: { pass_all: { kind: 'xdp', interface: 'nosuch0' } } }),
    );
    assert.equal(error.data.kind, 'BadInput');
    assert.match(error.message, /no network interface named "nosuch0"/);
    await expectKernelAsBefore(baseline);
  });

  it('checks attach requests before loading: a misspelt program, a uprobe without a function or on a non-ELF file', async () => {
    const object = await buildObject(samplePath('uprobe_malloc'));
    const node = fs.realpathSync('/proc/self/exe');
    const misspelt = await expectRefusal(
      client.request(Methods.load, {
        path: object,
        attach: { on_malloc: { kind: 'uprobe', binary: node, func: 'malloc', retprobe: false } },
      }),
    );
    assert.equal(misspelt.data.kind, 'BadInput');
    assert.match(
      misspelt.message,
      /Cannot attach "on_malloc": uprobe_malloc\.bpf\.o loads no program of that name \(programs loaded: malloc_enter, malloc_exit\)/,
    );
    // Without a function libbpf would put the probe at offset 0 of the file.
    const noFunction = await expectRefusal(
      client.request(Methods.load, {
        path: object,
        attach: { malloc_enter: { kind: 'uprobe', binary: node, retprobe: false } },
      }),
    );
    assert.equal(noFunction.data.kind, 'BadInput');
    assert.match(noFunction.message, /a uprobe needs a function name \(or an offset\)/);
    for (const notElf of ['/etc/passwd', '/tmp']) {
      const error = await expectRefusal(
        client.request(Methods.load, {
          path: object,
          attach: { malloc_enter: { kind: 'uprobe', binary: notElf, func: 'malloc', retprobe: false } },
        }),
      );
      assert.equal(error.data.kind, 'BadInput');
      assert.equal(error.message, `${notElf} is not an ELF executable or shared library: a uprobe needs one.`);
    }
    assert.deepEqual(await client.request(Methods.listLoaded), []);
    await expectKernelAsBefore(baseline);
  });

  it('refuses an object with no programs instead of loading only its maps', async () => {
    const dir = tempDir('noprog');
    const source = path.join(dir, 'maps_only.bpf.c');
    fs.writeFileSync(
      source,
      '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n' +
        'struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");\n' +
        'char LICENSE[] SEC("license") = "GPL";\n',
    );
    const error = await expectRefusal(client.request(Methods.load, { path: await buildObject(source) }));
    assert.equal(error.data.kind, 'BadInput');
    assert.equal(error.message, 'Nothing to load from maps_only.bpf.o: it has no programs (no SEC("...") functions).');
    await expectKernelAsBefore(baseline);
  });

  it('says which interface is taken when a second XDP program is attached to it', async function () {
    const name = `esb${process.pid % 100000}`;
    try {
      execFileSync('ip', ['link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`]);
    } catch (e) {
      requireCapability(this, false, `cannot create a veth pair: ${(e as Error).message.split('\n')[0]}`);
    }
    try {
      const object = await buildObject(fixture('xdp_pass'));
      const first = await client.request(Methods.load, {
        path: object,
        attach: { pass_all: { kind: 'xdp', interface: name } },
      });
      assert.equal(first.programs[0].attachment?.kind, 'xdp');
      const error = await expectRefusal(
        client.request(Methods.load, { path: object, attach: { pass_all: { kind: 'xdp', interface: name } } }),
      );
      assert.equal(error.data.kind, 'BadInput');
      assert.match(error.message, new RegExp(`Cannot attach pass_all: ${name} already has an XDP program attached`));
      assert.deepEqual(
        (await client.request(Methods.listLoaded)).map((l) => l.loadId),
        [first.loadId],
        'the refused load left nothing behind',
      );
      await client.request(Methods.unload, { loadId: first.loadId });
    } finally {
      execFileSync('ip', ['link', 'del', name]);
    }
    await expectKernelAsBefore(baseline);
  });

  it('survives kill -9: pinned loads are found again, the rest leaves the kernel', async () => {
    const pinnedLoad = await client.request(Methods.load, { path: forkTraceObject });
    await client.request(Methods.pin, { loadId: pinnedLoad.loadId });
    const unpinnedLoad = await client.request(Methods.load, { path: forkTraceObject });
    const unpinnedId = unpinnedLoad.programs[0].id;

    const exited = new Promise<{ expected: boolean; signal: string | null }>((resolve) => client.onExit(resolve));
    process.kill(client.pid, 'SIGKILL');
    const exit = await exited;
    assert.equal(exit.expected, false);
    assert.equal(exit.signal, 'SIGKILL');
    await assert.rejects(client.request(Methods.listLoaded), /not running/);

    client = await HelperClient.start({ helperScript, elevation: 'auto', clientName: 'kernel-test' });
    const found = await client.request(Methods.listLoaded);
    assert.deepEqual(
      found.map((l) => [l.loadId, l.pinned]),
      [[pinnedLoad.loadId, true]],
    );
    assert.equal(found[0].programs[0].id, pinnedLoad.programs[0].id);
    // The kernel's link info names the tracepoint without its category; the restarted helper keeps it.
    assert.equal(found[0].programs[0].attachment?.description, 'tracepoint/sched/sched_process_fork');
    assert.equal(found[0].programs[0].attachment?.description, pinnedLoad.programs[0].attachment?.description);
    const stillLoaded = await eventually(async () =>
      (await client.request(Methods.programs)).some((p) => p.id === unpinnedId) ? undefined : true,
    );
    assert.ok(stillLoaded, 'the unpinned program left the kernel with the helper');

    await client.request(Methods.unload, { loadId: pinnedLoad.loadId });
    assert.equal(fs.existsSync(path.join(BPFFS_PREFIX, pinnedLoad.loadId)), false);
    await eventually(() => (JSON.stringify(kernelObjects()) === JSON.stringify(baseline) ? true : undefined));
    await expectKernelAsBefore(baseline);
  });
});
