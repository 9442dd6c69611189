// Real programs as people write them (issue 12): alternative programs for a kernel function this kernel
// lacks, maps sized by the loader, code on current libbpf headers (BPF_UPROBE, BPF_KSYSCALL,
// bpf_ksym_exists), legacy bpf_map_def maps and their quick fix, a CO-RE read of a field this kernel
// lacks. Every program gets exactly one verdict on its SEC line, in `check --json`, in `check`'s text
// and in the editor; what this kernel refuses is said as it is here, and verified where it is allowed.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { HelperClient } from '../../extension/host/client/client';
import { Methods } from '../../extension/protocol/methods';
import { HelperError } from '../../extension/protocol/errors';
import { vmlinuxHeader } from '../../extension/toolchain/compile';
import { bundledLibbpfHeaders } from '../../extension/toolchain/toolchain';
import type { ProgramVerdict } from '../../extension/toolchain/verify';
import type { StatsFile } from '../../extension/toolchain/stats';
import {
  buildObject,
  expectKernelAsBefore,
  helperScript,
  isRoot,
  kernelObjects,
  KernelObjects,
  repoRoot,
  requireCapability,
  runCli,
  cliScript as cli,
  tempDir,
} from '../support/kernel';
import { lineOf, LspTestClient, PublishedDiagnostic } from '../support/lsp-client';

const fixtures = path.join(__dirname, 'fixtures', 'realcode');
const fixture = (name: string) => path.join(fixtures, `${name}.bpf.c`);
const ERROR = 1;
const WARNING = 2;
const INFORMATION = 3;

const check = (args: string[], cwd?: string) => runCli(['check', ...args], cwd);

/** The JSON result `check --json` prints for one file (the last line that is an object). */
function jsonResult(out: string): {
  programs: ProgramVerdict[];
  diagnostics: { line: number; severity: string; message: string; detail?: string[] }[];
} {
  const line = out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  assert.ok(line, `check --json printed a result:\n${out}`);
  return JSON.parse(line);
}

/** 1-based line of the first line containing `needle`. */
function line1(file: string, needle: string): number {
  return lineOf(fs.readFileSync(file, 'utf8'), needle) + 1;
}

/** Exactly one verdict per program of the object, each on the line its SEC(...) is on. */
async function assertOneVerdictEach(
  helper: HelperClient,
  file: string,
  verdicts: ProgramVerdict[],
  stdout?: string,
): Promise<void> {
  const object = await buildObject(file);
  const spec = await helper.request(Methods.describe, { path: object });
  assert.deepEqual(
    verdicts.map((v) => v.program).sort(),
    spec.programs.map((p) => p.name).sort(),
    'one verdict per program',
  );
  for (const v of verdicts) {
    assert.equal(v.line, line1(file, `SEC("${v.section}")`), `${v.program}'s verdict is on its SEC line`);
    if (stdout !== undefined) {
      const text = stdout
        .split('\n')
        .filter((l) => l.includes(`: ${v.program}: `) && !/: (error|warning|note): /.test(l));
      assert.equal(text.length, 1, `one text verdict for ${v.program}:\n${stdout}`);
      assert.ok(text[0].includes(`${path.basename(file)}:${v.line}: ${v.program}: `), text[0]);
    }
  }
}

describe('real programs as people write them', function () {
  let helper: HelperClient;
  let lsp: LspTestClient;
  let baseline: KernelObjects;
  let work: string;
  let fentrySupported: boolean;

  before(async function () {
    requireCapability(this, isRoot(), 'verification loads programs into the kernel and needs root');
    assert.ok(fs.existsSync(cli), `${cli} is missing: run npm run build first`);
    baseline = kernelObjects();
    helper = await HelperClient.start({ helperScript, elevation: 'auto', clientName: 'real-code-test' });
    fentrySupported = (await helper.request(Methods.capabilities))['program:fentry'].supported;
    work = tempDir('realcode');
    lsp = await LspTestClient.start(helper, { outDir: path.join(work, 'out') });
  });

  after(async function () {
    await lsp?.stop();
    await helper?.dispose();
    if (baseline) await expectKernelAsBefore(baseline);
  });

  it('sets aside an fentry on a function this kernel lacks and verifies the alternatives', async function () {
    const file = fixture('alternatives');
    const hasFunction = /\saccount_page_dirtied$/m.test(fs.readFileSync('/proc/kallsyms', 'utf8'));
    const result = await check(['--json', file]);
    const { programs, diagnostics } = jsonResult(result.stdout);
    await assertOneVerdictEach(helper, file, programs);
    const verdict = (name: string) => programs.find((p) => p.program === name)!;

    const missing = verdict('dirtied_fentry');
    if (hasFunction) {
      assert.notEqual(missing.status, 'failed', 'the function exists here, so only fentry policy can stop it');
    } else {
      assert.equal(missing.status, 'refused');
      assert.match(missing.message, /^this kernel has no function `account_page_dirtied`$/);
      const warning = diagnostics.find((d) => d.line === missing.line);
      assert.ok(warning, 'a diagnostic on its SEC line');
      assert.equal(warning.severity, 'warning');
      assert.match(
        warning.message,
        /^dirtied_fentry: cannot be verified on this kernel: this kernel has no function `account_page_dirtied`; the object's other programs were verified$/,
      );
      assert.ok(
        warning.detail?.some((l) => /libbpf: .*account_page_dirtied/.test(l)),
        'libbpf said it too',
      );
    }
    const unlink = verdict('unlink_fentry');
    if (fentrySupported) assert.equal(unlink.status, 'verified');
    else {
      assert.equal(unlink.status, 'refused');
      assert.match(unlink.message, /refuses tracing \(trace_fentry\) programs with EPERM/);
    }
    assert.equal(verdict('dirtied_kprobe').status, 'verified', 'kprobe programs load (attaching is another matter)');
    assert.equal(verdict('dirtied_tracepoint').status, 'verified');
    assert.equal(result.code, 0, 'programs set aside are warnings, not failures of the code');
    assert.ok(!diagnostics.some((d) => d.line === 1 && /libbpf/.test(d.message)), 'no raw libbpf text at 1:1');

    const text = await check([file]);
    await assertOneVerdictEach(helper, file, programs, text.stdout);

    // The editor: the same verdicts as lenses on the same lines, and the same warnings.
    lsp.open(file);
    const published = await lsp.nextDiagnostics(file, 0);
    const lenses = await lsp.codeLenses(file);
    for (const v of programs) {
      // Besides the verdict, a program's line carries a "Debug path" lens (the verifier debugger, issue 13).
      const here = lenses.filter((l) => l.range.start.line === v.line - 1 && !/Debug path/.test(l.command.title));
      assert.equal(here.length, 1, `one lens (verdict) on ${v.program}'s SEC line`);
      assert.match(
        here[0].command.title,
        v.status === 'verified' ? /^\$\(pass\) verified/ : /cannot be verified on this kernel/,
      );
    }
    const warnings = published.filter((d) => d.severity === WARNING).map((d) => d.range.start.line + 1);
    assert.deepEqual(
      warnings.sort(),
      programs
        .filter((p) => p.status === 'refused')
        .map((p) => p.line)
        .sort(),
    );
  });

  it('verifies maps sized by the loader with a placeholder, noted on their definition lines; -G sets a setting', async function () {
    const file = fixture('loader_sized');
    const result = await check(['--json', file]);
    const { programs, diagnostics } = jsonResult(result.stdout);
    await assertOneVerdictEach(helper, file, programs);
    assert.equal(result.code, 0, result.stdout);
    assert.deepEqual(
      programs.map((p) => [p.program, p.status]),
      [['count_stacks', 'verified']],
    );
    const notes = diagnostics.filter((d) => d.severity === 'note');
    assert.deepEqual(
      notes.map((d) => d.line),
      [line1(file, '} stacks SEC(".maps")'), line1(file, '} per_cpu_counts SEC(".maps")')],
    );
    assert.match(notes[0].message, /^stacks: max_entries is left to the loader; verified with a placeholder of 1 /);

    // A load that does not size them is told which map and why, not a raw libbpf line.
    const object = await buildObject(file);
    await assert.rejects(helper.request(Methods.load, { path: object, verifyOnly: true }), (error: HelperError) => {
      assert.equal(error.data.kind, 'Internal');
      assert.equal(error.data.kind === 'Internal' && error.data.map, 'stacks');
      assert.match(error.message, /^Map stacks of loader_sized could not be created \(EINVAL\): .*left to the loader/);
      return true;
    });

    const set = await check(['-G', 'target_uid=1000', file]);
    assert.equal(set.code, 0, set.stdout + set.stderr);
    assert.match(set.stdout, /count_stacks: verified/);
    const wrong = await check(['-G', 'no_such_setting=1', file]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /has no global variable "no_such_setting" \(its globals: .*target_uid/);
    const tooBig = await check(['-G', 'target_uid=0x8000000000000000', file]);
    assert.match(tooBig.stderr, /does not fit in 8 bytes/);
  });

  it('builds code on current libbpf headers (BPF_UPROBE, BPF_KSYSCALL, bpf_ksym_exists) and verifies it', async function () {
    const headers = bundledLibbpfHeaders();
    assert.ok(headers, 'libbpf headers are shipped in dist/include (npm run build:native stages them)');
    const [major, minor] = headers.version.split('.').map(Number);
    assert.ok(major > 1 || (major === 1 && minor >= 4), `shipped libbpf ${headers.version} is 1.4 or newer`);
    assert.equal((await helper.request(Methods.capabilities)) !== undefined, true);
    assert.match(helper.info.libbpfVersion, /^v?1\.([4-9]|\d\d)/, 'the helper loads with the same libbpf');

    const file = fixture('newer_headers');
    const result = await check(['--json', file]);
    const { programs, diagnostics } = jsonResult(result.stdout);
    assert.equal(result.code, 0, JSON.stringify(diagnostics));
    await assertOneVerdictEach(helper, file, programs);
    for (const p of programs) assert.equal(p.status, 'verified', `${p.program}: ${JSON.stringify(p)}`);
  });

  it('says libbpf 1.0 removed bpf_map_def maps, and its quick fix makes an object that verifies', async function () {
    const file = path.join(work, 'legacy_maps.bpf.c');
    fs.copyFileSync(fixture('legacy_maps'), file);
    const result = await check(['--json', file]);
    assert.equal(result.code, 1);
    const { diagnostics } = jsonResult(result.stdout);
    const legacy = diagnostics.filter((d) => /libbpf 1\.0 removed `struct bpf_map_def SEC\("maps"\)`/.test(d.message));
    assert.deepEqual(
      legacy.map((d) => d.line),
      [line1(file, 'SEC("maps") pid_counts'), line1(file, 'SEC("maps") events')],
    );
    assert.ok(!diagnostics.some((d) => /incomplete type/.test(d.message)), "clang's words are detail, not the message");

    lsp.open(file);
    const published = await lsp.nextDiagnostics(file, 0);
    const ours = published.filter((d) => d.code === 'legacy-map-definition');
    assert.equal(ours.length, 2, JSON.stringify(published));
    assert.ok(ours.every((d) => d.severity === ERROR));
    const actions = await lsp.codeActions(file, ours);
    const all = actions.find((a) => /every `struct bpf_map_def` map/.test(a.title));
    assert.ok(all?.edit, `a quick fix for the whole file: ${JSON.stringify(actions.map((a) => a.title))}`);
    assert.ok(actions.some((a) => a.title.startsWith('Rewrite `pid_counts` as a BTF-defined map')));

    // Apply the edits as the editor would (last first, so earlier ranges stay valid).
    let text = fs.readFileSync(file, 'utf8');
    const offset = (p: { line: number; character: number }) =>
      text
        .split('\n')
        .slice(0, p.line)
        .reduce((n, l) => n + l.length + 1, 0) + p.character;
    const edits = Object.values(all.edit.changes)[0].sort((a, b) => b.range.start.line - a.range.start.line);
    for (const e of edits) text = text.slice(0, offset(e.range.start)) + e.newText + text.slice(offset(e.range.end));
    assert.match(text, /__uint\(type, BPF_MAP_TYPE_HASH\);\n\t__type\(key, __u32\);/);
    lsp.save(file, text);
    const after = await lsp.nextDiagnostics(file, 1);
    assert.deepEqual(
      after.filter((d) => d.severity === ERROR),
      [],
      'the rewritten file builds and verifies',
    );
    const fixed = await check(['--json', file]);
    assert.equal(fixed.code, 0, fixed.stdout);
    assert.deepEqual(
      jsonResult(fixed.stdout).programs.map((p) => [p.program, p.status]),
      [['count_getppid', 'verified']],
    );
  });

  it('puts a CO-RE read of a field this kernel lacks on the line that reads it, and verifies the rest', async function () {
    const file = fixture('core_missing_field');
    const vmlinux = fs.readFileSync(await vmlinuxHeader(), 'utf8');
    const request = /\nstruct request \{([\s\S]*?)\n\};/.exec(vmlinux)?.[1] ?? '';
    requireCapability(this, !/\brq_disk;/.test(request), 'this kernel still has request.rq_disk (before 5.17)');
    const result = await check(['--json', file]);
    const { programs, diagnostics } = jsonResult(result.stdout);
    await assertOneVerdictEach(helper, file, programs);
    const old = programs.find((p) => p.program === 'old_rq_disk')!;
    assert.equal(old.status, 'rejected');
    assert.equal(old.message, 'field `rq_disk` of `struct request` does not exist in this kernel');
    const diagnostic = diagnostics.find((d) => /field `rq_disk`/.test(d.message))!;
    assert.equal(diagnostic.line, line1(file, 'BPF_CORE_READ(rq, rq_disk)'), 'on the line that reads the field');
    assert.ok(
      diagnostic.detail?.some((l) =>
        /^libbpf: failed to resolve CO-RE relocation <byte_off> .*request___old\.rq_disk/.test(l),
      ),
      "libbpf's own line is kept as detail",
    );
    assert.equal(programs.find((p) => p.program === 'parent_pid')!.status, 'verified');
    assert.equal(result.code, 1);

    lsp.open(file);
    const published: PublishedDiagnostic[] = await lsp.nextDiagnostics(file, 0);
    const inEditor = published.find((d) => /field `rq_disk`/.test(d.message));
    assert.equal(inEditor?.range.start.line, diagnostic.line - 1);
    assert.ok(inEditor?.relatedInformation?.some((r) => /CO-RE relocation/.test(r.message)));
    assert.ok(!published.some((d) => d.severity === INFORMATION && /libbpf/.test(d.message)));
  });

  it('check --stats-json, then a change that adds instructions: --compare reports it and --fail-above fails', async function () {
    const dir = tempDir('realcode-stats');
    for (const f of fs.readdirSync(path.join(repoRoot, 'bpf-samples', 'xdp_counter')))
      fs.copyFileSync(path.join(repoRoot, 'bpf-samples', 'xdp_counter', f), path.join(dir, f));
    const file = path.join(dir, 'xdp_counter.bpf.c');
    const other = path.join(dir, 'loader_sized.bpf.c');
    fs.copyFileSync(fixture('loader_sized'), other);
    const base = path.join(dir, 'base.json');

    const first = await check(['--stats', '--stats-json', base, file, other], dir);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(
      first.stdout,
      /^File\s+Program\s+Verdict\s+insns\s+states\s+peak states\s+stack\s+jited\s+time \(us\)$/m,
    );
    const stats = JSON.parse(fs.readFileSync(base, 'utf8')) as StatsFile;
    const row = stats.programs.find((p) => p.program === 'count_packets')!;
    assert.ok(row, JSON.stringify(stats.programs));
    assert.equal(row.file, 'xdp_counter.bpf.c');
    assert.equal(row.verdict, 'verified');
    for (const metric of ['insnsProcessed', 'totalStates', 'peakStates', 'stackDepth', 'verificationTimeUsec'] as const)
      assert.equal(typeof row[metric], 'number', `${metric} is recorded`);
    assert.ok((row.jitedBytes ?? 0) > 0, 'the JITed size is recorded');

    const same = await check(['--compare', base, '--fail-above', '10%', file, other], dir);
    assert.equal(same.code, 0, `an unchanged object is no regression:\n${same.stdout}`);

    // More work at the start of the XDP program: more instructions processed.
    const text = fs.readFileSync(file, 'utf8');
    const opening = text.indexOf('{', text.indexOf('SEC("xdp")'));
    fs.writeFileSync(
      file,
      text.slice(0, opening + 1) +
        '\n\tbpf_printk("xdp_counter: on %d", ctx->ingress_ifindex);' +
        text.slice(opening + 1),
    );
    fs.rmSync(other);
    const changed = await check(['--compare', base, '--fail-above', '1%', file], dir);
    assert.equal(changed.code, 1, changed.stdout + changed.stderr);
    const line = changed.stdout.split('\n').find((l) => /^xdp_counter\.bpf\.c\s+count_packets\s/.test(l));
    assert.ok(line, changed.stdout);
    const m = new RegExp(`${row.insnsProcessed} -> (\\d+) \\(\\+(\\d+) \\+(\\d+\\.\\d)%\\)`).exec(line);
    assert.ok(m, `insns delta with %: ${line}`);
    assert.equal(Number(m[2]), Number(m[1]) - row.insnsProcessed!);
    assert.match(line, /REGRESSION$/);
    assert.match(changed.stdout, /^loader_sized\.bpf\.c\s+count_stacks\s+removed \(was verified\)/m);
    assert.match(changed.stdout, /^regression: xdp_counter\.bpf\.c: count_packets: insns \d+ -> \d+/m);
    assert.match(changed.stderr, /1 program\(s\) regressed beyond 1%/);

    const lenient = await check(['--compare', base, '--fail-above', '10000', file], dir);
    assert.equal(lenient.code, 0, 'a threshold above the growth lets it pass');
  });
});
