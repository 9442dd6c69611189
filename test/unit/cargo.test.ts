// Cargo projects: the sample libbpf-rs crate and an aya eBPF crate are told apart, and the aya toolchain
// check names exactly what this machine lacks, with the command that installs it (run against the real
// rustup here, and against scripted answers for the other cases).
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  ayaBuildCommand,
  ayaToolchainProblems,
  cargoBin,
  describeCargoProject,
  libbpfRsCrateOf,
} from '../../extension/toolchain/cargo';
import { execFileSync } from 'child_process';

const repo = path.join(__dirname, '..', '..');

describe('cargo projects', () => {
  it('recognises the libbpf-rs sample with its src/bpf sources and include dir', () => {
    const root = path.join(repo, 'bpf-samples', 'rust_libbpf_rs');
    const project = describeCargoProject(root)!;
    assert.equal(project.kind, 'libbpf-rs');
    assert.equal(project.name, 'rust_libbpf_rs');
    assert.deepEqual(project.bpfSources, [path.join(root, 'src', 'bpf', 'forks.bpf.c')]);
    assert.ok(project.includeDirs.includes(path.join(root, 'src', 'bpf')));
    assert.equal(libbpfRsCrateOf(project.bpfSources[0])?.root, root);
    assert.equal(libbpfRsCrateOf(path.join(repo, 'bpf-samples', 'fork_trace', 'fork_trace.bpf.c')), undefined);
  });

  it('recognises an aya eBPF crate by its aya-ebpf dependency, and nothing in a folder without Cargo.toml', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aya-crate-'));
    try {
      fs.writeFileSync(
        path.join(dir, 'Cargo.toml'),
        '[package]\nname = "xdp-ebpf"\n\n[dependencies]\naya-ebpf = { git = "https://github.com/aya-rs/aya" }\naya-log-ebpf = "0.1"\n',
      );
      assert.equal(describeCargoProject(dir)?.kind, 'aya-ebpf');
      fs.writeFileSync(path.join(dir, 'Cargo.toml'), '[package]\nname = "x"\n[dev-dependencies]\naya-ebpf = "0.1"\n');
      assert.equal(describeCargoProject(dir)?.kind, 'other', 'a dev-dependency does not make an eBPF crate');
      assert.equal(describeCargoProject(path.join(dir, 'nowhere')), undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names what this machine lacks for an aya build, each with its install command', async function () {
    const problems = await ayaToolchainProblems();
    // The truth of this machine, asked independently of the code under test.
    const has = (file: string, args: string[]) => {
      try {
        return execFileSync(file, args, { encoding: 'utf8' });
      } catch {
        return undefined;
      }
    };
    const rustup = has(cargoBin('rustup'), ['toolchain', 'list']);
    const expected: string[] = [];
    if (rustup === undefined) expected.push('rustup sh', 'cargo install bpf-linker');
    else {
      if (!/^nightly/m.test(rustup)) expected.push('rustup toolchain install nightly --component rust-src');
      else if (
        !/^rust-src/m.test(
          has(cargoBin('rustup'), ['component', 'list', '--toolchain', 'nightly', '--installed']) ?? '',
        )
      )
        expected.push('rustup component add rust-src --toolchain nightly');
      if (has(cargoBin('bpf-linker'), ['--version']) === undefined) expected.push('cargo install bpf-linker');
    }
    if (rustup !== undefined)
      assert.deepEqual(
        problems.map((p) => p.install),
        expected,
      );
    console.log(`      this machine: ${problems.map((p) => p.what).join('; ') || 'nothing missing'}`);
  });

  it('reports each missing piece from scripted tool answers', async () => {
    const answers = (table: Record<string, string | undefined>) => async (file: string, args: string[]) => {
      const out = table[`${path.basename(file)} ${args.join(' ')}`];
      if (out === undefined) throw new Error('not found');
      return out;
    };
    const none = await ayaToolchainProblems(answers({}));
    assert.match(none[0].what, /rustup is not installed/);
    const stableOnly = await ayaToolchainProblems(
      answers({ 'rustup --version': 'rustup 1.28', 'rustup toolchain list': 'stable-x86_64 (default)\n' }),
    );
    assert.deepEqual(
      stableOnly.map((p) => p.install),
      ['rustup toolchain install nightly --component rust-src', 'cargo install bpf-linker'],
    );
    const complete = await ayaToolchainProblems(
      answers({
        'rustup --version': 'rustup 1.28',
        'rustup toolchain list': 'stable\nnightly-x86_64-unknown-linux-gnu\n',
        'rustup component list --toolchain nightly --installed': 'cargo\nrust-src\n',
        'bpf-linker --version': 'bpf-linker 0.9.13\n',
      }),
    );
    assert.deepEqual(complete, []);
    const { args, env } = ayaBuildCommand();
    assert.deepEqual(args.slice(0, 6), ['+nightly', 'build', '-Z', 'build-std=core', '--target', 'bpfel-unknown-none']);
    assert.equal(env.CARGO_ENCODED_RUSTFLAGS.split('\x1f').join(' '), '-C debuginfo=2 -C link-arg=--btf');
  });
});
