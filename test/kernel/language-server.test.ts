// The BPF language server over stdio, with a test client that answers ebpf/verify through a real helper:
// verifier rejections land on the offending C line and clear when fixed, clang errors land on their line,
// hover shows the kernel's own helper documentation and SEC("tracepoint/ completes this kernel's tracepoints.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { HelperClient } from '../../extension/host/client/client';
import { Methods } from '../../extension/protocol/methods';
import {
  expectKernelAsBefore,
  helperScript,
  isRoot,
  kernelObjects,
  KernelObjects,
  repoRoot,
  requireCapability,
  tempDir,
} from '../support/kernel';
import { lineOf, LspTestClient } from '../support/lsp-client';

const bugsSample = path.join(repoRoot, 'bpf-samples', 'verifier_bugs', 'verifier_bugs.bpf.c');
const ERROR = 1;
const INFORMATION = 3;

describe('language server on the real kernel', function () {
  let helper: HelperClient;
  let lsp: LspTestClient;
  let baseline: KernelObjects;
  let work: string;

  before(async function () {
    requireCapability(this, isRoot(), 'verification loads programs into the kernel and needs root');
    assert.ok(fs.existsSync(helperScript), `${helperScript} is missing: run npm run build first`);
    baseline = kernelObjects();
    helper = await HelperClient.start({ helperScript, elevation: 'auto', clientName: 'language-server-test' });
    work = tempDir('lsp');
    lsp = await LspTestClient.start(helper, { outDir: path.join(work, 'out') });
  });

  after(async function () {
    await lsp?.stop();
    if (helper) {
      assert.deepStrictEqual(await helper.request(Methods.listLoaded), [], 'verification leaves no load behind');
      await helper.dispose();
      await expectKernelAsBefore(baseline);
    }
  });

  it('puts each verifier rejection on exactly the offending line, and clears it once fixed', async function () {
    const file = path.join(work, 'verifier_bugs.bpf.c');
    const text = fs.readFileSync(bugsSample, 'utf8');
    fs.writeFileSync(file, text);
    lsp.open(file);
    const diagnostics = await lsp.nextDiagnostics(file, 0);
    const errors = diagnostics.filter((d) => d.severity === ERROR);

    const nullLine = lineOf(text, 'BUG: map value dereferenced');
    const nullDiag = errors.find((d) => d.message.includes('count_getpid'));
    assert.ok(nullDiag, `a diagnostic names count_getpid: ${JSON.stringify(diagnostics)}`);
    assert.equal(nullDiag.range.start.line, nullLine, 'on the line that dereferences the map value');
    assert.match(nullDiag.message, /invalid mem access 'map_value_or_null'/);
    assert.match(nullDiag.message, /at insn \d+: \([0-9a-f]{2}\) /, 'the failing instruction is quoted');
    assert.equal(nullDiag.source, 'bpf verifier');
    const lookupLine = lineOf(text, 'count = bpf_map_lookup_elem(');
    assert.ok(
      nullDiag.relatedInformation?.some((r) => r.location.range.start.line === lookupLine),
      'the path through the lookup is related information',
    );

    const packetLine = lineOf(text, 'BUG: packet read without a bounds check');
    const packetDiag = errors.find((d) => d.message.includes('drop_ipv6'));
    assert.ok(packetDiag, 'a diagnostic names drop_ipv6');
    assert.equal(packetDiag.range.start.line, packetLine, 'on the line that reads eth->h_proto');
    assert.match(packetDiag.message, /invalid access to packet/);
    assert.equal(errors.length, 2, 'nothing else is reported as an error');

    const lenses = await lsp.codeLenses(file);
    const fnLine = lineOf(text, 'SEC("tracepoint/syscalls/sys_enter_getpid")');
    assert.ok(
      lenses.some(
        (l) => l.range.start.line === fnLine && /rejected by the verifier: R0 invalid mem access/.test(l.command.title),
      ),
      JSON.stringify(lenses),
    );

    const fixed = text
      .replace('\t*count += 1; /* BUG', '\tif (!count)\n\t\treturn 0;\n\t*count += 1; /* was BUG')
      .replace(
        '\tif (eth->h_proto',
        '\tif ((void *)(eth + 1) > (void *)(long)ctx->data_end)\n\t\treturn XDP_PASS;\n\tif (eth->h_proto',
      );
    const before = lsp.publishCount(file);
    lsp.save(file, fixed);
    const after = await lsp.nextDiagnostics(file, before);
    assert.deepStrictEqual(
      after.filter((d) => d.severity === ERROR),
      [],
      'fixing both bugs clears their diagnostics',
    );

    const verifiedLenses = await lsp.codeLenses(file);
    const verified = verifiedLenses.filter((l) => l.command.title.startsWith('$(pass) verified'));
    assert.equal(verified.length, 2, JSON.stringify(verifiedLenses));
    for (const lens of verified)
      assert.match(lens.command.title, /\d+ insns processed · \d+ states \(peak \d+\) · stack \d+(\+\d+)* B · \d+ µs/);
  });

  it('puts a clang syntax error on its line', async function () {
    const file = path.join(work, 'syntax.bpf.c');
    const text =
      '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n\nSEC("xdp")\nint broken(struct xdp_md *ctx)\n{\n\tint x = 1\n\treturn x;\n}\n';
    fs.writeFileSync(file, text);
    lsp.open(file);
    const diagnostics = await lsp.nextDiagnostics(file, 0);
    const error = diagnostics.find((d) => d.severity === ERROR);
    assert.ok(error, JSON.stringify(diagnostics));
    assert.equal(error.source, 'clang');
    assert.match(error.message, /expected ';'/);
    assert.equal(
      error.range.start.line,
      lineOf(text, 'int x = 1'),
      "clang reports the missing ';' at the end of 'int x = 1'",
    );
  });

  it('hovers bpf_map_lookup_elem with the description from the installed linux/bpf.h', async function () {
    const header = fs.readFileSync('/usr/include/linux/bpf.h', 'utf8').split('\n');
    const proto = header.findIndex((l) => /^ \* void \*bpf_map_lookup_elem\(/.test(l));
    assert.ok(proto > 0, 'the UAPI header documents bpf_map_lookup_elem');
    const firstDescriptionLine = header[proto + 2].replace(/^ \*\s*/, '').replace(/\*/g, '');

    const file = path.join(work, 'verifier_bugs.bpf.c');
    const text = fs.readFileSync(file, 'utf8');
    const line = lineOf(text, 'bpf_map_lookup_elem(');
    const hover = await lsp.hover(file, line, text.split('\n')[line].indexOf('bpf_map_lookup_elem') + 4);
    assert.ok(hover, 'a hover is returned');
    assert.match(hover.contents.value, /void \*bpf_map_lookup_elem\(struct bpf_map \*map, const void \*key\)/);
    assert.ok(
      hover.contents.value.replace(/[_*]/g, '').includes(firstDescriptionLine),
      `hover quotes "${firstDescriptionLine}"`,
    );
  });

  it('reports an fentry program as "cannot be verified on this kernel" exactly when the kernel refuses fentry', async function () {
    const capabilities = await helper.request(Methods.capabilities);
    const fentry = capabilities['program:fentry'];
    const file = path.join(work, 'fentry.bpf.c');
    const text =
      '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n#include <bpf/bpf_tracing.h>\n' +
      'SEC("fentry/do_unlinkat")\nint BPF_PROG(on_unlink, int dfd, struct filename *name)\n{\n\treturn 0;\n}\n' +
      'SEC("tracepoint/syscalls/sys_enter_getpid")\nint on_getpid(void *ctx)\n{\n\treturn 0;\n}\n' +
      'char LICENSE[] SEC("license") = "GPL";\n';
    fs.writeFileSync(file, text);
    lsp.open(file);
    const diagnostics = await lsp.nextDiagnostics(file, 0);
    const refused = diagnostics.filter((d) => /cannot be verified on this kernel/.test(d.message));
    if (fentry.supported) {
      assert.deepStrictEqual(refused, [], 'fentry loads here, so it verifies');
    } else {
      assert.equal(refused.length, 1, JSON.stringify(diagnostics));
      assert.equal(
        refused[0].range.start.line,
        lineOf(text, 'SEC("fentry/do_unlinkat")'),
        'on the SEC line of the refused program',
      );
      assert.match(refused[0].message, /^on_unlink: cannot be verified on this kernel: /);
    }
    const lenses = await lsp.codeLenses(file);
    assert.ok(
      lenses.some(
        (l) =>
          l.range.start.line === lineOf(text, 'SEC("tracepoint/') && l.command.title.startsWith('$(pass) verified'),
      ),
      'the other program still verifies',
    );
  });

  it('completes SEC("tracepoint/ with this kernel\'s tracepoints from tracefs', async function () {
    requireCapability(
      this,
      fs.existsSync('/sys/kernel/tracing/events/sched/sched_process_fork'),
      'tracefs has no sched/sched_process_fork',
    );
    const file = path.join(work, 'complete.bpf.c');
    const text = '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\nSEC("tracepoint/sched/sched_process_f';
    fs.writeFileSync(file, text);
    lsp.open(file);
    const lastLine = text.split('\n').length - 1;
    const items = await lsp.completion(file, lastLine, text.split('\n')[lastLine].length);
    assert.ok(
      items.some((i) => i.label === 'tracepoint/sched/sched_process_fork'),
      JSON.stringify(items.slice(0, 5)),
    );
    const all = await lsp.completion(file, lastLine, 'SEC("'.length);
    for (const type of ['xdp', 'tracepoint/', 'fentry/', 'lsm/', 'tp_btf/', 'cgroup_skb/ingress'])
      assert.ok(
        all.some((i) => i.label === type),
        `offers ${type}`,
      );
  });
});

describe('language server without a helper', function () {
  it('says what to install when clang is missing, as one diagnostic', async function () {
    const work = tempDir('lsp-noclang');
    const lsp = await LspTestClient.start(undefined, {
      outDir: path.join(work, 'out'),
      clangPath: path.join(work, 'no-such-clang'),
    });
    try {
      const file = path.join(work, 'a.bpf.c');
      fs.writeFileSync(file, '#include <linux/bpf.h>\n');
      lsp.open(file);
      const diagnostics = await lsp.nextDiagnostics(file, 0);
      assert.equal(diagnostics.length, 1, JSON.stringify(diagnostics));
      assert.equal(diagnostics[0].severity, ERROR);
      assert.match(diagnostics[0].message, /no-such-clang" \(ebpfStudio.clangPath\) is not an executable file/);
    } finally {
      await lsp.stop();
    }
  });

  it('still shows build diagnostics and one information diagnostic saying verification is unavailable', async function () {
    const work = tempDir('lsp-nohelper');
    const lsp = await LspTestClient.start(undefined, { outDir: path.join(work, 'out') });
    try {
      const file = path.join(work, 'verifier_bugs.bpf.c');
      fs.writeFileSync(file, fs.readFileSync(bugsSample, 'utf8'));
      lsp.open(file);
      const diagnostics = await lsp.nextDiagnostics(file, 0);
      assert.equal(diagnostics.length, 1, JSON.stringify(diagnostics));
      assert.equal(diagnostics[0].severity, INFORMATION);
      assert.match(diagnostics[0].message, /^not verified: no helper in this test$/);
    } finally {
      await lsp.stop();
    }
  });
});
