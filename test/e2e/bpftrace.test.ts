// bpftrace in a real VS Code (code-server + chromium): open bpf-samples/bpftrace_syscalls/syscalls.bt,
// F1 → eBPF: Run bpftrace Script, its printf line in the trace panel, F1 → eBPF: Stop bpftrace Script,
// then its maps in the read-only map viewer with @read_bytes drawn as a histogram. Screenshots of each
// step in test/e2e/artifacts/bpftrace/. The kernel holds the same programs before and after.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import { expectKernelAsBefore, kernelBaseline, KernelBaseline } from './support/system';
import { TIMEOUT, Workbench } from './support/workbench';

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

  it('runs syscalls.bt from the palette: printf in the trace panel, maps and histogram after stop', async () => {
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
    await wb.step('trace panel shows the bpftrace line', async () => {
      const trace = await wb.webview('#status');
      const line = trace.locator('#rows .line', { hasText: 'Tracing system calls' }).first();
      assert.match(await line.innerText(), /bpftrace:syscalls\.bt/, 'the line is attributed to the script');
      // Some reads for @read_bytes.
      for (let i = 0; i < 5; i++) execFileSync('/bin/cat', ['/etc/hostname']);
    });
    await wb.step('F1 eBPF Stop bpftrace Script', async () => {
      await wb.runCommand('eBPF: Stop bpftrace Script');
      await wb.editorTab('Maps: syscalls.bt').waitFor({ timeout: TIMEOUT.kernel });
    });
    await wb.step('maps and the read_bytes histogram', async () => {
      const viewer = await wb.webview('#title:text-is("bpftrace:syscalls.bt")', TIMEOUT.kernel);
      await viewer.locator('#rows .row', { hasText: '@read_bytes' }).waitFor();
      await viewer.locator('#rows .row', { hasText: '@syscalls' }).first().waitFor();
      await viewer.locator('#histograms .uplot').first().waitFor();
      assert.ok((await viewer.locator('#histograms').innerText()).includes('@read_bytes'));
    });
  });
});
