// Check System's page model without a kernel: rows and states from facts, the mount offer when a mount
// failed, the helper-down case, and a page that escapes what it shows and allows only nonce'd styles.
import { strict as assert } from 'assert';
import {
  buildSystemReport,
  parseLockdown,
  renderSystemPage,
  SystemFacts,
  summarize,
} from '../../extension/host/features/check-system/model';

const running: SystemFacts = {
  helper: {
    running: true,
    via: 'direct',
    info: {
      protocolVersion: 2,
      pid: 42,
      uid: 0,
      kernelRelease: '6.18.0-test',
      libbpfVersion: '1.1.0',
      bpffsPrefix: '/sys/fs/bpf/ebpf-studio',
      mounts: {
        '/sys/fs/bpf': 'present',
        '/sys/kernel/tracing': 'could not mount tracefs at /sys/kernel/tracing: permission denied',
      },
    },
  } as SystemFacts['helper'],
  kernelRelease: '6.18.0-test',
  lockdownText: 'none [integrity] confidentiality\n',
  btfPresent: true,
  tools: [
    { name: 'clang', path: '/usr/bin/clang-14' },
    { name: 'bpftool', error: 'bpftool was not found: install it' },
  ],
  libbpfHeaders: '/usr/include/bpf/bpf_helpers.h',
  capabilities: {
    'program:tracepoint': { supported: true },
    'program:lsm': { supported: false, reason: "EPERM: refused by the kernel's security policy" },
    'attach:kprobe': { supported: false, reason: 'this kernel has no kprobe events (CONFIG_KPROBE_EVENTS is off)' },
    'map:ringbuf': { supported: true },
    'helper:bpf_loop': { supported: true, reason: 'offered to kprobe programs' },
    'btf:vmlinux': { supported: true },
  },
};

describe('Check System report', () => {
  it('reads the lockdown mode', () => {
    assert.equal(parseLockdown('[none] integrity confidentiality'), 'none');
    assert.equal(parseLockdown('none [integrity] confidentiality'), 'integrity');
    assert.equal(parseLockdown(undefined), undefined);
  });

  it('turns facts into rows with states, reasons and the mount offer', () => {
    const sections = buildSystemReport(running);
    assert.deepEqual(
      sections.map((s) => s.title),
      [
        'System',
        'Build tools',
        'Program types (loaded a tiny program of each)',
        'Attach types (attached and detached at once)',
        'Map types (created one of each)',
        'Helpers (loaded a program calling each)',
        'BTF',
      ],
    );
    const system = new Map(sections[0].rows.map((r) => [r.label, r]));
    assert.equal(system.get('Lockdown')?.state, 'warn');
    assert.match(system.get('Lockdown')!.value, /^integrity: /);
    assert.equal(system.get('bpffs at /sys/fs/bpf')?.state, 'ok');
    const tracefs = system.get('tracefs at /sys/kernel/tracing')!;
    assert.equal(tracefs.state, 'error');
    assert.deepEqual(tracefs.action, {
      title: 'Mount (restart the helper, which mounts it)',
      command: 'ebpf.restartHelper',
    });
    assert.match(system.get('Privileges')!.value, /uid 0 \(started direct\)/);
    assert.deepEqual(
      sections[1].rows.map((r) => [r.label, r.state]),
      [
        ['clang', 'ok'],
        ['bpftool', 'error'],
        ['libbpf headers', 'ok'],
      ],
    );
    assert.deepEqual(
      sections[2].rows.map((r) => [r.label, r.state, r.value]),
      [
        ['tracepoint', 'ok', 'yes'],
        ['lsm', 'error', "no: EPERM: refused by the kernel's security policy"],
      ],
    );
    assert.deepEqual(summarize(sections)[2], 'Program types: 1 of 2 ok (not: lsm)');
  });

  it('says the helper is down and offers to start it', () => {
    const sections = buildSystemReport({
      ...running,
      helper: { running: false, reason: 'sudo refused' },
      capabilities: undefined,
    });
    const privileges = sections[0].rows.find((r) => r.label === 'Privileges')!;
    assert.equal(privileges.state, 'error');
    assert.match(privileges.value, /sudo refused/);
    assert.equal(privileges.action?.command, 'ebpf.restartHelper');
    assert.equal(sections.at(-1)!.rows[0].value, 'not probed: the helper is not running');
  });

  it('renders a page with a nonce-only CSP, theme colours and escaped text', () => {
    const html = renderSystemPage(
      [
        {
          title: 'T <1>',
          rows: [
            { label: '<b>', state: 'error', value: 'a & b', action: { title: 'Go', command: 'ebpf.checkSystem' } },
          ],
        },
      ],
      'abc123',
      'vscode-resource:',
    );
    assert.match(html, /content="default-src 'none'; style-src vscode-resource: 'nonce-abc123';"/);
    assert.match(html, /<style nonce="abc123">/);
    assert.match(html, /var\(--vscode-foreground\)/);
    assert.ok(!html.includes('<script'), 'no scripts: links are command URIs');
    assert.ok(html.includes('T &lt;1&gt;') && html.includes('&lt;b&gt;') && html.includes('a &amp; b'));
    assert.ok(html.includes('<a href="command:ebpf.checkSystem">Go</a>'));
  });
});
