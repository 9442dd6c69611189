// Rust source lines in the editor, on the real kernel, through the code the editor runs for a .rs file
// (features/rust-lines): the crate's built object is found in target/bpfel-unknown-none/debug/ from
// src/main.rs, verified through the helper, and the verdict lens sits over `#[tracepoint]` while the
// diagnostic sits on line 14; a verifying stand-in, loaded, has an instruction view whose `@ file:line`
// links land on the lines of src/checked.rs. The fixtures are C with #line directives (no Rust BPF
// toolchain on the test machines).
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { renderInstructions } from '../../extension/formats/disasm-view';
import { findRustPrograms } from '../../extension/formats/rust-source';
import { HelperClient } from '../../extension/host/client/client';
import { rustLenses } from '../../extension/host/features/rust-lines/model';
import { Methods } from '../../extension/protocol/methods';
import { ayaBuiltObject, ayaCrateOf } from '../../extension/toolchain/aya-object';
import { resolvedSourceLinks, sourceHeader } from '../../extension/toolchain/source-links';
import { verifyObject } from '../../extension/toolchain/verify';
import {
  buildObject,
  expectKernelAsBefore,
  helperScript,
  isRoot,
  kernelObjects,
  KernelObjects,
  requireCapability,
  tempDir,
} from '../support/kernel';

const FIXTURE = path.join(__dirname, 'fixtures', 'rust_lines');

describe('Rust source lines: lenses and instruction view on the real kernel', function () {
  let helper: HelperClient;
  let baseline: KernelObjects;
  let crate: string;
  let out: string;

  before(async function () {
    requireCapability(this, isRoot(), 'verification and loading put programs into the kernel and need root');
    assert.ok(fs.existsSync(helperScript), `${helperScript} is missing: run npm run build first`);
    crate = tempDir('aya-crate');
    fs.writeFileSync(
      path.join(crate, 'Cargo.toml'),
      '[package]\nname = "rust_lines"\nversion = "0.1.0"\n\n[dependencies]\naya-ebpf = "0.1"\n',
    );
    fs.mkdirSync(path.join(crate, 'src'));
    for (const f of ['main.rs', 'checked.rs'])
      fs.copyFileSync(path.join(FIXTURE, 'src', f), path.join(crate, 'src', f));
    out = path.join(crate, 'target', 'bpfel-unknown-none', 'debug');
    fs.mkdirSync(out, { recursive: true });
    // Named as cargo names an aya crate's object: after the package, without an extension.
    fs.renameSync(
      await buildObject(path.join(FIXTURE, 'rust_lines.bpf.c'), tempDir('build')),
      path.join(out, 'rust_lines'),
    );
    baseline = kernelObjects();
    helper = await HelperClient.start({ helperScript, elevation: 'auto', clientName: 'rust-lenses-test' });
  });

  after(async function () {
    if (helper) {
      for (const load of await helper.request(Methods.listLoaded))
        await helper.request(Methods.unload, { loadId: load.loadId });
      await helper.dispose();
    }
    if (baseline) await expectKernelAsBefore(baseline);
    if (crate) fs.rmSync(crate, { recursive: true, force: true });
  });

  it('src/main.rs: the rejection on line 14, the verdict lens over #[tracepoint]', async () => {
    const main = path.join(crate, 'src', 'main.rs');
    const project = ayaCrateOf(main);
    assert.equal(project?.kind, 'aya-ebpf');
    const object = ayaBuiltObject(project!);
    assert.equal(object, path.join(out, 'rust_lines'), 'the object cargo would have built');
    const { programs, diagnostics } = await verifyObject(helper, object!, main);
    assert.deepEqual(
      programs.map((p) => [p.program, p.status]),
      [['rust_lines', 'rejected']],
    );
    const errors = diagnostics.filter((d) => d.severity === 'error');
    assert.deepEqual(
      errors.map((d) => [d.file, d.line]),
      [[main, 14]],
      JSON.stringify(diagnostics),
    );
    const text = fs.readFileSync(main, 'utf8');
    const lenses = rustLenses(text, `file://${main}`, programs, []);
    assert.equal(lenses.length, 1);
    assert.equal(lenses[0].line, findRustPrograms(text)[0].line);
    assert.equal(text.split('\n')[lenses[0].line].trim(), '#[tracepoint]');
    assert.match(lenses[0].title, /^\$\(error\) rejected by the verifier: /);
    assert.deepEqual(lenses[0].args, [`file://${main}`, 'rust_lines']);
  });

  it('src/checked.rs: verified lens, and the loaded program’s instruction view links to its Rust lines', async () => {
    const checked = path.join(crate, 'src', 'checked.rs');
    const object = path.join(out, 'rust_lines_checked');
    fs.renameSync(await buildObject(path.join(FIXTURE, 'rust_lines_checked.bpf.c'), tempDir('build')), object);
    const { programs } = await verifyObject(helper, object, checked);
    assert.deepEqual(
      programs.map((p) => [p.program, p.status]),
      [['rust_lines_checked', 'verified']],
    );
    const text = fs.readFileSync(checked, 'utf8');
    assert.match(rustLenses(text, `file://${checked}`, programs, [])[0].title, /^\$\(pass\) verified · \d+ insns/);

    const load = await helper.request(Methods.load, {
      path: object,
      attach: { rust_lines_checked: { kind: 'none' } },
    });
    const progId = load.programs[0].id;
    // What eBPF: Show Instructions writes for a load of ours: the object as its source, then the listing.
    const own = (await helper.request(Methods.listLoaded)).find((l) => l.programs.some((p) => p.id === progId));
    assert.ok(own, 'the load is ours');
    const view =
      sourceHeader(own.source ?? own.path) +
      renderInstructions(await helper.request(Methods.instructions, { progId }), progId);
    const links = resolvedSourceLinks(view);
    assert.ok(links.length >= 2, view);
    for (const link of links) assert.equal(link.file, checked, `${link.file}:${link.line} is the crate's file`);
    const store = text.split('\n').findIndex((l) => l.includes('*value += 1')) + 1;
    assert.ok(
      links.some((l) => l.line === store),
      `the store on line ${store} is linked: ${links.map((l) => l.line).join(', ')}`,
    );
    assert.ok(
      links.every((l) => l.line >= 11 && l.line <= 17),
      'every link is inside the Rust function',
    );
    await helper.request(Methods.unload, { loadId: load.loadId });
  });
});
