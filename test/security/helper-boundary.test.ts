// The helper runs as root: it is a security boundary. These tests speak raw JSON-RPC to it, as a
// hostile or buggy client would, and check that it accepts only its own methods with valid arguments,
// listens on nothing but its stdio, pins only under its own prefix and never runs a shell.
import { strict as assert } from 'assert';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import {
  createMessageConnection,
  MessageConnection,
  RequestType,
  ResponseError,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-jsonrpc/node';
import { BPFFS_PREFIX, Methods, PROTOCOL_VERSION } from '../../extension/protocol/methods';
import { ErrorCodes } from '../../extension/protocol/errors';
import {
  buildObject,
  helperScript,
  isRoot,
  expectKernelAsBefore,
  kernelObjects,
  KernelObjects,
  repoRoot,
  requireCapability,
  samplePath,
} from '../support/kernel';

async function rejection(promise: Promise<unknown>): Promise<ResponseError<{ kind: string; field?: string }>> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ResponseError, `expected a JSON-RPC error, got ${error}`);
    return error as ResponseError<{ kind: string; field?: string }>;
  }
  assert.fail('the helper accepted what it must refuse');
}

function bpffsEntries(dir = '/sys/fs/bpf'): string[] {
  return fs.readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return fs.statSync(full).isDirectory() ? [full, ...bpffsEntries(full)] : [full];
  });
}

describe('helper security boundary', function () {
  let child: ChildProcess;
  let connection: MessageConnection;
  let baseline: KernelObjects;

  before(async function () {
    requireCapability(this, isRoot(), 'the helper runs as root; testing its boundary needs root');
    baseline = kernelObjects();
    child = spawn(process.execPath, [helperScript], { stdio: ['pipe', 'pipe', 'inherit'] });
    connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    connection.listen();
  });

  after(async function () {
    connection?.dispose();
    child?.stdin?.end();
    if (child && child.exitCode === null) await new Promise((r) => child.once('exit', r));
    if (baseline) await expectKernelAsBefore(baseline);
  });

  it('answers nothing before the version handshake', async () => {
    const error = await rejection(connection.sendRequest(Methods.listLoaded));
    assert.equal(error.data?.kind, 'BadInput');
    const mismatch = await rejection(
      connection.sendRequest(Methods.initialize, { protocolVersion: PROTOCOL_VERSION + 1, clientName: 'x' }),
    );
    assert.match(mismatch.message, /Protocol mismatch/);
    await connection.sendRequest(Methods.initialize, {
      protocolVersion: PROTOCOL_VERSION,
      clientName: 'security-test',
    });
  });

  it('accepts only its own methods', async () => {
    for (const method of ['exec', 'shell/run', 'fs/readFile', '$/setTrace/../exec']) {
      const error = await rejection(
        connection.sendRequest(new RequestType<unknown, unknown, void>(method), { command: 'id' }),
      );
      assert.equal(error.code, -32601, `${method} is not a method`);
    }
  });

  it('validates every argument before it reaches the kernel', async () => {
    const cases: [string, Promise<unknown>, RegExp][] = [
      ['relative path', connection.sendRequest(Methods.describe, { path: 'fork_trace.bpf.o' }), /absolute path/],
      ['dot-dot path', connection.sendRequest(Methods.load, { path: '/tmp/../etc/shadow' }), /without "\.\."/],
      ['load id traversal', connection.sendRequest(Methods.unload, { loadId: '../../../etc' }), /load id/],
      ['non-hex key', connection.sendRequest(Methods.mapLookup, { mapId: 1, key: 'zz' }), /hex bytes/],
      ['negative map id', connection.sendRequest(Methods.mapLookup, { mapId: -1, key: '00' }), /mapId/],
      [
        'interface with a slash',
        connection.sendRequest(Methods.load, { path: '/x.o', attach: { p: { kind: 'xdp', interface: '../lo' } } }),
        /interface/,
      ],
      [
        'unknown attach kind',
        connection.sendRequest(Methods.load, { path: '/x.o', attach: { p: { kind: 'kernel_module' } } } as never),
        /attach/,
      ],
      [
        'program name injection',
        connection.sendRequest(Methods.load, { path: '/x.o', programs: ['a; rm -rf /'] }),
        /C identifier/,
      ],
    ];
    for (const [what, request, message] of cases) {
      const error = await rejection(request);
      assert.equal(error.code, ErrorCodes.BadInput, what);
      assert.match(error.message, message, what);
    }
  });

  it('refuses a cgroup path outside the cgroup v2 hierarchy', async () => {
    const object = await buildObject(path.join(repoRoot, 'test', 'kernel', 'fixtures', 'xdp_pass.bpf.c'));
    const error = await rejection(
      connection.sendRequest(Methods.load, { path: object, attach: { pass_all: { kind: 'cgroup', path: '/etc' } } }),
    );
    assert.equal(error.data?.kind, 'BadInput');
    assert.match(error.message, /not a cgroup v2 directory/);
    await expectKernelAsBefore(baseline);
  });

  it('listens on no socket: its only peer is the parent on stdio', () => {
    const fds = fs.readdirSync(`/proc/${child.pid}/fd`).map((fd) => {
      try {
        return fs.readlinkSync(`/proc/${child.pid}/fd/${fd}`);
      } catch {
        return '';
      }
    });
    const inodes = new Set(fds.filter((l) => l.startsWith('socket:')).map((l) => l.slice('socket:['.length, -1)));
    const ownedBy = (proto: string) =>
      fs
        .readFileSync(`/proc/net/${proto}`, 'utf8')
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f.some((x) => inodes.has(x)));
    const inet = ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6'].flatMap(ownedBy);
    assert.deepEqual(inet, [], 'the helper has no TCP, UDP or raw socket');
    // Node's stdio pipes are connected, unnamed unix socket pairs; anything bound or listening is not.
    const unix = ownedBy('unix').map(([, , , flags, , state, , name]) => ({ flags, state, name }));
    assert.deepEqual(
      unix.filter((u) => u.flags !== '00000000' || u.state !== '03' || u.name),
      [],
      'no bound or listening unix socket',
    );
  });

  it('pins only under its own prefix', async () => {
    const outside = new Set(bpffsEntries().filter((e) => !e.startsWith(BPFFS_PREFIX)));
    const object = await buildObject(samplePath('fork_trace'));
    const loaded = await connection.sendRequest(Methods.load, { path: object });
    await connection.sendRequest(Methods.pin, { loadId: loaded.loadId });
    const after = bpffsEntries();
    assert.deepEqual(
      after.filter((e) => !e.startsWith(BPFFS_PREFIX) && !outside.has(e)),
      [],
    );
    assert.ok(after.some((e) => e.startsWith(path.join(BPFFS_PREFIX, loaded.loadId) + '/prog_')));
    await connection.sendRequest(Methods.unload, { loadId: loaded.loadId });
    assert.ok(!fs.existsSync(path.join(BPFFS_PREFIX, loaded.loadId)));
  });

  it('never runs a shell: only system.ts (mount(8)) and bpftrace.ts (/usr/bin/bpftrace) start processes, by absolute path', () => {
    const helperDir = path.join(repoRoot, 'extension', 'helper');
    // The client side (client.ts, elevation.ts) runs in the extension host, not in the helper.
    const helperFiles = [
      ...fs
        .readdirSync(helperDir)
        .filter((f) => f.endsWith('.ts') && !/^(client|elevation)\.ts$/.test(f))
        .map((f) => path.join(helperDir, f)),
      path.join(repoRoot, 'native', 'index.ts'),
    ];
    const importers = helperFiles.filter((file) =>
      /from 'child_process'|require\('child_process'\)/.test(fs.readFileSync(file, 'utf8')),
    );
    assert.deepEqual(importers.map((f) => path.basename(f)).sort(), ['bpftrace.ts', 'system.ts']);
    // bpftrace runs only as /usr/bin/bpftrace, through spawn/execFile with an argument list.
    const bpftrace = fs.readFileSync(path.join(helperDir, 'bpftrace.ts'), 'utf8');
    assert.match(bpftrace, /^export const BPFTRACE = '\/usr\/bin\/bpftrace';$/m);
    assert.deepEqual(
      bpftrace.match(/\b(spawn|execFile)\(\s*([A-Za-z_'/]+)/g)?.map((m) => m.replace(/\s+/g, ' ')),
      ['spawn(BPFTRACE', 'execFile( BPFTRACE'],
    );
    const system = fs.readFileSync(path.join(helperDir, 'system.ts'), 'utf8');
    assert.match(system, /^import \{ execFile \} from 'child_process';$/m, 'only execFile, which runs no shell');
    assert.deepEqual(system.match(/\brun\([^)]*\)/g), ["run('/bin/mount', ['-t', type, type, target])"]);
    assert.ok(
      !helperFiles.some((file) => /shell:\s*true/.test(fs.readFileSync(file, 'utf8'))),
      'no shell: true anywhere',
    );
  });
});
