// `ebpf-studio`: the headless face of eBPF Studio. `check` runs the editor's build+verify and prints
// compiler-style diagnostics (for CI); the other commands drive the same helper the extension uses.
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { checkSource, formatDiagnostic, verifyObject } from './toolchain/verify';
import { MissingToolError } from './toolchain/toolchain';
import { HelperClient, HelperError, HelperStartError } from './host/client/client';
import { AttachRequest, Methods } from './protocol/methods';
import { buildAyaCrate } from './toolchain/cargo-build';

const usage = `Usage: ebpf-studio <command> [options]

Commands:
  check [-I DIR]... [-D NAME[=VALUE]]... [--no-verify] FILE...
        Build each BPF C file with clang (a .bpf.o is taken as built) and have the kernel's verifier
        check every program (nothing is attached). Prints file:line:col: error: message; exits 1 on any failure.
  describe FILE.bpf.o         Programs, maps and globals of an object, without loading it.
  load FILE [--program NAME]... [--attach NAME=SPEC]... [--set VAR=HEX]...
        Load (building .bpf.c first) and attach; pinned under /sys/fs/bpf/ebpf-studio so it stays
        after the command ends. SPEC: xdp:IFACE, tc:IFACE:ingress|egress, cgroup:PATH,
        socket:IFACE, uprobe:BINARY:FUNC, uretprobe:BINARY:FUNC, none.
  list                        What eBPF Studio loaded (pinned loads).
  unload LOAD_ID              Unload one of them.
  programs | maps | links     Everything in the kernel, as JSON.
  capabilities                What this kernel accepts, probed by loading tiny programs.
  build-ebpf [CRATE]          Build an aya eBPF crate (cargo +nightly, build-std, bpfel-unknown-none,
        bpf-linker); says what is missing and how to install it first.

Options:
  --elevation auto|sudo|pkexec|none   How to start the privileged helper (default auto).
  --json                              Machine-readable output.`;

function helperScript(): string {
  return path.join(__dirname, 'helper.js');
}

async function withHelper<T>(elevation: string, use: (client: HelperClient) => Promise<T>): Promise<T> {
  const client = await HelperClient.start({ helperScript: helperScript(), elevation, clientName: 'ebpf-studio-cli' });
  try {
    return await use(client);
  } finally {
    await client.dispose();
  }
}

export function parseAttachSpec(spec: string): [string, AttachRequest] {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new Error(`--attach takes NAME=SPEC, got "${spec}"`);
  const program = spec.slice(0, eq);
  const [kind, ...rest] = spec.slice(eq + 1).split(':');
  switch (kind) {
    case 'xdp':
      return [program, { kind: 'xdp', interface: rest[0] }];
    case 'tc':
      return [program, { kind: 'tc', interface: rest[0], direction: rest[1] === 'egress' ? 'egress' : 'ingress' }];
    case 'cgroup':
      return [program, { kind: 'cgroup', path: rest.join(':') }];
    case 'socket':
      return [program, { kind: 'socket', interface: rest[0] }];
    case 'uprobe':
    case 'uretprobe':
      return [program, { kind: 'uprobe', binary: rest[0], func: rest[1], retprobe: kind === 'uretprobe' }];
    case 'none':
      return [program, { kind: 'none' }];
    default:
      throw new Error(`unknown attach kind "${kind}" in --attach ${spec}`);
  }
}

async function check(files: string[], values: Record<string, unknown>): Promise<number> {
  if (files.length === 0) throw new Error('check: name at least one BPF C file');
  const includeDirs = (values.include as string[] | undefined) ?? [];
  const defines = (values.define as string[] | undefined) ?? [];
  const run = async (client: HelperClient | undefined) => {
    let failed = 0;
    for (const file of files) {
      const verifier =
        client &&
        ((objectPath: string, source: string, dirs: string[]) => verifyObject(client, objectPath, source, dirs));
      const result = await checkSource(verifier, path.resolve(file), {
        includeDirs,
        defines,
        outDir: path.join(os.tmpdir(), 'ebpf-studio-check'),
      });
      for (const d of result.diagnostics) console.log(formatDiagnostic(d));
      const bad = result.diagnostics.some((d) => d.severity === 'error');
      if (bad) failed++;
      if (values.json)
        console.log(JSON.stringify({ ...result, programs: result.programs.map((p) => ({ ...p, log: undefined })) }));
      else if (!bad) {
        const verified = result.programs.map((p) =>
          p.status === 'verified' ? `${p.program} (${p.stats.insnsProcessed ?? '?'} insns)` : p.program,
        );
        const outcome = !client
          ? ' (built; not verified)'
          : verified.length > 0
            ? `, verified: ${verified.join(', ')}`
            : ' (no programs to verify)';
        console.error(`${file}: ok${outcome}`);
      }
    }
    return failed === 0 ? 0 : 1;
  };
  return values['no-verify'] ? run(undefined) : withHelper(values.elevation as string, run);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      include: { type: 'string', short: 'I', multiple: true },
      define: { type: 'string', short: 'D', multiple: true },
      program: { type: 'string', multiple: true },
      attach: { type: 'string', multiple: true },
      set: { type: 'string', multiple: true },
      elevation: { type: 'string', default: 'auto' },
      json: { type: 'boolean' },
      'no-verify': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...args] = positionals;
  if (!command || values.help) {
    console.log(usage);
    return command || values.help ? 0 : 2;
  }
  const elevation = values.elevation as string;
  const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));
  switch (command) {
    case 'check':
      return check(args, values);
    case 'describe':
      return withHelper(
        elevation,
        async (c) => (print(await c.request(Methods.describe, { path: path.resolve(args[0] ?? '') })), 0),
      );
    case 'load': {
      let object = path.resolve(args[0] ?? '');
      if (object.endsWith('.c')) {
        const result = await checkSource(undefined, object, { includeDirs: values.include as string[] | undefined });
        result.diagnostics.forEach((d) => console.error(formatDiagnostic(d)));
        if (!result.built) return 1;
        object = result.objectPath!;
      }
      const attach = Object.fromEntries(((values.attach as string[] | undefined) ?? []).map(parseAttachSpec));
      const variables = Object.fromEntries(
        ((values.set as string[] | undefined) ?? []).map((s) => s.split('=', 2) as [string, string]),
      );
      return withHelper(elevation, async (c) => {
        const loaded = await c.request(Methods.load, {
          path: object,
          programs: values.program as string[] | undefined,
          attach,
          variables,
        });
        const pinned = await c.request(Methods.pin, { loadId: loaded.loadId });
        if (values.json) print(pinned);
        else {
          console.log(`loaded ${pinned.loadId} (pinned under ${c.info.bpffsPrefix}/${pinned.loadId})`);
          for (const p of pinned.programs)
            console.log(
              `  ${p.name} [${p.type}] id ${p.id}: ${p.attachment?.description ?? p.attachNote ?? 'not attached'}`,
            );
        }
        return 0;
      });
    }
    case 'list':
      return withHelper(elevation, async (c) => (print(await c.request(Methods.listLoaded)), 0));
    case 'unload':
      return withHelper(elevation, async (c) => (await c.request(Methods.unload, { loadId: args[0] ?? '' }), 0));
    case 'programs':
      return withHelper(elevation, async (c) => (print(await c.request(Methods.programs)), 0));
    case 'maps':
      return withHelper(elevation, async (c) => (print(await c.request(Methods.maps)), 0));
    case 'links':
      return withHelper(elevation, async (c) => (print(await c.request(Methods.links)), 0));
    case 'capabilities':
      return withHelper(elevation, async (c) => (print(await c.request(Methods.capabilities)), 0));
    case 'build-ebpf':
      return buildAyaCrate(path.resolve(args[0] ?? '.'));
    default:
      console.error(`ebpf-studio: unknown command "${command}"\n\n${usage}`);
      return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      // Every failure a user can cause has a message of its own; no stack traces.
      const known =
        error instanceof HelperError || error instanceof HelperStartError || error instanceof MissingToolError;
      console.error(`ebpf-studio: ${known ? error.message : ((error as Error).message ?? String(error))}`);
      if (!known && process.env.EBPF_STUDIO_DEBUG) console.error(error);
      process.exit(1);
    },
  );
}
