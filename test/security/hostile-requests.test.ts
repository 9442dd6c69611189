// A hostile client (issue 9): every method that takes parameters is sent malformed, oversized,
// foreign-object and path-trick arguments, on the raw wire (no client-side checks in between). Every one
// must be refused with a typed error, and the helper must stay up; the tier ends with the counted line
// "N requests tried, N refused, 0 crashed".
import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { HelperClient, HelperError } from '../../extension/host/client/client';
import { Methods } from '../../extension/protocol/methods';
import { ErrorCodes } from '../../extension/protocol/errors';
import {
  expectKernelAsBefore,
  isRoot,
  kernelObjects,
  KernelObjects,
  requireCapability,
  tempDir,
} from '../support/kernel';
import { ForeignAgent, startHelper, unloadAll } from './support';

type Case = [method: string, params: unknown, what: string];

/** Methods that take no parameters: there is nothing hostile to send them. */
const WITHOUT_PARAMS = new Set([
  'capabilities',
  'object/list',
  'kernel/programs',
  'kernel/maps',
  'kernel/links',
  'kernel/owners',
  'shutdown',
  'object/handoff',
]);

function hostileCases(agent: ForeignAgent, dir: string): Case[] {
  const big = 'ab'.repeat(2 * 1024 * 1024 + 1);
  const longPath = '/' + 'a'.repeat(5000);
  const fifo = path.join(dir, 'fifo.bpf.o');
  const shadowLink = path.join(dir, 'shadow.bpf.o');
  const paths: [string, string][] = [
    ['/etc/shadow', 'a root-only file'],
    ['/proc/self/mem', 'a proc file'],
    ['/dev/zero', 'a device'],
    ['/', 'a directory'],
    [fifo, 'a FIFO'],
    [shadowLink, 'a link to /etc/shadow'],
    ['/tmp/../etc/passwd', 'a dot-dot path'],
    ['relative.bpf.o', 'a relative path'],
    ['/tmp/a\0b', 'a NUL byte'],
    [longPath, 'a 5000-byte path'],
    ['/sys/fs/bpf', 'bpffs itself'],
  ];
  const malformed: unknown[] = [null, 42, 'x', [], {}, { __proto__: { polluted: true } }];
  const cases: Case[] = [];
  const methodsWithParams = Object.values(Methods)
    .map((m) => m.method)
    .filter((m) => !WITHOUT_PARAMS.has(m));
  for (const method of methodsWithParams)
    for (const p of malformed) cases.push([method, p, `malformed ${JSON.stringify(p)}`]);

  for (const [p, what] of paths) {
    cases.push(['object/describe', { path: p }, what]);
    cases.push(['object/load', { path: p }, what]);
    cases.push(['object/structTypes', { path: p }, what]);
    cases.push([
      'object/load',
      { path: '/bin/true', attach: { x: { kind: 'uprobe', binary: p, func: 'main', retprobe: false } } },
      `uprobe ${what}`,
    ]);
    cases.push(['object/load', { path: '/bin/true', attach: { x: { kind: 'cgroup', path: p } } }, `cgroup ${what}`]);
  }
  const map = agent.maps.blocked_ports;
  const prog = agent.programs.agent_xdp;
  cases.push(
    ['map/update', { mapId: map, key: '5000', value: '0100000000000000' }, 'foreign map write'],
    ['map/delete', { mapId: map, key: '5000' }, 'foreign map delete'],
    ['map/update', { mapId: map, key: '5000', value: '0100000000000000', grant: prog }, 'grant of another object'],
    ['prog/testRun', { progId: prog, data: '00'.repeat(64) }, 'foreign test run'],
    ['events/subscribe', { source: 'perf', mapId: agent.maps.agent_perf }, 'foreign perf array'],
    ['events/subscribe', { source: 'ringbuf', mapId: agent.maps.agent_events }, 'foreign ring buffer'],
    [
      'events/subscribe',
      { source: 'perf', mapId: agent.maps.agent_perf, grant: agent.maps.agent_perf },
      'grant on a perf array',
    ],
    ['object/unload', { loadId: 'cilium-1' }, 'a load it did not make'],
    ['object/pin', { loadId: 'cilium-1' }, 'pin a load it did not make'],
    ['object/verifierLog', { loadId: 'cilium-1', program: 'agent_xdp' }, 'log of a load it did not make'],
    ['events/unsubscribe', { subscription: 12345 }, 'an unknown subscription'],
  );
  cases.push(
    ['map/update', { mapId: map, key: big, value: '00' }, 'a 4 MiB key'],
    ['map/lookup', { mapId: map, key: big }, 'a 4 MiB key'],
    ['prog/testRun', { progId: prog, data: big, grant: prog }, 'a 4 MiB packet'],
    ['prog/testRun', { progId: prog, data: '00', repeat: 1e9, grant: prog }, 'a billion repeats'],
    ['map/dump', { mapId: map, count: 1e9 }, 'a billion entries'],
    ['map/dump', { mapId: map, count: 10, cursor: 'A'.repeat(10_000) }, 'a 10 kB cursor'],
    ['object/load', { path: '/x.o', programs: Array.from({ length: 1000 }, (_, i) => `p${i}`) }, '1000 programs'],
    ['object/load', { path: '/x.o', maxEntries: { m: 2 ** 40 } }, 'max entries 2^40'],
    ['object/load', { path: '/x.o', logLevel: 99 }, 'log level 99'],
    [
      'object/load',
      {
        path: '/x.o',
        attach: { x: { kind: 'uprobe', binary: '/bin/true', func: 'main', pid: 4294967297, retprobe: false } },
      },
      'pid 2^32+1',
    ],
    [
      'object/load',
      { path: '/x.o', attach: { x: { kind: 'xdp', interface: 'a'.repeat(16) } } },
      'a 16-byte interface name',
    ],
    ['events/subscribe', { source: 'perf', mapId: map, pages: 1 << 20 }, 'a million pages'],
    ['map/lookup', { mapId: 2 ** 31, key: '00' }, 'map id 2^31'],
    ['prog/instructions', { progId: 0 }, 'program id 0'],
    ['map/types', { mapId: 1.5 }, 'a fractional id'],
    ['kernel/stats', { enabled: 'yes' }, 'a string for a boolean'],
    ['initialize', { protocolVersion: 1e9, clientName: 'x' }, 'a second initialize, wrong version'],
    ['initialize', { protocolVersion: 1, clientName: 'x'.repeat(1e5) }, 'a second initialize, 100 kB name'],
  );
  return cases;
}

describe('hostile requests to every method', function () {
  let client: HelperClient;
  let agent: ForeignAgent;
  let baseline: KernelObjects;
  let dir: string;

  before(async function () {
    requireCapability(this, isRoot(), 'the helper runs as root');
    dir = tempDir('hostile');
    execFileSync('mkfifo', [path.join(dir, 'fifo.bpf.o')]);
    fs.symlinkSync('/etc/shadow', path.join(dir, 'shadow.bpf.o'));
    baseline = kernelObjects();
    agent = await ForeignAgent.start();
    client = await startHelper('security-hostile');
  });

  after(async function () {
    await unloadAll(client);
    await client?.dispose();
    await agent?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (baseline) await expectKernelAsBefore(baseline);
  });

  it('refuses every one with a typed error and never goes down', async function () {
    const cases = hostileCases(agent, dir);
    const covered = new Set(cases.map(([m]) => m));
    const every = Object.values(Methods)
      .map((m) => m.method)
      .filter((m) => !WITHOUT_PARAMS.has(m));
    assert.deepEqual(
      every.filter((m) => !covered.has(m)),
      [],
      'every method with parameters is tried',
    );

    let refused = 0;
    let crashed = 0;
    const accepted: string[] = [];
    const before = await client.request(Methods.mapDump, { mapId: agent.maps.blocked_ports, count: 64 });
    for (const [method, params, what] of cases) {
      const type = { method, numberOfParams: 1, parameterStructures: undefined } as never;
      try {
        await Promise.race([
          client.request(type, params as never),
          new Promise((_, reject) => setTimeout(() => reject(new Error('no answer in 10 s')), 10_000)),
        ]);
        accepted.push(`${method} (${what})`);
      } catch (error) {
        if (error instanceof HelperError && client.running) {
          assert.ok(error.data && typeof error.data.kind === 'string', `${method} (${what}): a typed error`);
          assert.ok(!/\n\s+at /.test(error.message), `${method} (${what}): no stack trace`);
          refused++;
        } else crashed++;
      }
      if (!client.running) break;
    }
    const line = `${cases.length} requests tried, ${refused} refused, ${crashed} crashed`;
    console.log(`      ${line}`);
    ((globalThis as { ebpfStudioSummaryLines?: string[] }).ebpfStudioSummaryLines ??= []).push(line);
    assert.deepEqual(accepted, [], 'nothing hostile was accepted');
    assert.equal(crashed, 0);
    assert.equal(refused, cases.length);
    assert.ok(client.running, 'the helper is still up');
    const after = await client.request(Methods.mapDump, { mapId: agent.maps.blocked_ports, count: 64 });
    // Each answer names its own page frame (a fresh token); the map is the same if everything else is.
    const content = ({ frame: _token, ...rest }: typeof before) => rest;
    assert.deepEqual(content(after), content(before), 'the foreign map is as it was');
    assert.equal(ErrorCodes.NotOwned, -32014);
  });
});
