// The `ebpf` task of an aya crate runs `ebpf-studio build-ebpf CRATE`: on a machine without the aya
// toolchain it says, in lines the $ebpf problem matcher puts on Cargo.toml, exactly which pieces are
// missing (asked of rustup here, independently of the code under test) and how to install each, and
// builds nothing. (No kernel is touched; it sits with the other tests of the built CLI.)
import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { cargoBin } from '../../extension/toolchain/cargo';
import { cliScript as cli, repoRoot, runCli, tempDir } from '../support/kernel';

// The $ebpf problem matcher of package.json.
const matcher = new RegExp(
  (
    JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
      contributes: { problemMatchers: { name: string; pattern: { regexp: string } }[] };
    }
  ).contributes.problemMatchers.find((m) => m.name === 'ebpf')!.pattern.regexp,
);

/** What this machine lacks for an aya build, as the install commands a user would run. */
function missingHere(): string[] {
  const has = (tool: string, args: string[]) => {
    try {
      return execFileSync(cargoBin(tool), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return undefined;
    }
  };
  const toolchains = has('rustup', ['toolchain', 'list']);
  if (toolchains === undefined)
    return ["curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh", 'cargo install bpf-linker'];
  const missing: string[] = [];
  if (!/^nightly/m.test(toolchains)) missing.push('rustup toolchain install nightly --component rust-src');
  else if (!/^rust-src/m.test(has('rustup', ['component', 'list', '--toolchain', 'nightly', '--installed']) ?? ''))
    missing.push('rustup component add rust-src --toolchain nightly');
  if (has('bpf-linker', ['--version']) === undefined) missing.push('cargo install bpf-linker');
  return missing;
}

describe('the ebpf task of an aya crate (ebpf-studio build-ebpf)', function () {
  this.timeout(60_000);
  let crate: string;

  before(function () {
    assert.ok(fs.existsSync(cli), `${cli} is missing: run npm run build first`);
    crate = tempDir('aya-task');
    fs.writeFileSync(
      path.join(crate, 'Cargo.toml'),
      '[package]\nname = "demo-ebpf"\nversion = "0.1.0"\n\n[dependencies]\naya-ebpf = "0.1"\n',
    );
  });

  after(() => {
    if (crate) fs.rmSync(crate, { recursive: true, force: true });
  });

  it('names exactly the missing pieces with their install commands, on Cargo.toml, and builds nothing', async function () {
    const missing = missingHere();
    const result = await runCli(['build-ebpf', crate]);
    console.log(`      this machine lacks: ${missing.join('; ') || 'nothing'}`);
    if (missing.length === 0) {
      // A machine with the toolchain: the task runs cargo; that build is the user's to judge.
      assert.match(result.stdout, /\+nightly build -Z build-std=core --target bpfel-unknown-none/);
      return;
    }
    assert.equal(result.code, 1);
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines.length, missing.length, result.stdout);
    lines.forEach((line, i) => {
      const m = matcher.exec(line);
      assert.ok(m, `the problem matcher reads "${line}"`);
      assert.deepEqual([m[1], m[2], m[4]], [path.join(crate, 'Cargo.toml'), '1', 'error']);
      assert.ok(m[5].endsWith(`; install it with: ${missing[i]}`), line);
    });
    assert.ok(!fs.existsSync(path.join(crate, 'target')), 'cargo was not run');
  });
});
