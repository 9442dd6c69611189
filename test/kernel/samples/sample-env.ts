// What the sample tests share: a helper started per file with the kernel compared before and after, a
// veth pair into a network namespace of the test's own (removed even when the test fails), a cgroup of
// its own, child processes that wait for a go signal, and decoders for maps and ring buffer records.
import { strict as assert } from 'assert';
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { HelperClient, HelperError } from '../../../extension/host/client/client';
import { LoadedSummary, Methods } from '../../../extension/protocol/methods';
import type { RecordsFrame } from '../../../extension/formats/frames';
import { recordText, splitRecords } from '../../../extension/formats/records';
import { cgroup2Mount } from '../../../extension/host/features/load/plan';
import {
  buildObject,
  eventually,
  expectKernelAsBefore,
  helperScript,
  isRoot,
  kernelObjects,
  KernelObjects,
  requireCapability,
  samplePath,
} from '../../support/kernel';

export { eventually, samplePath };
export { expectRefusal, u16le, u32le, u64le } from '../../support/helper-wire';

/** Starts a helper for one describe() block; unloads what a failed test left and checks the kernel after. */
export function sampleSuite(sample: string): { client: () => HelperClient; object: () => string } {
  let client: HelperClient | undefined;
  let baseline: KernelObjects | undefined;
  let object = '';
  before(async function () {
    requireCapability(this, isRoot(), 'the kernel tier loads BPF programs and needs root');
    assert.ok(fs.existsSync(helperScript), `${helperScript} is missing: run npm run build first`);
    object = await buildObject(samplePath(sample));
    baseline = kernelObjects();
    client = await HelperClient.start({ helperScript, elevation: 'auto', clientName: `sample-test-${sample}` });
  });
  afterEach(async function () {
    if (!client?.running) return;
    for (const load of await client.request(Methods.listLoaded))
      await client.request(Methods.unload, { loadId: load.loadId });
  });
  after(async function () {
    await client?.dispose();
    if (baseline) await expectKernelAsBefore(baseline);
  });
  return { client: () => client!, object: () => object };
}

export function mapId(load: LoadedSummary, name: string): number {
  const map = load.maps.find((m) => m.name === name);
  assert.ok(map, `the load has a map called ${name} (has ${load.maps.map((m) => m.name).join(', ')})`);
  return map.id;
}

/** The __u64 fields of a value (per-CPU values: summed over CPUs, each CPU's slot rounded up to 8). */
export function u64Fields(hex: string | null, fields: number, perCpuSlot?: number): bigint[] {
  const sums = new Array<bigint>(fields).fill(0n);
  if (hex === null) return sums;
  const bytes = Buffer.from(hex, 'hex');
  const slot = perCpuSlot ?? bytes.length;
  for (let at = 0; at + fields * 8 <= bytes.length; at += slot) {
    for (let f = 0; f < fields; f++) sums[f] += bytes.readBigUInt64LE(at + f * 8);
  }
  return sums;
}

export async function lookupFields(
  client: HelperClient,
  mapIdValue: number,
  key: string,
  fields: number,
  perCpu = false,
): Promise<bigint[]> {
  const { value } = await client.request(Methods.mapLookup, { mapId: mapIdValue, key });
  return u64Fields(value, fields, perCpu ? Math.ceil((fields * 8) / 8) * 8 : undefined);
}

/** The records of an events frame, as views into it. */
export function ringRecords(batch: RecordsFrame): Buffer[] {
  if (batch.kind !== 'events') return [];
  const index = splitRecords(batch.records);
  return Array.from({ length: index.count }, (_, i) =>
    batch.records.subarray(index.offsets[i], index.offsets[i] + index.lengths[i]),
  );
}

/** The lines of a trace lines frame. */
export function traceLines(batch: RecordsFrame): string[] {
  if (batch.kind !== 'lines') return [];
  const index = splitRecords(batch.records);
  return Array.from({ length: index.count }, (_, i) => recordText(batch.records, index, i));
}

export function cString(bytes: Buffer): string {
  const nul = bytes.indexOf(0);
  return bytes.subarray(0, nul < 0 ? bytes.length : nul).toString('utf8');
}

/** Collects ring buffer records (or trace lines) of one subscription until stop(). */
export async function collect(
  client: HelperClient,
  source: { source: 'ringbuf'; mapId: number } | { source: 'trace_pipe' },
) {
  const { subscription } = await client.request(Methods.subscribe, source);
  const records: Buffer[] = [];
  const lines: string[] = [];
  const listener = client.onEvents((batch) => {
    if (batch.subscription !== subscription) return;
    records.push(...ringRecords(batch));
    lines.push(...traceLines(batch));
    client.ackEvents(batch.subscription, batch.records.length);
  });
  return {
    records,
    lines,
    stop: async () => {
      listener.dispose();
      await client.request(Methods.unsubscribe, { subscription });
    },
  };
}

/** A short name unique to this test run, usable in interface names (at most 15 bytes with a prefix). */
export function uniqueTag(): string {
  return crypto.randomBytes(3).toString('hex');
}

/**
 * A veth pair: `host` lives in our namespace (where the helper attaches), `peer` inside a namespace
 * made for this test. Addresses are 10.250.N.1 (host) and 10.250.N.2 (peer), used only on this pair.
 */
export class VethPair {
  readonly namespace: string;
  readonly host: string;
  readonly peer: string;
  readonly hostAddress: string;
  readonly peerAddress: string;

  private constructor(tag: string, subnet: number) {
    this.namespace = `ebpf-studio-${tag}`;
    this.host = `esh${tag}`;
    this.peer = `esp${tag}`;
    this.hostAddress = `10.250.${subnet}.1`;
    this.peerAddress = `10.250.${subnet}.2`;
  }

  static create(): VethPair {
    const tag = uniqueTag();
    const pair = new VethPair(tag, parseInt(tag.slice(0, 2), 16));
    try {
      ip('netns', 'add', pair.namespace);
      ip('link', 'add', pair.host, 'type', 'veth', 'peer', 'name', pair.peer);
      ip('link', 'set', pair.peer, 'netns', pair.namespace);
      ip('addr', 'add', `${pair.hostAddress}/24`, 'dev', pair.host);
      ip('link', 'set', pair.host, 'up');
      pair.inside('ip', 'addr', 'add', `${pair.peerAddress}/24`, 'dev', pair.peer);
      pair.inside('ip', 'link', 'set', pair.peer, 'up');
      pair.inside('ip', 'link', 'set', 'lo', 'up');
    } catch (error) {
      pair.remove();
      throw error;
    }
    return pair;
  }

  /** Runs a command inside the namespace and returns its stdout. */
  inside(command: string, ...args: string[]): string {
    return execFileSync('ip', ['netns', 'exec', this.namespace, command, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** Sends `count` UDP datagrams of `size` bytes from inside the namespace to the host end. */
  sendUdp(port: number, count: number, size = 64): void {
    const script = `const s=require('dgram').createSocket('udp4');let n=0;const go=()=>{if(n++>=${count})return s.close();s.send(Buffer.alloc(${size},120),${port},'${this.hostAddress}',go)};go();`;
    this.inside(process.execPath, '-e', script);
  }

  /** Removes the pair and the namespace; safe to call twice and after a half-made setup. */
  remove(): void {
    for (const args of [
      ['link', 'del', this.host],
      ['netns', 'del', this.namespace],
    ]) {
      try {
        ip(...args);
      } catch {
        // Already gone (or never made).
      }
    }
  }
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Counts UDP datagrams arriving at address (on a free port of the kernel's choice) in this process. */
export async function udpListener(
  address: string,
): Promise<{ port: number; received: () => number; close: () => void }> {
  const dgram = await import('dgram');
  const socket = dgram.createSocket('udp4');
  let received = 0;
  socket.on('message', () => received++);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => resolve());
  });
  return { port: socket.address().port, received: () => received, close: () => socket.close() };
}

/** A cgroup v2 directory of this test, removed (after its processes left) by remove(). */
export class TestCgroup {
  readonly path: string;
  readonly id: bigint;

  private constructor(dir: string) {
    this.path = dir;
    this.id = BigInt(fs.statSync(dir, { bigint: true }).ino);
  }

  static create(): TestCgroup {
    const root = cgroup2Mount(fs.readFileSync('/proc/mounts', 'utf8'));
    assert.ok(root, 'cgroup v2 is mounted');
    const dir = path.join(root, `ebpf-studio-test-${uniqueTag()}`);
    fs.mkdirSync(dir);
    return new TestCgroup(dir);
  }

  add(pid: number): void {
    fs.writeFileSync(path.join(this.path, 'cgroup.procs'), String(pid));
  }

  async remove(): Promise<void> {
    // A cgroup can only be removed once empty; the test's children exit first.
    await eventually(() => {
      try {
        fs.rmdirSync(this.path);
        return true;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'ENOENT' ? true : undefined;
      }
    });
  }
}

/**
 * A child process that waits for "go" on stdin before running `script` (node), so a test can learn its
 * pid, move it into a cgroup or load a program for it, and then let it act.
 */
export class WaitingChild {
  readonly process: ChildProcess;
  private output = '';
  private readonly exited: Promise<number | null>;

  constructor(command: string, args: string[]) {
    this.process = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.process.stdout!.on('data', (d) => (this.output += d));
    this.process.stderr!.on('data', (d) => (this.output += d));
    this.exited = new Promise((resolve) => this.process.on('exit', (code) => resolve(code)));
  }

  static node(script: string): WaitingChild {
    const waiting = `process.stdin.once('data', () => { ${script}; process.stdin.destroy(); });`;
    return new WaitingChild(process.execPath, ['-e', waiting]);
  }

  get pid(): number {
    return this.process.pid!;
  }

  /** Lets the child act and waits until it has exited; returns its exit code and output. */
  async go(): Promise<{ code: number | null; output: string }> {
    this.process.stdin!.end('go\n');
    const code = await this.exited;
    return { code, output: this.output };
  }

  kill(): void {
    if (this.process.exitCode === null) this.process.kill('SIGKILL');
  }
}

export { HelperError };
