// Property tests of the helper's argument validation (issue 10): every parameter schema exported by
// extension/protocol/methods.ts and bpftrace.ts, fed arbitrary JSON and mutations of valid parameters as a hostile client
// would send them, either parses into values inside the documented bounds (absolute paths without ".."
// or NUL, C identifiers, kernel ids, hex) or fails with a ZodError, which the helper turns into BadInput.
import { strict as assert } from 'assert';
import fc from 'fast-check';
import { z, ZodError } from 'zod';
import * as methods from '../../extension/protocol/methods';
import * as bpftraceParams from '../../extension/protocol/bpftrace';
import { ErrorCodes } from '../../extension/protocol/errors';
import { toResponseError } from '../../extension/helper/errors';
import { fuzz } from '../support/fuzz';

/** Every zod schema the protocol exports: new methods are fuzzed as soon as they are added. */
const schemas: [string, z.ZodTypeAny][] = Object.entries({ ...methods, ...bpftraceParams }).flatMap(([name, value]) =>
  value instanceof z.ZodType ? [[name, value as z.ZodTypeAny] as [string, z.ZodTypeAny]] : [],
);

/** Valid parameters of each schema, the seeds of the mutations. */
const examples: Record<string, unknown[]> = {
  AttachRequest: [
    { kind: 'auto' },
    { kind: 'tracepoint', category: 'syscalls', name: 'sys_enter_getpid' },
    { kind: 'uprobe', binary: '/usr/lib/libc.so.6', func: 'malloc', retprobe: false, pid: 1 },
    { kind: 'xdp', interface: 'eth0', mode: 'skb' },
    { kind: 'tc', interface: 'lo', direction: 'ingress' },
    { kind: 'cgroup', path: '/sys/fs/cgroup' },
  ],
  InitializeParams: [{ protocolVersion: methods.PROTOCOL_VERSION, clientName: 'vscode' }],
  DescribeParams: [{ path: '/work/x.bpf.o' }],
  LoadParams: [
    {
      path: '/work/x.bpf.o',
      programs: ['count_packets'],
      variables: { min_len: '0a000000' },
      maxEntries: { counters: 1024 },
      attach: { count_packets: { kind: 'xdp', interface: 'eth0' } },
      verifyOnly: true,
      logLevel: 2,
      skipRefused: true,
      source: '/work/x.bpf.c',
    },
  ],
  LoadIdParams: [{ loadId: 'x-1' }],
  VerifierLogParams: [{ loadId: 'x-1', program: 'count_packets' }],
  BpftraceScriptParams: [{ path: '/work/bpf-samples/bpftrace_syscalls/syscalls.bt' }],
  BpftraceRunIdParams: [{ run: 1 }],
  MapIdParams: [{ mapId: 12 }],
  MapKeyParams: [{ mapId: 12, key: '01000000' }],
  MapUpdateParams: [{ mapId: 12, key: '01000000', value: '0100000000000000', flags: 'noexist' }],
  MapNextKeyParams: [
    { mapId: 12, key: null },
    { mapId: 12, key: '00' },
  ],
  MapDumpParams: [{ mapId: 12, count: 100, cursor: 'AAAA' }],
  SubscribeParams: [
    { source: 'trace_pipe' },
    { source: 'ringbuf', mapId: 3, window: 1 << 20 },
    { source: 'perf', mapId: 3, pages: 64 },
  ],
  EventsAckParams: [{ subscription: 1, bytes: 4096 }],
  MapEditValue: [
    { kind: 'bytes', bytes: '01000000', cpu: 1 },
    { kind: 'program', id: 7 },
    { kind: 'map', id: 8 },
  ],
  MapEditParams: [
    { mapId: 12, key: '01000000', mode: 'edit', expected: '00000000', value: { kind: 'bytes', bytes: '01000000' } },
    { mapId: 12, key: '01000000', mode: 'add', value: { kind: 'program', id: 7 }, grant: 12 },
  ],
  UnsubscribeParams: [{ subscription: 1 }],
  StatsParams: [{ enabled: true }],
  StructTypesParams: [{ path: '/work/x.bpf.o' }],
  TestRunParams: [{ progId: 5, data: 'ffffffffffff', repeat: 10 }],
  InstructionsParams: [{ progId: 5 }],
};

// ---- hostile values ----------------------------------------------------------------------------------

const hostileString = fc.oneof(
  fc.constantFrom(
    '',
    '/',
    '..',
    '/..',
    '/a/../b',
    '/a/..',
    '/a/./b',
    '//',
    '/a\0b',
    '\0',
    'relative/x.o',
    '/sys/fs/bpf/ebpf-studio/../x',
    '__proto__',
    'constructor',
    'a b',
    'A'.repeat(129),
    `/${'a'.repeat(5000)}`,
    'eth0\n',
    'x'.repeat(16),
    '00',
    'AB',
    'abc',
    '-1',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.array(fc.constantFrom('/', '..', '.', 'a', '\0', '%2e%2e', '\\'), { maxLength: 8 }).map((xs) => xs.join('')),
);
const hostileNumber = fc.oneof(
  fc.constantFrom(
    0,
    -1,
    1,
    2 ** 31,
    2 ** 31 - 1,
    2 ** 53,
    1 << 28,
    (1 << 28) + 1,
    1.5,
    -0,
    1e308,
    Number.MAX_SAFE_INTEGER,
  ),
  fc.integer(),
  fc.double(),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 3, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, { __proto__: null }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

/** Every path inside a value, with the value there. */
function leaves(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => leaves(v, [...prefix, k]))];
}

const edit = fc.record({
  op: fc.constantFrom('set', 'set', 'set', 'delete', 'rename', 'add'),
  pick: fc.nat(),
  value: hostileValue,
  key: fc.oneof(hostileString, fc.constantFrom('kind', 'source', 'path', 'mapId')),
});

/** A valid example with a few hostile edits, then through JSON as the wire carries it. */
function mutated(seeds: unknown[]): fc.Arbitrary<unknown> {
  return fc.tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 4 })).map(([seed, edits]) => {
    const root = { v: structuredClone(seed) as unknown };
    for (const edit of edits) {
      // Constants are shared between runs: edit copies.
      const e = { ...edit, value: structuredClone(edit.value) };
      const all = leaves(root.v);
      const target = all[e.pick % all.length];
      let parent: Record<string | number, unknown> = root as Record<string, unknown>;
      const path: (string | number)[] = ['v', ...target];
      for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
      const last = path[path.length - 1];
      if (e.op === 'set') parent[last] = e.value;
      else if (e.op === 'delete') delete parent[last];
      else if (e.op === 'rename' && !Array.isArray(parent)) {
        parent[e.key] = parent[last];
        delete parent[last];
      } else if (e.op === 'add' && parent[last] && typeof parent[last] === 'object' && !Array.isArray(parent[last]))
        (parent[last] as Record<string, unknown>)[e.key] = e.value;
    }
    // JSON.parse makes "__proto__" an own key, as a JSON-RPC message would.
    return root.v === undefined ? undefined : JSON.parse(JSON.stringify(root.v));
  });
}

// ---- what a parsed value may hold -------------------------------------------------------------------

const identifier = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const isKernelId = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 0x7fffffff;
const isHex = (v: unknown) => typeof v === 'string' && /^([0-9a-f]{2})*$/.test(v) && v.length <= 4 * 1024 * 1024;

function assertAbsolutePath(p: unknown, where: string): void {
  assert.ok(typeof p === 'string', `${where} is a string`);
  assert.ok(p.startsWith('/') && p.length >= 2 && p.length <= 4096, `${where} "${p}" is absolute`);
  assert.ok(!p.includes('\0'), `${where} has no NUL`);
  assert.ok(!p.split('/').includes('..'), `${where} "${p}" has no ".." component`);
}

/** The documented bounds, by field name, checked on everything a schema lets through. */
function assertInBounds(value: unknown, where = 'params'): void {
  if (value === null || typeof value !== 'object') return;
  assert.ok(
    Array.isArray(value) || [Object.prototype, null].includes(Object.getPrototypeOf(value)),
    `${where} is a plain object`,
  );
  assert.ok(!Object.prototype.hasOwnProperty.call(value, '__proto__'), `${where} has no "__proto__" key`);
  for (const [key, v] of Object.entries(value)) {
    const at = `${where}.${key}`;
    switch (key) {
      case 'path':
      case 'binary':
        assertAbsolutePath(v, at);
        break;
      case 'source':
        if (typeof v === 'string' && v.startsWith('/')) assertAbsolutePath(v, at);
        else assert.ok(['trace_pipe', 'ringbuf', 'perf'].includes(v as string), `${at}: ${v}`);
        break;
      case 'programs':
        for (const p of v as unknown[]) assert.match(p as string, identifier, at);
        break;
      case 'program':
      case 'func':
        assert.match(v as string, identifier, at);
        break;
      case 'variables':
      case 'maxEntries':
      case 'attach':
        for (const [name, x] of Object.entries(v as object)) {
          assert.match(name, identifier, `${at} key`);
          if (key === 'variables') assert.ok(isHex(x), `${at}.${name}`);
          if (key === 'maxEntries') assert.ok(Number.isInteger(x) && x >= 1 && x <= 1 << 28, `${at}.${name}: ${x}`);
          if (key === 'attach') assertInBounds(x, `${at}.${name}`);
        }
        // A "__proto__" name must not reach the helper's lookups as the object's prototype.
        assert.equal(Object.getPrototypeOf(v), Object.prototype, `${at} is a plain object`);
        assert.ok(!Object.prototype.hasOwnProperty.call(v, '__proto__'), `${at} has no "__proto__" key`);
        // The keys of these records are the user's names, not fields: done.
        continue;
      case 'interface':
        assert.match(v as string, /^[A-Za-z0-9_.:@-]{1,15}$/, at);
        break;
      case 'mapId':
      case 'progId':
        assert.ok(isKernelId(v), `${at}: ${v}`);
        break;
      case 'key':
      case 'data':
      case 'expected':
        assert.ok(v === null || isHex(v), `${at}`);
        break;
      case 'value':
        // map/edit's value is a tagged object, checked field by field below.
        assert.ok(v === null || isHex(v) || (typeof v === 'object' && !Array.isArray(v)), `${at}`);
        break;
      case 'bytes':
        // events/ack: a byte count; map/edit: the value's bytes.
        if (typeof v === 'number') assert.ok(Number.isInteger(v) && v >= 0 && v <= 2 ** 32, `${at}: ${v}`);
        else assert.ok(isHex(v), at);
        break;
      case 'id':
        assert.ok(isKernelId(v), `${at}: ${v}`);
        break;
      case 'grant':
        // A kernel id, or for object/unload the load id.
        assert.ok(isKernelId(v) || /^[a-z0-9_-]{1,64}$/.test(v as string), `${at}: ${v}`);
        break;
      case 'cpu':
        assert.ok(Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 8191, `${at}: ${v}`);
        break;
      case 'window':
        assert.ok(
          Number.isInteger(v) && (v as number) >= 64 * 1024 && (v as number) <= 64 * 1024 * 1024,
          `${at}: ${v}`,
        );
        break;
      case 'mode':
        assert.ok(['add', 'edit', 'skb', 'drv', 'hw'].includes(v as string), `${at}: ${v}`);
        break;
      case 'loadId':
        assert.match(v as string, /^[a-z0-9_-]{1,64}$/, at);
        break;
      case 'count':
      case 'repeat':
        assert.ok(Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 1_000_000, `${at}: ${v}`);
        break;
      case 'pages':
        assert.ok(Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 1024, `${at}: ${v}`);
        break;
      case 'logLevel':
        assert.ok([0, 1, 2].includes(v as number), `${at}: ${v}`);
        break;
      case 'subscription':
      case 'pid':
        assert.ok(Number.isInteger(v) && (v as number) >= 1, `${at}: ${v}`);
        break;
      case 'offset':
        assert.ok(Number.isInteger(v) && (v as number) >= 0, `${at}: ${v}`);
        break;
      case 'clientName':
      case 'cursor':
        assert.ok(typeof v === 'string' && v.length <= 4096, at);
        break;
    }
    assertInBounds(v, at);
  }
}

describe('fuzz: helper argument validation (every *Params schema)', () => {
  it('has a valid example for every schema, and the examples parse', () => {
    assert.deepEqual(
      schemas.map(([name]) => name).filter((name) => !examples[name]),
      [],
      'schemas without examples',
    );
    for (const [name, schema] of schemas) for (const e of examples[name]) assertInBounds(schema.parse(e), name);
  });

  for (const [name, schema] of schemas) {
    it(`${name}: anything parses within bounds or fails with a ZodError the helper reports as BadInput`, () => {
      let refused = 0;
      const cases = fuzz(
        fc.oneof({ weight: 3, arbitrary: mutated(examples[name] ?? [{}]) }, { weight: 1, arbitrary: fc.anything() }),
        (raw) => {
          let parsed: unknown;
          try {
            parsed = schema.parse(raw);
          } catch (error) {
            assert.ok(error instanceof ZodError, `only ZodError, got ${error}`);
            const response = toResponseError(error);
            assert.equal(response.code, ErrorCodes.BadInput);
            assert.equal(response.data?.kind, 'BadInput');
            refused++;
            return;
          }
          assertInBounds(parsed, name);
        },
        { runs: 500, timeLimitMs: 500 },
      );
      console.log(`      ${refused} of ${cases} refused`);
    });
  }
});
