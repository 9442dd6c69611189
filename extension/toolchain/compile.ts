// Compiles BPF C with clang -target bpf. vmlinux.h is generated from the running kernel's BTF into a
// cache (never into the user's tree) and precompiled once, so a save pays ~40 ms instead of ~250 ms.
import { execFile } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import {
  bundledLibbpfHeaders,
  findBpftool,
  findClang,
  multiarchIncludeDirs,
  requireKernelBtf,
  targetArch,
} from './toolchain';
import type { WarmClangs } from './warm-clang';

const run = promisify(execFile);

export interface CompileOptions {
  clangPath?: string;
  includeDirs?: string[];
  /** NAME or NAME=VALUE, as for -D. */
  defines?: string[];
  /** Where the .bpf.o goes; next to the source by default, as a Makefile would put it. */
  outDir?: string;
  /** Skip the precompiled vmlinux.h (benchmarks compare both). */
  noPch?: boolean;
  /** Clangs started ahead of a save (the language server's): the build takes the one waiting for it. */
  warm?: WarmClangs;
}

export interface CompileDiagnostic {
  file: string;
  line: number;
  column: number;
  severity: 'error' | 'warning' | 'note';
  message: string;
}

export interface CompileResult {
  ok: boolean;
  objectPath: string;
  diagnostics: CompileDiagnostic[];
  command: string[];
  stderr: string;
  durationMs: number;
  /** Whether a clang started ahead of time compiled it. */
  warm?: boolean;
}

export function cacheDir(): string {
  const base =
    process.env.EBPF_STUDIO_CACHE ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'ebpf-studio');
  return base;
}

/** Parses clang's `file:line:col: severity: message` lines. */
export function parseClangDiagnostics(stderr: string): CompileDiagnostic[] {
  const diagnostics: CompileDiagnostic[] = [];
  for (const line of stderr.split('\n')) {
    // The BPF backend (e.g. signed division) prints "Error at line 10: <what>, f.c:10:54<advice>".
    const backend = /^Error at line (\d+): (.*?),? (\S+?):(\d+):(\d+)(.*)$/.exec(line);
    if (backend) {
      const advice = backend[6].trim();
      diagnostics.push({
        file: backend[3],
        line: Number(backend[4]),
        column: Number(backend[5]),
        severity: 'error',
        message: `${backend[2].replace(/ for DAG: .*/, '')}${advice ? `: ${advice}` : ''}`,
      });
      continue;
    }
    const m = /^(.+?):(\d+):(\d+): (fatal error|error|warning|note): (.*)$/.exec(line);
    if (m) {
      diagnostics.push({
        file: m[1],
        line: Number(m[2]),
        column: Number(m[3]),
        severity: m[4] === 'fatal error' ? 'error' : (m[4] as CompileDiagnostic['severity']),
        message: m[5],
      });
    }
  }
  return diagnostics;
}

/** Writes to a temporary name and renames, so a concurrent build never reads half a file. */
function writeAtomically(file: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  return write(tmp).then(
    () => fs.promises.rename(tmp, file),
    async (error) => {
      await fs.promises.rm(tmp, { force: true });
      throw error;
    },
  );
}

let btfDigest: Promise<string> | undefined;

/** Identifies the running kernel's BTF: vmlinux.h is valid exactly as long as this is. */
function kernelBtfDigest(): Promise<string> {
  btfDigest ??= fs.promises
    .readFile(requireKernelBtf())
    .then((data) => crypto.createHash('sha256').update(data).digest('hex').slice(0, 16));
  return btfDigest;
}

const inflight = new Map<string, Promise<void>>();

async function once(file: string, make: () => Promise<void>): Promise<void> {
  if (fs.existsSync(file)) return;
  let pending = inflight.get(file);
  if (!pending) {
    pending = make().finally(() => inflight.delete(file));
    inflight.set(file, pending);
  }
  await pending;
}

/** The cached vmlinux.h for the running kernel, generated with bpftool on first use. */
export async function vmlinuxHeader(): Promise<string> {
  const dir = path.join(cacheDir(), 'vmlinux', await kernelBtfDigest());
  const header = path.join(dir, 'vmlinux.h');
  await once(header, async () => {
    await fs.promises.mkdir(dir, { recursive: true });
    const { stdout } = await run(findBpftool(), ['btf', 'dump', 'file', requireKernelBtf(), 'format', 'c'], {
      maxBuffer: 256 * 1024 * 1024,
    });
    await writeAtomically(header, (tmp) => fs.promises.writeFile(tmp, stdout));
  });
  return header;
}

const clangVersions = new Map<string, Promise<string>>();

function clangVersion(clang: string): Promise<string> {
  let version = clangVersions.get(clang);
  if (!version) {
    version = run(clang, ['--version']).then((r) => r.stdout);
    clangVersions.set(clang, version);
  }
  return version;
}

/** A precompiled vmlinux.h for these exact flags (a PCH must match the compile's options). */
async function vmlinuxPch(clang: string, baseFlags: string[]): Promise<string> {
  const header = await vmlinuxHeader();
  const key = crypto
    .createHash('sha256')
    .update(await clangVersion(clang))
    .update(baseFlags.join('\0'))
    .digest('hex')
    .slice(0, 16);
  const pch = path.join(path.dirname(header), `vmlinux.${key}.pch`);
  await once(pch, () =>
    writeAtomically(pch, async (tmp) => {
      await run(clang, [...baseFlags, '-x', 'c-header', header, '-o', tmp], { maxBuffer: 64 * 1024 * 1024 });
    }),
  );
  return pch;
}

/** The shipped libbpf headers as -isystem: after the user's -I directories, ahead of /usr/include. */
function bundledHeaderFlags(): string[] {
  const bundled = bundledLibbpfHeaders();
  return bundled ? ['-isystem', bundled.dir] : [];
}

const includesVmlinux = /^\s*#\s*include\s*["<]vmlinux\.h[">]/m;

export function objectPathFor(sourcePath: string, outDir?: string): string {
  const base = path.basename(sourcePath).replace(/(\.bpf)?\.c$/, '');
  return path.join(outDir ?? path.dirname(sourcePath), `${base}.bpf.o`);
}

interface Invocation {
  clang: string;
  source: string;
  text: string;
  /** Everything but the input and the output. */
  flags: string[];
  objectPath: string;
}

async function invocation(sourcePath: string, options: CompileOptions): Promise<Invocation> {
  const source = path.resolve(sourcePath);
  const clang = findClang(options.clangPath);
  const userIncludes = (options.includeDirs ?? []).map((dir) => path.resolve(dir));
  const baseFlags = [
    '-target',
    'bpf',
    '-g',
    '-O2',
    `-D__TARGET_ARCH_${targetArch()}`,
    ...bundledHeaderFlags(),
    ...multiarchIncludeDirs().flatMap((dir) => ['-idirafter', dir]),
  ];
  const text = await fs.promises.readFile(source, 'utf8');
  const flags = [...baseFlags];
  if (includesVmlinux.test(text)) {
    // A vmlinux.h of the user's own (next to the source or in an -I dir) wins, as clang would pick it.
    const ownHeader = [path.dirname(source), ...userIncludes].some((dir) => fs.existsSync(path.join(dir, 'vmlinux.h')));
    if (!ownHeader) {
      const header = await vmlinuxHeader();
      flags.push('-I', path.dirname(header));
      if (!options.noPch) flags.push('-include-pch', await vmlinuxPch(clang, baseFlags));
    }
  }
  flags.push(
    ...userIncludes.flatMap((dir) => ['-I', dir]),
    ...(options.defines ?? []).map((d) => `-D${d}`),
    '-fno-color-diagnostics',
  );
  return { clang, source, text, flags, objectPath: objectPathFor(source, options.outDir) };
}

export async function compileBpf(sourcePath: string, options: CompileOptions = {}): Promise<CompileResult> {
  const started = performance.now();
  const { clang, source, text, flags, objectPath } = await invocation(sourcePath, options);
  await fs.promises.mkdir(path.dirname(objectPath), { recursive: true });
  const command = [clang, ...flags, '-c', source, '-o', objectPath];
  let stderr: string;
  let ok = true;
  const warm = await options.warm?.compile(clang, flags, source, text);
  if (warm) {
    ({ ok, stderr } = warm);
    if (ok) await writeAtomically(objectPath, (tmp) => fs.promises.writeFile(tmp, warm.object));
    if (warm.signal) stderr = `${stderr.trimEnd()}\nclang was stopped by ${warm.signal} before it finished`.trimStart();
  } else {
    try {
      ({ stderr } = await run(command[0], command.slice(1), { maxBuffer: 16 * 1024 * 1024 }));
    } catch (error) {
      ok = false;
      const failed = error as { stderr?: string; signal?: string | null; message: string };
      stderr = failed.stderr ?? failed.message;
      // A killed clang prints nothing useful: say so, so the build's error is not an empty line.
      if (failed.signal)
        stderr = `${stderr.trimEnd()}\nclang was stopped by ${failed.signal} before it finished`.trimStart();
    }
  }
  return {
    ok,
    objectPath,
    diagnostics: parseClangDiagnostics(stderr),
    command,
    stderr,
    durationMs: performance.now() - started,
    warm: warm !== undefined,
  };
}

/** Starts the clang the next compileBpf() of this source with these options takes (options.warm). */
export async function prepareWarmCompile(sourcePath: string, options: CompileOptions): Promise<void> {
  if (!options.warm) return;
  const { clang, source, flags } = await invocation(sourcePath, options);
  options.warm.prepare(clang, flags, source);
}

/**
 * The compile command of a source as a compile_commands.json entry wants it, for clangd: the build's
 * flags and the cached vmlinux.h directory, without the precompiled header (it is tied to this clang).
 */
export async function compileCommandFor(sourcePath: string, options: CompileOptions = {}): Promise<string[]> {
  const source = path.resolve(sourcePath);
  const clang = findClang(options.clangPath);
  const userIncludes = (options.includeDirs ?? []).map((dir) => path.resolve(dir));
  const text = await fs.promises.readFile(source, 'utf8');
  const vmlinuxDir: string[] = [];
  if (
    includesVmlinux.test(text) &&
    ![path.dirname(source), ...userIncludes].some((dir) => fs.existsSync(path.join(dir, 'vmlinux.h')))
  ) {
    vmlinuxDir.push('-I', path.dirname(await vmlinuxHeader()));
  }
  return [
    clang,
    '-target',
    'bpf',
    '-g',
    '-O2',
    `-D__TARGET_ARCH_${targetArch()}`,
    ...bundledHeaderFlags(),
    ...multiarchIncludeDirs().flatMap((dir) => ['-idirafter', dir]),
    ...vmlinuxDir,
    ...userIncludes.flatMap((dir) => ['-I', dir]),
    ...(options.defines ?? []).map((d) => `-D${d}`),
    '-c',
    source,
    '-o',
    objectPathFor(source, options.outDir),
  ];
}
