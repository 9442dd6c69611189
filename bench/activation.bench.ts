// Extension activation in a real VS Code: code-server's extension host, started the way the integration
// tier starts it (test/integration/host.ts runInCodeServer, chromium opening the workbench on bpf-samples/)
// with the packed .vsix as the development extension. eBPF Studio activates on its own
// (workspaceContains:**/*.bpf.c); bench/activation-host.js then reads VS Code's own performance marks of the
// extension host: loading the bundle (willLoadExtensionCode -> didLoadExtensionCode), then activate() until its
// promise settles (willActivateExtension -> didActivateExtension). The reference, measured in the same hosts:
// the built-in extensions that activated there too (vscode.git in the metrics).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ensureTools, extensionId, freshState, installExtension, repoRoot } from '../test/e2e/support/code-server';
import { runInCodeServer } from '../test/integration/host';
import { BenchResult, runIfMain } from './bench-env';
import { medianRange, Metric, summarize, timeMs } from './metrics';

const ROUNDS = Number(process.env.BENCH_ACTIVATION_ROUNDS ?? 3);

interface Marks {
  marks: { name: string; startTime: number }[];
  peakRssKiB: number;
}

const MARK =
  /^code\/extHost\/(willLoadExtensionCode|didLoadExtensionCode|willActivateExtension|didActivateExtension)\/(.+)$/;

interface Activation {
  /** Loading the extension's code (willLoadExtensionCode -> didLoadExtensionCode). */
  load: number;
  /** activate() until its promise settled (willActivateExtension -> didActivateExtension). */
  activate: number;
  /** Both, from the start of loading to the end of activate(). */
  total: number;
}

/** Each activated extension's times, by id, from the extension host's marks. */
function activations(marks: Marks['marks']): Map<string, Activation> {
  const at = new Map<string, Record<string, number>>();
  for (const m of marks) {
    const [, what, id] = MARK.exec(m.name) ?? [];
    if (what) at.set(id, { ...at.get(id), [what]: m.startTime });
  }
  const out = new Map<string, Activation>();
  for (const [id, t] of at) {
    if (t.didActivateExtension === undefined || t.willLoadExtensionCode === undefined) continue;
    out.set(id, {
      load: t.didLoadExtensionCode - t.willLoadExtensionCode,
      activate: t.didActivateExtension - t.willActivateExtension,
      total: t.didActivateExtension - t.willLoadExtensionCode,
    });
  }
  return out;
}

export async function run(): Promise<BenchResult> {
  const tools = ensureTools({ chromium: true });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ebpf-studio-bench-activation-'));
  try {
    // npm run bench has just built dist/: pack it as it is.
    const vsix = path.join(work, 'ebpf-studio.vsix');
    execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'package.js'), '--no-build', '--out', vsix], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const state = freshState(path.join(tools.cache, 'e2e', 'bench-activation-extension'));
    const developmentPath = installExtension(tools, state, vsix, path.join(state.root, 'unpacked'));
    const out = path.join(work, 'marks.json');
    // The extension host inherits code-server's environment, which inherits this process's.
    process.env.EBPF_STUDIO_BENCH_ACTIVATION = out;

    const ours: Activation[] = [];
    const hostRss: number[] = [];
    const others = new Map<string, number[]>();
    const whole: number[] = [];
    for (let round = 0; round <= ROUNDS; round++) {
      fs.rmSync(out, { force: true });
      let code = 0;
      const ms = await timeMs(async () => {
        code = await runInCodeServer(
          {
            developmentPath,
            testsPath: path.join(__dirname, 'activation-host.js'),
            workspace: path.join(repoRoot, 'bpf-samples'),
          },
          180_000,
          'bench-activation',
        );
      });
      if (code !== 0 || !fs.existsSync(out))
        throw new Error(`code-server run ${round} ended with ${code}; logs in test/e2e/artifacts/bench-activation/`);
      // Round 0 warms up (code-server's first start compiles and caches).
      if (round === 0) continue;
      const marks = JSON.parse(fs.readFileSync(out, 'utf8')) as Marks;
      const activated = activations(marks.marks);
      const id = [...activated.keys()].find((k) => k.toLowerCase() === extensionId);
      if (!id) throw new Error(`no activation marks for ${extensionId}: ${[...activated.keys()].join(', ')}`);
      ours.push(activated.get(id)!);
      hostRss.push(marks.peakRssKiB / 1024);
      whole.push(ms);
      for (const [k, t] of activated) if (k !== id) others.set(k, [...(others.get(k) ?? []), t.total]);
    }

    const act = summarize(ours.map((a) => a.total));
    const load = summarize(ours.map((a) => a.load));
    const call = summarize(ours.map((a) => a.activate));
    const rss = summarize(hostRss);
    const rows: (string | number)[][] = [
      ['eBPF Studio: activation (load + activate())', medianRange(act)],
      ['  loading dist/extension.js', medianRange(load)],
      ['  activate() until its promise settles', medianRange(call)],
      ...[...others]
        .sort((a, b) => summarize(b[1]).median - summarize(a[1]).median)
        .map(([id, t]) => [`built-in ${id}: activation`, medianRange(summarize(t))]),
      ['code-server start to the end of the run (not activation)', medianRange(summarize(whole), 0)],
    ];
    // The reference: the built-in git extension (a large one that also activates on what the folder holds),
    // else the built-in that activated in every round and took longest.
    const reference = [...others]
      .filter(([, t]) => t.length === ROUNDS)
      .map(([id, t]) => ({ id, median: summarize(t).median }))
      .sort((a, b) => Number(b.id === 'vscode.git') - Number(a.id === 'vscode.git') || b.median - a.median)[0];
    const metrics: Metric[] = [
      {
        name: 'extension activation in code-server (VS Code marks)',
        value: act.median,
        unit: 'ms',
        reference: reference ? `built-in ${reference.id} ${reference.median.toFixed(0)} ms in the same hosts` : '',
        ratio: reference ? act.median / reference.median : undefined,
        met: null,
      },
      { name: 'activation: loading the bundle', value: load.median, unit: 'ms', met: null },
      { name: 'activation: activate() until settled', value: call.median, unit: 'ms', met: null },
      { name: 'peak RSS of the extension host after activation', value: rss.median, unit: 'MiB', met: null },
    ];
    return {
      title: `activation in code-server ${tools.codeServerVersion}: median (min–max) of ${ROUNDS} starts after a warm-up, ms`,
      columns: ['what', 'ms'],
      rows,
      notes: [
        "VS Code's own marks in the extension host: willLoadExtensionCode -> didLoadExtensionCode (the bundle), then willActivateExtension -> didActivateExtension (activate() until its promise settles); built-ins likewise, load + activate(). The helper starts after activation, unawaited.",
        `Peak RSS of the whole extension host (every built-in included) after activation: ${medianRange(rss, 0)} MiB.`,
      ],
      metrics,
    };
  } finally {
    delete process.env.EBPF_STUDIO_BENCH_ACTIVATION;
    fs.rmSync(work, { recursive: true, force: true });
  }
}

runIfMain(module, run);
