// Cargo projects: recognises an aya eBPF crate (depends on aya-ebpf, built for bpfel-unknown-none) and a
// libbpf-rs crate (libbpf-cargo in [build-dependencies], BPF C in src/bpf/*.bpf.c), and knows what an aya
// build needs: a nightly toolchain with rust-src (-Z build-std=core) and bpf-linker. When a piece is
// missing it says which and the command that installs it, instead of cargo's wall of errors.
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface CargoProject {
  /** The folder of Cargo.toml. */
  root: string;
  name?: string;
  kind: 'aya-ebpf' | 'libbpf-rs' | 'other';
  /** libbpf-rs: the BPF C sources (src/bpf/*.bpf.c). */
  bpfSources: string[];
  /** libbpf-rs: where those sources find their headers (src/bpf, include/ when present). */
  includeDirs: string[];
}

/** The lines of one [section] of a Cargo.toml (enough for dependency names; no full TOML needed). */
function section(toml: string, name: string): string {
  const lines = toml.split('\n');
  const out: string[] = [];
  let inside = false;
  for (const line of lines) {
    const header = /^\s*\[([^\]]+)\]\s*(#.*)?$/.exec(line);
    if (header) inside = header[1].trim() === name;
    else if (inside) out.push(line);
  }
  return out.join('\n');
}

const dependsOn = (lines: string, crate: string) =>
  new RegExp(`^\\s*${crate.replace(/-/g, '[-_]')}\\s*(=|\\.)`, 'm').test(lines);

export function describeCargoProject(root: string): CargoProject | undefined {
  let toml: string;
  try {
    toml = fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8');
  } catch {
    return undefined;
  }
  const name = /^\s*name\s*=\s*"([^"]+)"/m.exec(section(toml, 'package'))?.[1];
  const bpfDir = path.join(root, 'src', 'bpf');
  const bpfSources = fs.existsSync(bpfDir)
    ? fs
        .readdirSync(bpfDir)
        .filter((f) => f.endsWith('.bpf.c'))
        .sort()
        .map((f) => path.join(bpfDir, f))
    : [];
  if (dependsOn(section(toml, 'build-dependencies'), 'libbpf-cargo')) {
    const includeDirs = [bpfDir, path.join(root, 'include'), path.join(root, 'src', 'bpf', 'include')].filter((d) =>
      fs.existsSync(d),
    );
    return { root, name, kind: 'libbpf-rs', bpfSources, includeDirs };
  }
  if (dependsOn(section(toml, 'dependencies'), 'aya-ebpf') || dependsOn(section(toml, 'dependencies'), 'aya-bpf'))
    return { root, name, kind: 'aya-ebpf', bpfSources: [], includeDirs: [] };
  return { root, name, kind: 'other', bpfSources, includeDirs: [] };
}

/** The libbpf-rs crate a BPF C file belongs to (src/bpf/x.bpf.c under a crate with libbpf-cargo). */
export function libbpfRsCrateOf(source: string): CargoProject | undefined {
  const dir = path.dirname(path.resolve(source));
  if (path.basename(dir) !== 'bpf' || path.basename(path.dirname(dir)) !== 'src') return undefined;
  const project = describeCargoProject(path.dirname(path.dirname(dir)));
  return project?.kind === 'libbpf-rs' ? project : undefined;
}

export interface ToolchainProblem {
  what: string;
  /** The command that installs it. */
  install: string;
}

type Run = (file: string, args: string[]) => Promise<string>;

const defaultRun: Run = (file, args) =>
  new Promise((resolve, reject) =>
    execFile(file, args, { timeout: 30_000 }, (error, stdout) => (error ? reject(error) : resolve(String(stdout)))),
  );

/** rustup and cargo live in ~/.cargo/bin, which a GUI-started editor often lacks on its PATH. */
export function cargoBin(tool: string): string {
  const home = path.join(process.env.CARGO_HOME ?? path.join(os.homedir(), '.cargo'), 'bin', tool);
  return fs.existsSync(home) ? home : tool;
}

/** What an aya eBPF build needs and this machine lacks, each with its install command; [] when all is there. */
export async function ayaToolchainProblems(run: Run = defaultRun): Promise<ToolchainProblem[]> {
  const problems: ToolchainProblem[] = [];
  const ok = (file: string, args: string[]) =>
    run(file, args).then(
      (out) => out,
      () => undefined,
    );
  const rustup = await ok(cargoBin('rustup'), ['--version']);
  if (rustup === undefined) {
    return [
      {
        what: 'rustup is not installed (aya builds need a nightly toolchain managed by rustup)',
        install: "curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh",
      },
      { what: 'bpf-linker is not installed', install: 'cargo install bpf-linker' },
    ];
  }
  const toolchains = (await ok(cargoBin('rustup'), ['toolchain', 'list'])) ?? '';
  if (!/^nightly/m.test(toolchains)) {
    problems.push({
      what: 'no nightly toolchain (aya builds core for bpfel-unknown-none with -Z build-std=core)',
      install: 'rustup toolchain install nightly --component rust-src',
    });
  } else {
    const components =
      (await ok(cargoBin('rustup'), ['component', 'list', '--toolchain', 'nightly', '--installed'])) ?? '';
    if (!/^rust-src\b/m.test(components))
      problems.push({
        what: 'rust-src is not installed for the nightly toolchain (-Z build-std=core compiles it)',
        install: 'rustup component add rust-src --toolchain nightly',
      });
  }
  if ((await ok(cargoBin('bpf-linker'), ['--version'])) === undefined)
    problems.push({
      what: 'bpf-linker is not installed (it links the BPF object and emits its BTF)',
      install: 'cargo install bpf-linker',
    });
  return problems;
}

/** The build of an aya eBPF crate: its object lands in target/bpfel-unknown-none/<profile>/<name>. */
export function ayaBuildCommand(release = true): { command: string; args: string[]; env: Record<string, string> } {
  return {
    command: cargoBin('cargo'),
    args: [
      '+nightly',
      'build',
      '-Z',
      'build-std=core',
      '--target',
      'bpfel-unknown-none',
      ...(release ? ['--release'] : []),
    ],
    // Line info and BTF make diagnostics land on the Rust lines and maps decodable.
    env: { CARGO_ENCODED_RUSTFLAGS: ['-C', 'debuginfo=2', '-C', 'link-arg=--btf'].join('\x1f') },
  };
}
