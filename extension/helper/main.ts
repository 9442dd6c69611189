// The privileged helper process: the only code that loads the native addon. It speaks JSON-RPC on its
// stdio to the process that started it and to nothing else, validates every argument with the protocol's
// schemas, and exits (releasing everything not pinned) when its parent goes away.
import './installed-env';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createMessageConnection } from 'vscode-jsonrpc/node';
import type { RequestType, RequestType0 } from 'vscode-jsonrpc';
import { z } from 'zod';
import { loadNative } from '../../native';
import type { MapHandle, NativeAddon } from '../../native/types';
import { callTargetNames } from '../formats/kallsyms';
import { encodeFrame, Frame } from '../formats/frames';
import { FramedMessageReader, FramedMessageWriter } from '../formats/framed-stream';
import { HelperFailure, toResponseError } from './errors';
import { faultPoint } from './faults';
import { probeCapabilities } from './probes';
import {
  BPFFS_PREFIX,
  DescribeParams,
  EventsAckParams,
  InitializeParams,
  InitializeResult,
  LoadIdParams,
  LoadParams,
  MapDumpParams,
  MapEditParams,
  MapIdParams,
  MapKeyParams,
  MapNextKeyParams,
  MapUpdateParams,
  Methods,
  Notifications,
  PROTOCOL_VERSION,
  StatsParams,
  StructTypesParams,
  SubscribeParams,
  TestRunParams,
  InstructionsParams,
  UnsubscribeParams,
  VerifierLogParams,
  Capability,
} from '../protocol/methods';
import { BpftraceScriptParams, BpftraceRunIdParams } from '../protocol/bpftrace';
import { MapPages, withOpenMap } from './map-pages';
import { editEntry } from './map-edit';
import { Registry } from './registry';
import { Subscriptions } from './subscriptions';
import { ensureBpffs, ensureFilesystems, processIsPrivileged, tracefsRoot, withObjectFile } from './system';
import { scanOwners } from './owners';
import { Ownership } from './ownership';
import { Sessions } from './sessions';
import { BpftraceRuns } from './bpftrace';

const UPDATE_FLAGS = { any: 0, noexist: 1, exist: 2 } as const;

function startHelper(): void {
  // stdout carries the protocol: anything else printed there would corrupt it.
  console.log = console.info = console.warn = console.error;
  if (process.stdin.isTTY) {
    console.error(
      'eBPF Studio helper: speaks JSON-RPC on stdin/stdout to the extension; it is not for interactive use.',
    );
    process.exit(2);
  }

  if (!processIsPrivileged()) {
    console.error(
      'eBPF Studio helper: not privileged: loading BPF programs needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN).',
    );
    process.exit(4);
  }

  let native: NativeAddon;
  try {
    native = loadNative();
  } catch (error) {
    console.error(`eBPF Studio helper: ${(error as Error).message}`);
    process.exit(3);
  }

  // JSON-RPC for control, binary frames for bulk bytes, on the same stdio (formats/frames.ts). Nothing the
  // client sends is bigger than a few MiB of hex: refuse anything larger before allocating it.
  const writer = new FramedMessageWriter(process.stdout);
  const connection = createMessageConnection(
    new FramedMessageReader(process.stdin, { maxMessageBytes: 16 * 1024 * 1024 }),
    writer,
  );
  const sessions = new Sessions();
  const registry = new Registry(native, sessions);
  const sendFrame = (frame: Frame) => writer.writeFrame(encodeFrame(frame));
  const subscriptions = new Subscriptions(
    native,
    sendFrame,
    (message) => void connection.sendNotification(Notifications.log, { level: 'warn', message }),
    () => os.cpus().length,
  );
  const ownership = new Ownership(native, {
    owned: () => registry.ownedIds(),
    sessions,
    tracePipe: () => path.join(tracefsRoot(), 'trace_pipe'),
  });
  const bpftraceRuns = new BpftraceRuns((n) => void connection.sendNotification(Notifications.bpftrace, n));
  let statsHandle: { close(): void } | undefined;
  let capabilities: Promise<Record<string, Capability>> | undefined;
  let initialized = false;

  const shutdown = (code: number) => {
    subscriptions.closeAll();
    ownership.clearSubscriptions();
    sessions.unregister();
    bpftraceRuns.killAll();
    registry.closeAll();
    statsHandle?.close();
    // The prefix is ours: leave no empty directory behind when nothing is pinned.
    try {
      fs.rmdirSync(BPFFS_PREFIX);
    } catch {
      // Not empty (pins live on) or already gone.
    }
    process.exit(code);
  };

  /** Registers a method whose params must parse with `schema` before the handler sees them. */
  function handle<S extends z.ZodTypeAny, R>(
    type: RequestType<z.input<S>, R, void>,
    schema: S,
    handler: (params: z.infer<S>) => R | Promise<R>,
  ): void {
    connection.onRequest(type, async (raw: unknown) => {
      try {
        if (!initialized)
          throw new HelperFailure(
            { kind: 'BadInput', field: 'method', reason: 'initialize first' },
            'The helper was not initialized.',
          );
        return await handler(schema.parse(raw));
      } catch (error) {
        return toResponseError(error);
      }
    });
  }

  function handle0<R>(type: RequestType0<R, void>, handler: () => R | Promise<R>): void {
    connection.onRequest(type, async () => {
      try {
        if (!initialized)
          throw new HelperFailure(
            { kind: 'BadInput', field: 'method', reason: 'initialize first' },
            'The helper was not initialized.',
          );
        return await handler();
      } catch (error) {
        return toResponseError(error);
      }
    });
  }

  const withMap = <R>(mapId: number, use: (map: MapHandle) => R): R => withOpenMap(native, mapId, use);

  connection.onRequest(
    Methods.initialize,
    async (raw: unknown): Promise<InitializeResult | ReturnType<typeof toResponseError>> => {
      try {
        const params = InitializeParams.parse(raw);
        if (params.protocolVersion !== PROTOCOL_VERSION) {
          throw new HelperFailure(
            { kind: 'BadInput', field: 'protocolVersion', reason: `helper speaks ${PROTOCOL_VERSION}` },
            `Protocol mismatch: the client speaks ${params.protocolVersion}, this helper ${PROTOCOL_VERSION}.`,
          );
        }
        const mounts = await ensureFilesystems();
        fs.mkdirSync(BPFFS_PREFIX, { recursive: true, mode: 0o700 });
        sessions.register(params.session, params.clientName);
        registry.rediscover(true);
        const released = registry.adoptHandoff(params.adopt ?? false);
        initialized = true;
        return {
          protocolVersion: PROTOCOL_VERSION,
          pid: process.pid,
          uid: process.getuid?.() ?? -1,
          kernelRelease: os.release(),
          libbpfVersion: native.libbpfVersion(),
          bpffsPrefix: BPFFS_PREFIX,
          mounts,
          released,
        };
      } catch (error) {
        return toResponseError(error);
      }
    },
  );

  handle0(
    Methods.capabilities,
    () => (capabilities ??= probeCapabilities(native, path.join(__dirname, 'probes.bpf.o'))),
  );
  handle(Methods.describe, DescribeParams, (p) => registry.describe(p.path));
  handle(Methods.load, LoadParams, (p) => registry.load(p));
  handle(Methods.unload, LoadIdParams, (p) => registry.unload(p.loadId, p.grant));
  handle(Methods.pin, LoadIdParams, async (p) => {
    await ensureBpffs();
    return registry.pin(p.loadId);
  });
  handle0(Methods.listLoaded, () => registry.list());
  handle(Methods.verifierLog, VerifierLogParams, (p) => ({ log: registry.verifierLog(p.loadId, p.program) }));
  handle0(Methods.programs, () => native.listPrograms());
  handle0(Methods.maps, () => native.listMaps());
  handle0(Methods.links, () => native.listLinks());
  handle(Methods.setStats, StatsParams, (p) => {
    if (p.enabled && !statsHandle) statsHandle = native.enableStats();
    if (!p.enabled && statsHandle) {
      statsHandle.close();
      statsHandle = undefined;
    }
    return { enabled: statsHandle !== undefined };
  });
  handle(Methods.mapLookup, MapKeyParams, (p) =>
    withMap(p.mapId, (map) => ({ value: map.lookup(Buffer.from(p.key, 'hex'))?.toString('hex') ?? null })),
  );
  handle(Methods.mapUpdate, MapUpdateParams, (p) => {
    ownership.checkMapWrite(p.mapId, p.grant, 'update');
    withMap(p.mapId, (map) => {
      faultPoint('map:update');
      map.update(Buffer.from(p.key, 'hex'), Buffer.from(p.value, 'hex'), UPDATE_FLAGS[p.flags]);
    });
  });
  handle(Methods.mapDelete, MapKeyParams, (p) => {
    ownership.checkMapWrite(p.mapId, p.grant, 'delete');
    return withMap(p.mapId, (map) => ({ deleted: map.delete(Buffer.from(p.key, 'hex')) }));
  });
  handle(Methods.mapNextKey, MapNextKeyParams, (p) =>
    withMap(p.mapId, (map) => ({
      key: map.nextKey(p.key === null ? null : Buffer.from(p.key, 'hex'))?.toString('hex') ?? null,
    })),
  );
  const mapPages = new MapPages(native, sendFrame);
  handle(Methods.mapDump, MapDumpParams, (p) => mapPages.dump(p));
  handle(Methods.mapEdit, MapEditParams, (p) => {
    ownership.checkMapWrite(p.mapId, p.grant, 'update');
    return editEntry(native, p);
  });
  handle(Methods.mapTypes, MapIdParams, (p) => withMap(p.mapId, (map) => map.btfTypes()));
  handle(Methods.subscribe, SubscribeParams, (p) => {
    ownership.checkSubscribe(p);
    let subscription: number;
    try {
      subscription = subscriptions.subscribe(p);
    } catch (error) {
      ownership.failed(p);
      throw error;
    }
    ownership.subscribed(p, subscription);
    return { subscription };
  });
  handle(Methods.unsubscribe, UnsubscribeParams, (p) => {
    subscriptions.unsubscribe(p.subscription);
    ownership.unsubscribed(p.subscription);
  });
  connection.onNotification(Notifications.eventsAck, (raw: unknown) => {
    const p = EventsAckParams.safeParse(raw);
    if (initialized && p.success) subscriptions.ack(p.data.subscription, p.data.bytes);
  });
  handle(Methods.testRun, TestRunParams, (p) => {
    ownership.checkTestRun(p.progId, p.grant);
    const result = native.testRun(p.progId, Buffer.from(p.data, 'hex'), p.repeat);
    return { retval: result.retval, data: result.dataOut.toString('hex'), durationNs: result.durationNs };
  });
  handle(Methods.structTypes, StructTypesParams, (p) =>
    withObjectFile(p.path, async (copy) => {
      try {
        return await native.structTypesAsync(copy);
      } catch (error) {
        throw new HelperFailure(
          { kind: 'BadInput', field: 'path', reason: (error as Error).message },
          `${p.path} has no readable BTF: ${(error as Error).message}`,
        );
      }
    }),
  );
  handle0(Methods.owners, () => scanOwners());
  handle0(Methods.handoff, () => ({ loadIds: registry.handoff() }));
  handle(Methods.instructions, InstructionsParams, (p) => {
    const insns = native.programInstructions(p.progId);
    // Helper calls (code 0x85, src_reg 0) name kernel functions by address: resolve them from kallsyms.
    const imms: number[] = [];
    for (let at = 0; at + 8 <= insns.xlated.length; at += 8) {
      if (insns.xlated[at] === 0x85 && (insns.xlated[at + 1] & 0xf0) === 0) imms.push(insns.xlated.readInt32LE(at + 4));
    }
    let callTargets: Record<string, string> = {};
    try {
      if (imms.length > 0) callTargets = callTargetNames(fs.readFileSync('/proc/kallsyms', 'utf8'), imms);
    } catch {
      // Without kallsyms the disassembly shows call addresses instead of names.
    }
    const { xlated, jited, ...rest } = insns;
    return {
      ...rest,
      xlated: xlated.toString('base64'),
      jited: jited.toString('base64'),
      callTargets,
      arch: process.arch,
    };
  });
  handle(Methods.bpftraceRun, BpftraceScriptParams, (p) => bpftraceRuns.run(p.path));
  handle(Methods.bpftraceStop, BpftraceRunIdParams, (p) => bpftraceRuns.stop(p.run));
  handle0(Methods.bpftraceList, () => bpftraceRuns.list());
  handle(Methods.bpftraceCheck, BpftraceScriptParams, (p) => bpftraceRuns.check(p.path));
  connection.onRequest(Methods.shutdown, () => {
    // Answer first, then release everything and exit.
    setImmediate(() => shutdown(0));
  });

  // The parent is the only peer: when it closes our stdin (or dies), we are done.
  connection.onClose(() => shutdown(0));
  process.stdin.on('end', () => shutdown(0));
  process.on('SIGTERM', () => shutdown(0));
  process.on('SIGHUP', () => shutdown(0));
  connection.listen();
}

startHelper();
