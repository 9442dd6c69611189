// Rust source lines without the kernel: the aya program functions of the rust_lines fixture's src/main.rs
// are found on their attribute line, the lenses over them carry the verdict and the loaded program's
// instructions, an aya crate's built object is found where cargo puts it, and an instruction view's
// `@ src/main.rs:14` links to line 14 of the crate's file (the same code as the editor's link provider).
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { findRustPrograms } from '../../extension/formats/rust-source';
import { renderInstructions } from '../../extension/formats/disasm-view';
import { rustLenses } from '../../extension/host/features/rust-lines/model';
import { ayaBuiltObject, ayaCrateOf, ayaTaskObject } from '../../extension/toolchain/aya-object';
import { resolvedSourceLinks, sourceHeader } from '../../extension/toolchain/source-links';
import type { ProgramVerdict } from '../../extension/toolchain/verify';

const FIXTURE = path.join(__dirname, '..', 'kernel', 'fixtures', 'rust_lines', 'src', 'main.rs');
const mainRs = fs.readFileSync(FIXTURE, 'utf8');
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle));

/** A crate as cargo leaves it: Cargo.toml on aya-ebpf, src/main.rs, and a built object per profile. */
function makeCrate(): { root: string; main: string; debug: string; release: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rust-lines-'));
  fs.writeFileSync(
    path.join(root, 'Cargo.toml'),
    '[package]\nname = "rust-lines"\nversion = "0.1.0"\n\n[dependencies]\naya-ebpf = "0.1"\n',
  );
  fs.mkdirSync(path.join(root, 'src'));
  const main = path.join(root, 'src', 'main.rs');
  fs.writeFileSync(main, mainRs);
  const out = (profile: string) => {
    const dir = path.join(root, 'target', 'bpfel-unknown-none', profile);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'rust-lines');
    fs.writeFileSync(file, 'ELF');
    return file;
  };
  return { root, main, debug: out('debug'), release: out('release') };
}

describe('Rust source lines: lenses and the instruction view', () => {
  it("finds the fixture's #[tracepoint] function on its attribute line, and aya's other forms", () => {
    assert.deepEqual(findRustPrograms(mainRs), [
      {
        kind: 'tracepoint',
        name: 'rust_lines',
        line: lineOf(mainRs, '#[tracepoint]'),
        fnLine: lineOf(mainRs, 'pub fn rust_lines'),
      },
    ]);
    const more = [
      '#[xdp(name = "pass")]',
      '// comment between',
      '#[inline(always)]',
      'pub fn xdp_pass(ctx: XdpContext) -> u32 { 0 }',
      '#[map]',
      'static EVENTS: RingBuf = RingBuf::with_byte_size(4096, 0);',
      '#[aya_ebpf::macros::kprobe]',
      'fn on_open(ctx: ProbeContext) -> u32 { 0 }',
      '// #[xdp] in a comment is not a program',
      'fn helper() {}',
    ].join('\n');
    assert.deepEqual(
      findRustPrograms(more).map((p) => [p.kind, p.name, p.line, p.fnLine]),
      [
        ['xdp', 'pass', 0, 3],
        ['kprobe', 'on_open', 6, 7],
      ],
    );
  });

  it('puts the verdict and, once loaded, run count and instructions lenses over the Rust function', () => {
    const rejected: ProgramVerdict = {
      program: 'rust_lines',
      section: 'tracepoint/syscalls/sys_enter_getpid',
      file: FIXTURE,
      line: 1,
      status: 'rejected',
      message: 'R0 invalid mem access',
      log: '',
    };
    const attribute = lineOf(mainRs, '#[tracepoint]');
    assert.deepEqual(rustLenses(mainRs, 'file:///c/src/main.rs', [rejected], []), [
      {
        line: attribute,
        title: '$(error) rejected by the verifier: R0 invalid mem access',
        command: 'ebpf.showVerifierLog',
        args: ['file:///c/src/main.rs', 'rust_lines'],
      },
    ]);
    const stats = [{ program: 'rust_lines', id: 42, runCount: 10, runTimeNs: 1000 }];
    const lenses = rustLenses(mainRs, 'file:///c/src/main.rs', [], stats);
    assert.deepEqual(
      lenses.map((l) => [l.line, l.title, l.command, l.args]),
      [
        [
          attribute,
          '$(pulse) loaded (id 42): ran 10 times · avg 100 ns',
          'ebpf.showVerifierLog',
          ['file:///c/src/main.rs', 'rust_lines'],
        ],
        [attribute, '$(list-ordered) instructions (id 42)', 'ebpf.showInstructions', [42]],
      ],
    );
    // Another file of the crate gets no lens for a program it does not define.
    assert.deepEqual(rustLenses('fn helper() {}', 'file:///c/src/lib.rs', [rejected], stats), []);
  });

  it('finds the crate of a Rust file and its newest object in target/bpfel-unknown-none/<profile>/', () => {
    const crate = makeCrate();
    try {
      const project = ayaCrateOf(crate.main);
      assert.equal(project?.name, 'rust-lines');
      assert.equal(project?.root, crate.root);
      fs.utimesSync(crate.debug, new Date(), new Date(Date.now() + 60_000));
      assert.equal(ayaBuiltObject(project!), crate.debug, 'the newest build');
      assert.equal(ayaBuiltObject(project!, 'release'), crate.release);
      fs.rmSync(path.join(crate.root, 'target'), { recursive: true });
      assert.equal(ayaBuiltObject(project!), undefined, 'nothing built yet');
      assert.equal(ayaCrateOf(path.join(os.tmpdir(), 'nowhere', 'x.rs')), undefined);
    } finally {
      fs.rmSync(crate.root, { recursive: true, force: true });
    }
  });

  it("links an instruction view's `@ src/main.rs:14` to line 14 of the crate's main.rs, from the object's folder", () => {
    const crate = makeCrate();
    try {
      // Two instructions: the lookup (line 13) and the store the verifier refuses unchecked (line 14).
      const xlated = Buffer.alloc(16);
      xlated[0] = 0xb7; // r0 = 0
      xlated[8] = 0x95; // exit
      const text =
        sourceHeader(crate.debug) +
        renderInstructions(
          {
            name: 'rust_lines',
            tag: '0',
            xlated: xlated.toString('base64'),
            jited: '',
            lineInfo: [
              { insnOffset: 0, file: 'src/main.rs', line: 13, column: 5, text: 'let value = ...' },
              { insnOffset: 1, file: 'src/main.rs', line: 14, column: 5, text: 'unsafe { *value += 1 };' },
            ],
            jitedLineAddresses: [],
            jitedFunctionAddresses: [],
            jitedFunctionLengths: [],
            callTargets: {},
            arch: 'x64',
          },
          7,
        );
      const links = resolvedSourceLinks(text).map((l) => ({ file: l.file, line: l.line }));
      assert.deepEqual(links, [
        { file: crate.main, line: 13 },
        { file: crate.main, line: 14 },
      ]);
      assert.match(fs.readFileSync(crate.main, 'utf8').split('\n')[13], /\*value \+= 1/, 'line 14 is the store');
      // Built elsewhere: BTF names the file by the absolute path of the build machine's crate.
      const elsewhere = text.replace(/@ src\/main\.rs:/g, '@ /home/runner/work/demo/src/main.rs:');
      assert.deepEqual(
        resolvedSourceLinks(elsewhere).map((l) => l.file),
        [crate.main, crate.main],
      );
      // Without a header (a program another process loaded), the name stays as the object said it.
      assert.deepEqual(
        resolvedSourceLinks(text.replace(/^# source: .*\n/, '')).map((l) => l.file),
        ['src/main.rs', 'src/main.rs'],
      );
    } finally {
      fs.rmSync(crate.root, { recursive: true, force: true });
    }
  });
});

describe('the ebpf task of an aya crate: the object it built', () => {
  it('is the release object of the crate, which the editor then offers to eBPF: Load Program', () => {
    const crate = makeCrate();
    try {
      const folder = path.dirname(crate.root);
      assert.equal(ayaTaskObject(folder, path.basename(crate.root)), crate.release);
      fs.rmSync(crate.release);
      assert.equal(ayaTaskObject(folder, path.basename(crate.root)), undefined, 'no release build: nothing to offer');
      fs.writeFileSync(path.join(crate.root, 'Cargo.toml'), '[package]\nname = "rust-lines"\n');
      fs.writeFileSync(crate.release, 'ELF');
      assert.equal(ayaTaskObject(folder, path.basename(crate.root)), undefined, 'not an aya crate');
    } finally {
      fs.rmSync(crate.root, { recursive: true, force: true });
    }
  });
});
