// Rust source lines: an object whose line info names src/main.rs (as aya objects built with debug info
// do; here built from C with #line directives) gets its verifier diagnostic on the Rust line, also when
// the object is checked where cargo puts it (target/bpfel-unknown-none/<profile>/) and the crate is above.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import {
  buildObject,
  expectKernelAsBefore,
  isRoot,
  kernelObjects,
  KernelObjects,
  repoRoot,
  requireCapability,
  runCli,
  cliScript as cli,
  tempDir,
} from '../support/kernel';

const FIXTURE = path.join(__dirname, 'fixtures', 'rust_lines');

const check = (file: string, cwd: string) => runCli(['check', file], cwd);

describe('Rust source lines in verifier diagnostics', function () {
  let baseline: KernelObjects;
  let crate: string;

  before(async function () {
    requireCapability(this, isRoot(), 'verification loads programs into the kernel and needs root');
    assert.ok(fs.existsSync(cli), `${cli} is missing: run npm run build first`);
    crate = tempDir('crate');
    fs.mkdirSync(path.join(crate, 'src'));
    fs.copyFileSync(path.join(FIXTURE, 'src', 'main.rs'), path.join(crate, 'src', 'main.rs'));
    const out = path.join(crate, 'target', 'bpfel-unknown-none', 'debug');
    fs.mkdirSync(out, { recursive: true });
    await buildObject(path.join(FIXTURE, 'rust_lines.bpf.c'), out);
    baseline = kernelObjects();
  });

  after(async function () {
    if (baseline) await expectKernelAsBefore(baseline);
    if (crate) fs.rmSync(crate, { recursive: true, force: true });
  });

  it('the rejection of the unchecked map value lands on src/main.rs line 14 (checking the C stand-in)', async () => {
    const { code, stdout } = await check(path.join(FIXTURE, 'rust_lines.bpf.c'), repoRoot);
    assert.equal(code, 1, stdout);
    const rust = path.relative(repoRoot, path.join(FIXTURE, 'src', 'main.rs'));
    assert.match(stdout, new RegExp(`^${rust.replace(/[.]/g, '\\.')}:14:\\d+: error: .*verifier rejected`, 'm'));
    assert.doesNotMatch(stdout, /rust_lines\.bpf\.c:\d+:\d+: error/, 'not on the C stand-in');
  });

  it('an object in target/bpfel-unknown-none/debug/ finds src/main.rs in its crate', async () => {
    const object = path.join(crate, 'target', 'bpfel-unknown-none', 'debug', 'rust_lines.bpf.o');
    assert.ok(fs.existsSync(object));
    const { code, stdout } = await check(object, crate);
    assert.equal(code, 1, stdout);
    assert.match(stdout, /^src\/main\.rs:14:\d+: error: .*verifier rejected/m);
  });
});
