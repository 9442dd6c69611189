// `ebpf-studio`: the headless face of eBPF Studio. `check` runs the editor's build+verify and prints
// compiler-style diagnostics (for CI); the other commands drive the same helper the extension uses.
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import * as fs from 'fs';
import { CheckResult, checkSource, formatDiagnostic, ProgramVerdict, verifyObject } from './toolchain/verify';
import {
  compareStats,
  formatComparison,
  formatStats,
  parseThreshold,
  programStats,
  StatsFile,
} from './toolchain/stats';
import { MissingToolError } from './toolchain/toolchain';
import { HelperClient, HelperError, HelperStartError } from './host/client/client';
import { AttachRequest, Methods } from './protocol/methods';
import { buildAyaCrate } from './toolchain/cargo-build';
import { HelperInstallError, useInstallRoot } from './host/client/installed';
import { installHelper, uninstallHelper } from './host/client/install';

const usage = `Usage: ebpf-studio <command> [options]

Commands:
  check [-I DIR]... [-D NAME[=VALUE]]... [-G NAME=VALUE]... [--no-verify] FILE...
        Build each BPF C file with clang (a .bpf.o is taken as built) and have the kernel's verifier
        check every program (nothing is attached). Prints file:line:col: error: message, then one
        verdict per program at its SEC line; exits 1 on any error. Programs this kernel cannot verify
        (type refused, attach target missing) are set aside with a warning; maps sized by the loader
        are verified with a placeholder size. -G sets a global (const volatile) for verification.
        --stats                 per program: verdict, insns processed, states, peak states, stack,
                                verification time, JITed size
        --stats-json FILE       write those statistics as JSON
        --compare BASE.json     deltas against an earlier --stats-json, programs added and removed,
                                verdict changes; with --fail-above 10% (or an absolute 500) exits 1
                                on a regression beyond it
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
  install-helper [--rule sudoers|polkit] [--user NAME] [--runtime PATH]
        Install the privileged helper, root-owned, in /usr/local/lib/ebpf-studio/<version>/ (asks for
        sudo or pkexec unless run as root), with a sudoers rule for NAME (default: you) or a polkit
        action naming only it. Elevation (not as root) runs only that installed copy.
  uninstall-helper            Remove every installed helper and the rules naming it.

Options:
  --elevation auto|sudo|pkexec|none   How to start the privileged helper (default auto).
  --json                              Machine-readable output.
  --install-root DIR                  Where installed helpers are (default /usr/local/lib/ebpf-studio).`;

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

/** `file:line: program: verdict`, one per program, at its SEC line. */
export function formatVerdict(v: ProgramVerdict, cwd = process.cwd()): string {
  const file = path.relative(cwd, v.file) || v.file;
  const what =
    v.status === 'verified'
      ? `verified (${v.stats.insnsProcessed ?? '?'} insns processed)`
      : v.status === 'rejected'
        ? `rejected: ${v.message.split('\n')[0]}`
        : v.status === 'refused'
          ? `not verified on this kernel: ${v.message}`
          : v.message.startsWith('not verified')
            ? v.message
            : `not verified: ${v.message}`;
  return `${file}:${v.line}: ${v.program}: ${what}`;
}

/** -G NAME=VALUE, as veristat's: a global's value for verification. */
function parseGlobals(specs: string[]): Record<string, string> {
  const globals: Record<string, string> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new Error(`-G takes NAME=VALUE, got "${spec}"`);
    globals[spec.slice(0, eq).trim()] = spec.slice(eq + 1);
  }
  return globals;
}

function readStatsFile(file: string): StatsFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`--compare ${file}: ${(error as Error).message}`, { cause: error });
  }
  const parsed = StatsFile.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`--compare ${file}: not a file written by check --stats-json`);
  return parsed.data;
}

async function check(files: string[], values: Record<string, unknown>): Promise<number> {
  if (files.length === 0) throw new Error('check: name at least one BPF C file');
  const includeDirs = (values.include as string[] | undefined) ?? [];
  const defines = (values.define as string[] | undefined) ?? [];
  const globals = parseGlobals((values.global as string[] | undefined) ?? []);
  const threshold = values['fail-above'] !== undefined ? parseThreshold(values['fail-above'] as string) : undefined;
  if (threshold && !values.compare) throw new Error('--fail-above needs --compare BASE.json');
  // Read the base first: a typo in its name must not cost a whole verification run.
  const base = values.compare ? readStatsFile(values.compare as string) : undefined;
  const wantStats = Boolean(values.stats || values['stats-json'] || base);
  if (wantStats && values['no-verify']) throw new Error('--stats, --stats-json and --compare need verification');
  const run = async (client: HelperClient | undefined) => {
    let failed = 0;
    const results: CheckResult[] = [];
    for (const file of files) {
      const verifier =
        client &&
        ((objectPath: string, source: string, dirs: string[]) =>
          verifyObject(client, objectPath, source, dirs, { globals }));
      const result = await checkSource(verifier, path.resolve(file), {
        includeDirs,
        defines,
        outDir: path.join(os.tmpdir(), 'ebpf-studio-check'),
      });
      results.push(result);
      for (const d of result.diagnostics) console.log(formatDiagnostic(d));
      if (!values.json) for (const v of result.programs) console.log(formatVerdict(v));
      const bad = result.diagnostics.some((d) => d.severity === 'error');
      if (bad) failed++;
      if (values.json)
        console.log(JSON.stringify({ ...result, programs: result.programs.map((p) => ({ ...p, log: undefined })) }));
      else if (!bad) {
        const verified = result.programs.flatMap((p) =>
          p.status === 'verified' ? [`${p.program} (${p.stats.insnsProcessed ?? '?'} insns)`] : [],
        );
        const setAside = result.programs.filter((p) => p.status !== 'verified').map((p) => p.program);
        const outcome = !client
          ? ' (built; not verified)'
          : verified.length > 0
            ? `, verified: ${verified.join(', ')}`
            : result.programs.length > 0
              ? ''
              : ' (no programs to verify)';
        const aside = setAside.length > 0 ? `; not verified on this kernel: ${setAside.join(', ')}` : '';
        console.error(`${file}: ok${outcome}${aside}`);
      }
    }
    if (wantStats) {
      const rows = programStats(results);
      if (values.stats) console.log(formatStats(rows));
      if (values['stats-json']) {
        const out: StatsFile = { tool: 'ebpf-studio', version: 1, kernel: os.release(), programs: rows };
        fs.writeFileSync(values['stats-json'] as string, JSON.stringify(out, null, 2) + '\n');
      }
      if (base) {
        const comparison = compareStats(base, rows, threshold);
        console.log(formatComparison(comparison));
        if (comparison.regressions > 0) {
          console.error(`ebpf-studio: ${comparison.regressions} program(s) regressed beyond ${values['fail-above']}`);
          return 1;
        }
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
      global: { type: 'string', short: 'G', multiple: true },
      stats: { type: 'boolean' },
      'stats-json': { type: 'string' },
      compare: { type: 'string' },
      'fail-above': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      'install-root': { type: 'string' },
      rule: { type: 'string' },
      user: { type: 'string' },
      runtime: { type: 'string' },
      'sudoers-dir': { type: 'string' },
      'polkit-dir': { type: 'string' },
    },
  });
  useInstallRoot(values['install-root'] as string | undefined);
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
    case 'install-helper':
    case 'uninstall-helper': {
      const options = {
        elevation: values.elevation as string,
        rule: values.rule as string | undefined,
        user: values.user as string | undefined,
        runtime: values.runtime as string | undefined,
        'install-root': values['install-root'] as string | undefined,
        'sudoers-dir': values['sudoers-dir'] as string | undefined,
        'polkit-dir': values['polkit-dir'] as string | undefined,
      };
      return command === 'install-helper' ? installHelper(__dirname, options) : uninstallHelper(__dirname, options);
    }
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
        error instanceof HelperError ||
        error instanceof HelperStartError ||
        error instanceof MissingToolError ||
        error instanceof HelperInstallError;
      console.error(`ebpf-studio: ${known ? error.message : ((error as Error).message ?? String(error))}`);
      if (!known && process.env.EBPF_STUDIO_DEBUG) console.error(error);
      process.exit(1);
    },
  );
}
