// `ebpf-studio check` (the CLI, its own helper) and the editor's language server (verification through the
// client's helper) must say the same things at the same lines for every sample in bpf-samples/, and the
// check must build both styles of real code: CO-RE on vmlinux.h and code on UAPI headers.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath } from 'url';
import { HelperClient } from '../../extension/host/client/client';
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
import { LspTestClient, PublishedDiagnostic } from '../support/lsp-client';

const SEVERITY = ['', 'error', 'warning', 'note', 'note'];

function samples(): string[] {
  const root = path.join(repoRoot, 'bpf-samples');
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      fs
        .readdirSync(path.join(root, d.name))
        .filter((f) => f.endsWith('.bpf.c'))
        .map((f) => path.join(root, d.name, f)),
    );
}

/** `file:line: severity: message` for the main diagnostics of the CLI's output (related notes dropped). */
function cliLines(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => /^(.+?):(\d+):\d+: (error|warning|note): (.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && !m[4].startsWith('on the path: '))
    .map((m) => `${path.resolve(repoRoot, m[1])}:${m[2]}: ${m[3]}: ${m[4]}`)
    .sort();
}

function editorLines(byUri: Map<string, PublishedDiagnostic[]>): string[] {
  return [...byUri]
    .flatMap(([uri, list]) =>
      list.map((d) => `${fileURLToPath(uri)}:${d.range.start.line + 1}: ${SEVERITY[d.severity]}: ${d.message}`),
    )
    .sort();
}

describe('ebpf-studio check agrees with the editor', function () {
  let helper: HelperClient;
  let lsp: LspTestClient;
  let baseline: KernelObjects;

  before(async function () {
    requireCapability(this, isRoot(), 'verification loads programs into the kernel and needs root');
    assert.ok(fs.existsSync(cli), `${cli} is missing: run npm run build first`);
    baseline = kernelObjects();
    helper = await HelperClient.start({ helperScript, elevation: 'auto', clientName: 'agreement-test' });
    lsp = await LspTestClient.start(helper, { outDir: tempDir('agree') });
  });

  after(async function () {
    await lsp?.stop();
    await helper?.dispose();
    if (baseline) await expectKernelAsBefore(baseline);
  });

  for (const sample of samples()) {
    it(`${path.relative(repoRoot, sample)}: same messages at the same lines`, async function () {
      const cliRun = await runCli(['check', sample]);
      const before = lsp.publishCount(sample);
      lsp.open(sample);
      const own = await lsp.nextDiagnostics(sample, before);
      const published = new Map([[`file://${sample}`, own]]);
      const expected = cliLines(cliRun.stdout);
      assert.deepStrictEqual(editorLines(published), expected);
      const hasError = expected.some((l) => / error: /.test(l));
      assert.equal(cliRun.code, hasError ? 1 : 0, 'check exits 1 exactly when something is an error');
      if (path.basename(sample) === 'verifier_bugs.bpf.c')
        assert.equal(expected.filter((l) => / error: verifier rejected/.test(l)).length, 2);
    });
  }

  it('builds and verifies CO-RE code on vmlinux.h with a local header (-I) and code on UAPI headers', async function () {
    const dir = tempDir('styles');
    fs.mkdirSync(path.join(dir, 'include'));
    fs.writeFileSync(path.join(dir, 'include', 'shared.h'), '#define WATCHED_PID_SLOTS 64\n');
    fs.writeFileSync(
      path.join(dir, 'core.bpf.c'),
      '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n#include <bpf/bpf_core_read.h>\n#include "shared.h"\n' +
        'struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, WATCHED_PID_SLOTS); __type(key, __u32); __type(value, __u64); } seen SEC(".maps");\n' +
        'SEC("tracepoint/sched/sched_process_fork")\nint on_fork(struct trace_event_raw_sched_process_fork *ctx)\n{\n' +
        '\tstruct task_struct *task = (void *)bpf_get_current_task();\n\t__u32 slot = (__u32)BPF_CORE_READ(task, real_parent, tgid) % WATCHED_PID_SLOTS;\n\t__u64 *v = bpf_map_lookup_elem(&seen, &slot);\n\tif (v) *v += 1;\n\treturn 0;\n}\n' +
        'char LICENSE[] SEC("license") = "GPL";\n',
    );
    fs.writeFileSync(
      path.join(dir, 'uapi.bpf.c'),
      '#include <linux/bpf.h>\n#include <linux/if_ether.h>\n#include <linux/ip.h>\n#include <bpf/bpf_helpers.h>\n#include <bpf/bpf_endian.h>\n' +
        'SEC("xdp")\nint pass_ipv4(struct xdp_md *ctx)\n{\n\tvoid *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;\n' +
        '\tstruct ethhdr *eth = data;\n\tif ((void *)(eth + 1) > end) return XDP_PASS;\n\treturn eth->h_proto == bpf_htons(ETH_P_IP) ? XDP_PASS : XDP_DROP;\n}\n' +
        'char LICENSE[] SEC("license") = "GPL";\n',
    );
    const { code, stdout, stderr } = await runCli(
      ['check', '-I', path.join(dir, 'include'), 'core.bpf.c', 'uapi.bpf.c'],
      dir,
    );
    assert.equal(code, 0, stderr);
    // No diagnostics: only each program's verdict, at its SEC line (issue 12).
    assert.match(
      stdout,
      /^core\.bpf\.c:6: on_fork: verified \(\d+ insns processed\)\nuapi\.bpf\.c:6: pass_ipv4: verified \(\d+ insns processed\)\n$/,
    );
    assert.match(stderr, /core\.bpf\.c: ok, verified: on_fork \(\d+ insns\)/);
    assert.match(stderr, /uapi\.bpf\.c: ok, verified: pass_ipv4 \(\d+ insns\)/);
  });

  it('verifies a built .bpf.o as it is, warns about a source with no programs, names a missing file', async function () {
    const dir = tempDir('check-inputs');
    const built = path.join(dir, 'built');
    fs.writeFileSync(
      path.join(dir, 'maps_only.bpf.c'),
      '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n' +
        'struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");\n' +
        'char LICENSE[] SEC("license") = "GPL";\n',
    );
    const noPrograms = await runCli(['check', 'maps_only.bpf.c'], dir);
    assert.equal(noPrograms.code, 0, noPrograms.stderr);
    assert.equal(
      noPrograms.stdout,
      'maps_only.bpf.c:1:1: warning: no programs (no SEC("...") functions): nothing to verify or load\n',
    );
    assert.equal(noPrograms.stderr, 'maps_only.bpf.c: ok (no programs to verify)\n');

    // The object clang built for the verifier_bugs sample: checked without a rebuild, same verdicts.
    const sample = path.join(repoRoot, 'bpf-samples', 'verifier_bugs', 'verifier_bugs.bpf.c');
    const object = await runCli(['check', await buildObject(sample, built)], dir);
    assert.equal(object.code, 1, 'check of a rejected object exits 1');
    assert.equal(
      cliLines(object.stdout).filter((l) => / error: verifier rejected (count_getpid|drop_ipv6)/.test(l)).length,
      2,
    );

    const missing = await runCli(['check', 'nowhere.bpf.c'], dir);
    assert.equal(missing.code, 1, 'check of a missing file exits 1');
    assert.equal(missing.stderr, `ebpf-studio: No such file: ${path.join(dir, 'nowhere.bpf.c')}\n`);
  });
});
