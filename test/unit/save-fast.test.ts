// The pieces behind a fast save, without the kernel: the loader digest ignores only what libbpf never reads,
// and a clang started ahead of the save builds what `clang -c <source>` builds, with the same diagnostics.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { compileBpf, prepareWarmCompile } from '../../extension/toolchain/compile';
import { WarmClangs } from '../../extension/toolchain/warm-clang';
import { loaderDigest } from '../../extension/formats/object-digest';
import { repoRoot, tempDir } from '../support/kernel';

const sample = (name: string, file: string) => path.join(repoRoot, 'bpf-samples', name, file);

function copyForkTrace(): string {
  const dir = tempDir('savefast');
  fs.copyFileSync(sample('fork_trace', 'fork_trace.bpf.c'), path.join(dir, 'fork_trace.bpf.c'));
  fs.copyFileSync(sample('fork_trace', 'fork_trace.h'), path.join(dir, 'fork_trace.h'));
  return path.join(dir, 'fork_trace.bpf.c');
}

async function build(source: string, options: Parameters<typeof compileBpf>[1] = {}) {
  const result = await compileBpf(source, { outDir: path.join(path.dirname(source), 'out'), ...options });
  assert.ok(result.ok, result.stderr);
  return fs.readFileSync(result.objectPath);
}

describe('save -> diagnostic, fast path', function () {
  this.timeout(180_000);

  it('gives an object the same loader digest when only a comment changed, and another when code changed', async () => {
    const source = copyForkTrace();
    const original = fs.readFileSync(source, 'utf8');
    const first = await build(source);
    fs.writeFileSync(source, `${original}\n// a comment\n`);
    const commented = await build(source);
    // clang records the source's MD5 in .debug_line: the bytes differ, what libbpf reads does not.
    assert.notDeepEqual(commented, first);
    assert.equal(loaderDigest(commented), loaderDigest(first));
    fs.writeFileSync(source, original.replace('__u64 one = 1,', '__u64 one = 2,'));
    assert.notEqual(loaderDigest(await build(source)), loaderDigest(first));
  });

  it('has no digest for what is not an ELF64 object', () => {
    assert.equal(loaderDigest(Buffer.from('not an object')), undefined);
    assert.equal(loaderDigest(Buffer.alloc(64)), undefined);
  });

  it('builds with a clang started ahead what a fresh clang builds, and says the same about errors', async () => {
    const source = copyForkTrace();
    const warm = new WarmClangs();
    try {
      const cold = await compileBpf(source, { outDir: path.join(path.dirname(source), 'cold') });
      assert.ok(cold.ok, cold.stderr);
      const options = { outDir: path.join(path.dirname(source), 'warm'), warm };
      await prepareWarmCompile(source, options);
      assert.equal(warm.size, 1);
      const started = await compileBpf(source, options);
      assert.ok(started.ok, started.stderr);
      assert.equal(started.warm, true, 'the waiting clang built it');
      assert.equal(
        loaderDigest(fs.readFileSync(started.objectPath)),
        loaderDigest(fs.readFileSync(cold.objectPath)),
        'the same sections, symbols and BTF (line info names the source) as clang -c <source>',
      );

      // An error in the source and one in a header it includes: same file, line and column as a fresh clang.
      const header = path.join(path.dirname(source), 'fork_trace.h');
      fs.appendFileSync(header, '\nint broken_in_header = ;\n');
      const text = fs.readFileSync(source, 'utf8').replace('__u64 one = 1,', '__u64 one = undefined_name,');
      fs.writeFileSync(source, text);
      await prepareWarmCompile(source, options);
      const warmFailed = await compileBpf(source, options);
      const coldFailed = await compileBpf(source, { outDir: path.join(path.dirname(source), 'cold') });
      assert.equal(warmFailed.warm, true);
      assert.equal(warmFailed.ok, false);
      assert.equal(coldFailed.ok, false);
      // As checkSource publishes them: files resolved against the source's folder.
      const published = (ds: typeof coldFailed.diagnostics) =>
        ds.map((d) => ({ ...d, file: path.resolve(path.dirname(source), d.file) }));
      assert.deepEqual(published(warmFailed.diagnostics), published(coldFailed.diagnostics));
      assert.ok(warmFailed.diagnostics.some((d) => d.file === source && /undefined_name/.test(d.message)));
      assert.ok(warmFailed.diagnostics.every((d) => d.line > 0 && d.column > 0));
      assert.ok(warmFailed.diagnostics.some((d) => d.file.endsWith('fork_trace.h')));
    } finally {
      warm.dispose();
    }
  });

  it('builds with a fresh clang when the flags changed since the clang was started', async () => {
    const source = copyForkTrace();
    const warm = new WarmClangs();
    try {
      await prepareWarmCompile(source, { outDir: path.join(path.dirname(source), 'out'), warm });
      const result = await compileBpf(source, {
        outDir: path.join(path.dirname(source), 'out'),
        warm,
        defines: ['FORK_TRACE_EXTRA=1'],
      });
      assert.ok(result.ok, result.stderr);
      assert.equal(result.warm, false);
      assert.equal(warm.size, 0, 'the clang started for other flags was stopped');
    } finally {
      warm.dispose();
    }
  });
});
