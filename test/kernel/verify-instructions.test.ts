// prog/instructions on the real kernel: the decoder's text equals what `bpftool prog dump xlated` prints
// for the same program, line info names the real source lines, and the JIT image is the kernel's size.
import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { decodeInstructions, formatInstruction } from '../../extension/formats/bpf-disasm';
import { jitedLineOffsets, renderInstructions } from '../../extension/formats/disasm-view';
import { HelperClient } from '../../extension/host/client/client';
import { Methods } from '../../extension/protocol/methods';
import {
  buildObject,
  expectKernelAsBefore,
  helperScript,
  isRoot,
  kernelObjects,
  KernelObjects,
  requireCapability,
  samplePath,
} from '../support/kernel';

describe('program instructions on the real kernel', function () {
  let helper: HelperClient;
  let baseline: KernelObjects;

  before(async function () {
    requireCapability(this, isRoot(), 'loading programs and dumping their instructions needs root');
    assert.ok(fs.existsSync(helperScript), `${helperScript} is missing: run npm run build first`);
    baseline = kernelObjects();
    helper = await HelperClient.start({ helperScript, elevation: 'auto', clientName: 'instructions-test' });
  });

  after(async function () {
    if (!helper) return;
    for (const load of await helper.request(Methods.listLoaded))
      await helper.request(Methods.unload, { loadId: load.loadId });
    await helper.dispose();
    await expectKernelAsBefore(baseline);
  });

  it('decodes fork_trace exactly as bpftool does, with source lines and JIT bytes', async function () {
    const source = samplePath('fork_trace');
    const object = await buildObject(source);
    const load = await helper.request(Methods.load, { path: object, attach: { trace_fork: { kind: 'none' } } });
    const id = load.programs[0].id;
    const result = await helper.request(Methods.instructions, { progId: id });

    const ours = decodeInstructions(Buffer.from(result.xlated, 'base64'), (imm) => result.callTargets[String(imm)]).map(
      formatInstruction,
    );
    const bpftool = execFileSync('bpftool', ['prog', 'dump', 'xlated', 'id', String(id)], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => /^\s*\d+: \(/.test(l))
      .map((l) => l.trim());
    assert.ok(bpftool.length > 10);
    assert.deepStrictEqual(ours, bpftool, 'the same instructions, in the same words');
    assert.ok(
      ours.some((l) => /call __?htab_map_lookup_elem#\d+|call bpf_map_lookup_elem#\d+/.test(l)),
      'helper calls are named from kallsyms',
    );

    const lines = fs.readFileSync(source, 'utf8').split('\n');
    const named = result.lineInfo.filter((li) => li.line > 0);
    assert.ok(named.length > 5);
    for (const li of named) {
      assert.equal(path.basename(li.file), 'fork_trace.bpf.c');
      assert.equal(li.text.trim(), lines[li.line - 1].trim(), `line info text of line ${li.line} is that line`);
    }

    const info = JSON.parse(
      execFileSync('bpftool', ['-j', 'prog', 'show', 'id', String(id)], { encoding: 'utf8' }),
    ) as { bytes_jited?: number };
    const jited = Buffer.from(result.jited, 'base64');
    assert.equal(jited.length, info.bytes_jited ?? 0, 'the whole JIT image');
    if (jited.length > 0) {
      const offsets = jitedLineOffsets(result);
      assert.equal(offsets[0], 0, 'the first line starts the image');
      assert.ok(
        offsets.every((o, i) => o !== undefined && o < jited.length && (i === 0 || o >= offsets[i - 1]!)),
        'line offsets rise through the image',
      );
    }

    const text = renderInstructions(result, id);
    const lookupLine = lines.findIndex((l) => l.includes('bpf_map_lookup_elem(')) + 1;
    const annotation = `; ${lines[lookupLine - 1].trim()} @ ${result.lineInfo[0].file}:${lookupLine}`;
    const at = text.split('\n').indexOf(annotation);
    assert.ok(at > 0, `the rendering has "${annotation}"`);
    assert.match(
      text.split('\n')[at + 1],
      /^\s*\d+: \(18\) r1 = map\[id:\d+\]$/,
      'the lookup line is followed by its instructions',
    );
    assert.equal(text.split('\n').filter((l) => l === annotation).length, 2, 'and once more above its JIT bytes');
    await helper.request(Methods.unload, { loadId: load.loadId });
  });

  it('refuses a program id that does not exist', async function () {
    await assert.rejects(
      helper.request(Methods.instructions, { progId: 0x7ffffff0 }),
      /No such file|ENOENT|not found/i,
    );
  });
});
