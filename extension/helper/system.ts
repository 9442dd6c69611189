// What the helper needs from the system around the kernel: bpffs and tracefs mounted, interface and
// cgroup names resolved and checked. Runs as root, so it validates before it touches anything.
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { effectiveCapabilities, hasBpfPrivileges } from '../formats/capabilities';
import { HelperFailure } from './errors';

const run = promisify(execFile);

/** Whether this process has the capabilities to load and attach BPF programs. */
export function processIsPrivileged(): boolean {
  try {
    return hasBpfPrivileges(effectiveCapabilities(fs.readFileSync('/proc/self/status', 'utf8')));
  } catch {
    return process.geteuid?.() === 0;
  }
}

export const BPFFS = '/sys/fs/bpf';
export const TRACEFS_CANDIDATES = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

export interface Mount {
  source: string;
  target: string;
  type: string;
}

export function readMounts(text = fs.readFileSync('/proc/self/mounts', 'utf8')): Mount[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      // /proc/mounts escapes spaces and the like as octal (\040).
      const [source, target, type] = line
        .split(' ')
        .map((f) => f.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))));
      return { source, target, type };
    });
}

/** Mounts `type` at `target` when nothing of that type is there; returns what it found or did. */
async function ensureMounted(type: string, target: string): Promise<string> {
  if (readMounts().some((m) => m.target === target && m.type === type)) return 'present';
  try {
    await fs.promises.mkdir(target, { recursive: true });
    // execFile runs mount(8) itself, never through a shell.
    await run('/bin/mount', ['-t', type, type, target]);
    return 'mounted';
  } catch (error) {
    return `could not mount ${type} at ${target}: ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message}`;
  }
}

/**
 * bpffs mounted at /sys/fs/bpf before a pin: it may have been unmounted since the helper started. Throws a
 * NotSupported failure that says why when it cannot be mounted again.
 */
export async function ensureBpffs(): Promise<void> {
  const state = await ensureMounted('bpf', BPFFS);
  if (state !== 'present' && state !== 'mounted') {
    throw new HelperFailure({ kind: 'NotSupported', feature: 'pinning', reason: state }, `Cannot pin: ${state}.`);
  }
}

export async function ensureFilesystems(): Promise<Record<string, string>> {
  const tracefs = readMounts().find((m) => m.type === 'tracefs');
  return {
    [BPFFS]: await ensureMounted('bpf', BPFFS),
    [tracefs?.target ?? TRACEFS_CANDIDATES[0]]: tracefs
      ? 'present'
      : await ensureMounted('tracefs', TRACEFS_CANDIDATES[0]),
  };
}

export function tracefsRoot(): string {
  const mounted = readMounts().find((m) => m.type === 'tracefs');
  if (mounted) return mounted.target;
  throw new HelperFailure(
    { kind: 'NotSupported', feature: 'trace output', reason: 'tracefs is not mounted and could not be mounted' },
    'tracefs is not mounted',
  );
}

/** The interface's index, or a BadInput error that lists the interfaces that do exist. */
export function interfaceIndex(name: string): number {
  try {
    return Number(fs.readFileSync(path.join('/sys/class/net', name, 'ifindex'), 'utf8').trim());
  } catch {
    const known = fs.existsSync('/sys/class/net') ? fs.readdirSync('/sys/class/net').join(', ') : 'none';
    throw new HelperFailure(
      { kind: 'BadInput', field: 'interface', reason: `no network interface named "${name}" (have: ${known})` },
      `There is no network interface named "${name}". Interfaces here: ${known}.`,
    );
  }
}

/** A cgroup path must be a directory inside a mounted cgroup v2 hierarchy. */
export function checkCgroupPath(cgroupPath: string): string {
  const real = fs.existsSync(cgroupPath) ? fs.realpathSync(cgroupPath) : cgroupPath;
  const inside = readMounts().some(
    (m) => m.type === 'cgroup2' && (real === m.target || real.startsWith(m.target + '/')),
  );
  if (!inside || !fs.existsSync(real) || !fs.statSync(real).isDirectory()) {
    const roots = readMounts()
      .filter((m) => m.type === 'cgroup2')
      .map((m) => m.target);
    throw new HelperFailure(
      { kind: 'BadInput', field: 'path', reason: `not a cgroup v2 directory: ${cgroupPath}` },
      `${cgroupPath} is not a cgroup v2 directory (cgroup v2 is mounted at: ${roots.join(', ') || 'nowhere'}).`,
    );
  }
  return real;
}

/** Larger than any BPF object: the file is not one (and is not read into memory). */
const MAX_OBJECT_BYTES = 256 * 1024 * 1024;

/**
 * Reads an object file the way a root process must read a path a user named: opened once, without following
 * a symbolic link as its last component (nobody expects a .bpf.o to be one), without blocking (a FIFO
 * swapped in must not hang the helper), checked on the open descriptor to be a regular file of sane size,
 * and read from that same descriptor, so nothing can be swapped in between the check and the read.
 */
export async function readObjectFile(file: string): Promise<Buffer> {
  let handle: fs.promises.FileHandle;
  try {
    // On the descriptor from here on, asynchronously: a large file must not stop the helper answering.
    handle = await fs.promises.open(
      file,
      fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY,
    );
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP')
      throw new HelperFailure(
        { kind: 'BadInput', field: 'path', reason: 'a symbolic link' },
        `${file} is a symbolic link: name the object file itself.`,
      );
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new HelperFailure({ kind: 'NotFound', what: file }, `No such file: ${file}`);
    throw new HelperFailure(
      { kind: 'BadInput', field: 'path', reason: `cannot be opened (${code})` },
      `${file} cannot be opened (${code}).`,
    );
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile())
      throw new HelperFailure(
        { kind: 'BadInput', field: 'path', reason: 'not a regular file' },
        `${file} is not a regular file.`,
      );
    if (stat.size > MAX_OBJECT_BYTES)
      throw new HelperFailure(
        { kind: 'BadInput', field: 'path', reason: 'larger than 256 MiB' },
        `${file} is larger than 256 MiB: not a BPF object.`,
      );
    const bytes = Buffer.alloc(stat.size);
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return bytes.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/**
 * Runs `use` on a private copy of an object file (same base name, since libbpf names the object and its
 * .rodata/.bss maps after it) in a fresh root-only directory; the copy is removed when `use` returns or its
 * promise settles. libbpf opens paths itself, so this is how it reads exactly the bytes that were checked.
 */
export async function withObjectFile<R>(file: string, use: (copy: string) => R | Promise<R>): Promise<R> {
  const bytes = await readObjectFile(file);
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'ebpf-studio-object-'));
  const copy = path.join(dir, path.basename(file));
  try {
    await fs.promises.writeFile(copy, bytes, { mode: 0o600, flag: 'wx' });
    return await use(copy);
  } catch (error) {
    // Messages name the user's file, never the copy.
    if (error instanceof Error) error.message = error.message.split(copy).join(file);
    throw error;
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

/** A uprobe target must be an ELF file (an executable or a shared library): libbpf's own error for
 * anything else speaks of a "BPF object", which misleads. */
export function checkUprobeBinary(binary: string): void {
  // Shared libraries are usually reached through links (libc.so.6), so links are followed here; the file is
  // opened once without blocking (a FIFO must not hang the helper) and checked on that descriptor.
  let fd: number;
  try {
    fd = fs.openSync(binary, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch {
    throw new HelperFailure({ kind: 'NotFound', what: binary }, `No such binary for the uprobe: ${binary}`);
  }
  const magic = Buffer.alloc(4);
  let isFile: boolean;
  try {
    isFile = fs.fstatSync(fd).isFile();
    if (isFile) fs.readSync(fd, magic, 0, 4, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (!isFile || !magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) {
    throw new HelperFailure(
      { kind: 'BadInput', field: 'binary', reason: 'not an ELF executable or shared library' },
      `${binary} is not an ELF executable or shared library: a uprobe needs one.`,
    );
  }
}

/** Kernel lockdown mode, which explains many EPERMs ("[none] integrity confidentiality"). */
export function lockdownMode(): string | undefined {
  try {
    return /\[(\w+)\]/.exec(fs.readFileSync('/sys/kernel/security/lockdown', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}
