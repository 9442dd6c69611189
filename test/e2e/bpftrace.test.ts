// bpftrace in a real VS Code (code-server + chromium): open bpf-samples/bpftrace_syscalls/syscalls.bt,
// F1 → eBPF: Run bpftrace Script, its printf line in the trace panel, F1 → eBPF: Stop bpftrace Script, then
// its final maps in the read-only map viewer with @read_bytes drawn as a histogram. Screenshots of each
// step in test/e2e/artifacts/bpftrace/, and trace-panel.png and histogram.png there for the README. The
// kernel holds the same programs before and after.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as path from 'path';
import { expectKernelAsBefore, kernelBaseline, KernelBaseline } from './support/system';
import { TIMEOUT, Workbench } from './support/workbench';

/** Stop waits for bpftrace to detach every probe and print its maps (the helper's grace before SIGKILL). */
const STOP_TIMEOUT = 120_000;

describe('e2e: bpftrace script in code-server', function () {
  this.timeout(300_000);
  let wb: Workbench;
  let baseline: KernelBaseline;

  before(async function () {
    this.timeout(240_000);
    baseline = kernelBaseline();
    wb = await Workbench.open('bpftrace');
  });

  after(async () => {
    await wb?.close();
    if (baseline) await expectKernelAsBefore(baseline);
  });

  it('runs syscalls.bt from the palette: printf in the trace panel, its final maps and histogram after Stop', async () => {
    await wb.statusItem('eBPF: helper running').waitFor({ timeout: TIMEOUT.kernel });
    await wb.step('open syscalls.bt', async () => {
      await wb.openFile('bpftrace_syscalls/syscalls.bt');
    });
    await wb.step('F1 eBPF Run bpftrace Script', async () => {
      await wb.runCommand('eBPF: Run bpftrace Script');
      const trace = await wb.webview('#status', TIMEOUT.kernel);
      await trace
        .locator('#rows .line', { hasText: 'Tracing system calls... stop to see the counts.' })
        .waitFor({ timeout: TIMEOUT.kernel });
    });
    const traceShot = await wb.step('trace panel shows the bpftrace line', async () => {
      const trace = await wb.webview('#status');
      const line = trace.locator('#rows .line', { hasText: 'Tracing system calls' }).first();
      assert.match(await line.innerText(), /bpftrace:syscalls\.bt/, 'the line is attributed to the script');
      // Some reads for @read_bytes.
      for (let i = 0; i < 5; i++) execFileSync('/bin/cat', ['/etc/hostname']);
      return path.join(wb.artifacts, 'trace-panel.png');
    });
    await wb.page.screenshot({ path: traceShot });
    await wb.step('F1 eBPF Stop bpftrace Script', async () => {
      await wb.runCommand('eBPF: Stop bpftrace Script');
      // bpftrace detaches its ~350 tracepoints before it prints its maps: seconds on a slow machine.
      await wb.editorTab('Maps: syscalls.bt').waitFor({ timeout: STOP_TIMEOUT });
    });
    const histogramShot = await wb.step('final maps and the read_bytes histogram', async () => {
      const viewer = await wb.webview('#title:text-is("bpftrace:syscalls.bt")', TIMEOUT.kernel);
      await viewer.locator('#summary', { hasText: 'printed at exit' }).waitFor();
      await viewer.locator('#rows .row', { hasText: '@read_bytes' }).waitFor();
      await viewer.locator('#rows .row', { hasText: '@syscalls' }).first().waitFor();
      await viewer.locator('#histograms .uplot').first().waitFor();
      assert.ok((await viewer.locator('#histograms').innerText()).includes('@read_bytes'));
      return path.join(wb.artifacts, 'histogram.png');
    });
    await wb.page.screenshot({ path: histogramShot });
  });
});
