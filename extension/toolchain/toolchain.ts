// Finds the tools a BPF build needs (clang, bpftool, the kernel's BTF) and says what to install when one
// is missing. Runs unprivileged in the extension host and the CLI.
import * as fs from 'fs';
import * as path from 'path';

export const KERNEL_BTF = '/sys/kernel/btf/vmlinux';

export class MissingToolError extends Error {
  override name = 'MissingToolError';
  constructor(
    readonly tool: string,
    message: string,
  ) {
    super(message);
  }
}

function executablesOnPath(searchPath: string): string[] {
  const dirs = [...new Set(searchPath.split(':').filter(Boolean))];
  return dirs.flatMap((dir) => {
    try {
      return fs.readdirSync(dir).map((name) => path.join(dir, name));
    } catch {
      return [];
    }
  });
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The configured clang, else the newest `clang-NN` on PATH, else plain `clang`. */
export function findClang(configured?: string, searchPath = process.env.PATH ?? '/usr/bin:/bin'): string {
  if (configured) {
    if (isExecutable(configured)) return configured;
    throw new MissingToolError(
      'clang',
      `The configured clang "${configured}" (ebpfStudio.clangPath) is not an executable file.`,
    );
  }
  const onPath = executablesOnPath(searchPath);
  const versioned = onPath
    .map((file) => ({ file, version: /\/clang-(\d+)$/.exec(file)?.[1] }))
    .filter((c): c is { file: string; version: string } => c.version !== undefined && isExecutable(c.file))
    .sort((a, b) => Number(b.version) - Number(a.version));
  if (versioned.length > 0) return versioned[0].file;
  const plain = onPath.find((file) => path.basename(file) === 'clang' && isExecutable(file));
  if (plain) return plain;
  throw new MissingToolError(
    'clang',
    'clang was not found: BPF programs are compiled with clang -target bpf. Install it (Debian/Ubuntu: ' +
      'sudo apt-get install clang llvm) or set "ebpfStudio.clangPath".',
  );
}

/** bpftool generates vmlinux.h from the kernel's BTF. */
export function findBpftool(searchPath = process.env.PATH ?? '/usr/bin:/bin'): string {
  // Debian installs bpftool in /usr/sbin, which an ordinary user's PATH often lacks.
  const candidates = executablesOnPath(`${searchPath}:/usr/sbin:/sbin`).filter(
    (file) => path.basename(file) === 'bpftool',
  );
  const found = candidates.find(isExecutable);
  if (found) return found;
  throw new MissingToolError(
    'bpftool',
    "bpftool was not found: it generates vmlinux.h from the kernel's BTF. Install it (Debian 12: sudo apt-get " +
      'install bpftool; Ubuntu: linux-tools-common) or put a vmlinux.h next to your sources.',
  );
}

export function requireKernelBtf(btfPath = KERNEL_BTF): string {
  if (fs.existsSync(btfPath)) return btfPath;
  throw new MissingToolError(
    'btf',
    `${btfPath} is missing: this kernel was built without CONFIG_DEBUG_INFO_BTF, so vmlinux.h cannot be ` +
      'generated and CO-RE programs cannot be relocated. Use a distribution kernel with BTF (most ship it) or ' +
      'include UAPI headers (<linux/bpf.h>) instead of vmlinux.h.',
  );
}

/** The target architecture name libbpf's bpf_tracing.h expects in -D__TARGET_ARCH_<arch>. */
export function targetArch(machine = process.arch): string {
  const map: Record<string, string> = {
    x64: 'x86',
    arm64: 'arm64',
    arm: 'arm',
    s390x: 's390',
    ppc64: 'powerpc',
    riscv64: 'riscv',
    loong64: 'loongarch',
  };
  return map[machine] ?? machine;
}

/**
 * The host's multiarch include directory (e.g. /usr/include/x86_64-linux-gnu): with -target bpf clang does
 * not add it, so <asm/types.h> would not resolve the way it does for the host compiler.
 */
export function multiarchIncludeDirs(): string[] {
  const triples: Record<string, string> = {
    x64: 'x86_64-linux-gnu',
    arm64: 'aarch64-linux-gnu',
    s390x: 's390x-linux-gnu',
    ppc64: 'powerpc64le-linux-gnu',
    riscv64: 'riscv64-linux-gnu',
  };
  const dir = `/usr/include/${triples[process.arch] ?? ''}`;
  return fs.existsSync(dir) ? [dir] : [];
}

/**
 * The libbpf headers shipped with eBPF Studio (dist/include/bpf, staged by scripts/stage-native.js from the
 * libbpf the addon is built against) and that libbpf's version. Builds search them after the user's -I
 * directories and before the system's, so Debian 12's libbpf 1.1 headers do not hide BPF_UPROBE,
 * BPF_KSYSCALL or bpf_ksym_exists.
 */
export function bundledLibbpfHeaders(): { dir: string; version: string } | undefined {
  // In the bundle __dirname is dist/; run from source (tests, tsx) it is extension/toolchain/.
  for (const dir of [path.join(__dirname, 'include'), path.join(__dirname, '..', '..', 'dist', 'include')]) {
    if (!fs.existsSync(path.join(dir, 'bpf', 'bpf_helpers.h'))) continue;
    let version = 'unknown';
    try {
      version = fs.readFileSync(path.join(dir, 'libbpf-version'), 'utf8').trim();
    } catch {
      // Staged before the version file existed: the headers still work.
    }
    return { dir, version };
  }
  return undefined;
}
