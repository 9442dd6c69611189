// The data behind "eBPF: Check System": what the machine offers (kernel, BTF, bpffs/tracefs, lockdown,
// clang/bpftool/libbpf, privileges) and the helper's probe table, as rows with a state and a reason,
// and the page that shows them. Pure: check-system.ts gathers the facts and opens the webview.
import type { Capability, InitializeResult } from '../../../protocol/methods';

export type RowState = 'ok' | 'warn' | 'error';

export interface ReportRow {
  label: string;
  state: RowState;
  value: string;
  /** A command the page offers next to the row (a command: link). */
  action?: { title: string; command: string };
}

export interface ReportSection {
  title: string;
  rows: ReportRow[];
}

export interface ToolFact {
  name: string;
  path?: string;
  /** Why it was not found, in the finder's words. */
  error?: string;
}

export interface SystemFacts {
  /** The helper's handshake, when it runs. */
  helper: { running: true; info: InitializeResult; via: string } | { running: false; reason: string };
  /** Kernel release as this (unprivileged) process sees it. */
  kernelRelease: string;
  /** /sys/kernel/security/lockdown text, undefined when unreadable. */
  lockdownText?: string;
  btfPresent: boolean;
  tools: ToolFact[];
  /** Where bpf_helpers.h was found (libbpf headers for building), if anywhere. */
  libbpfHeaders?: string;
  /** The helper's capabilities, when it runs and answered. */
  capabilities?: Record<string, Capability>;
}

/** "[none] integrity confidentiality" -> "none". */
export function parseLockdown(text: string | undefined): string | undefined {
  return text ? /\[(\w+)\]/.exec(text)?.[1] : undefined;
}

const CAPABILITY_SECTIONS: { prefix: string; title: string }[] = [
  { prefix: 'program:', title: 'Program types (loaded a tiny program of each)' },
  { prefix: 'attach:', title: 'Attach types (attached and detached at once)' },
  { prefix: 'map:', title: 'Map types (created one of each)' },
  { prefix: 'helper:', title: 'Helpers (loaded a program calling each)' },
  { prefix: 'btf:', title: 'BTF' },
];

/** BTF-based program types: BTF is what they need, but the kernel may still refuse them (LSM, lockdown). */
const BTF_PROGRAM_TYPES = ['tp_btf', 'fentry', 'fexit', 'lsm'];

/**
 * What kernel BTF gives on this machine. It names the BTF-based program types by what the probes found,
 * so the row never promises fentry right above a probe that says the kernel refuses it.
 */
export function btfUsers(capabilities: Record<string, Capability> | undefined): string {
  const base = '/sys/kernel/btf/vmlinux: CO-RE and vmlinux.h work';
  if (!capabilities) return `${base}; tp_btf, fentry/fexit and LSM need it too (not probed: the helper is not running)`;
  const probed = BTF_PROGRAM_TYPES.filter((t) => capabilities[`program:${t}`]);
  const accepted = probed.filter((t) => capabilities[`program:${t}`].supported);
  const refused = probed.filter((t) => !capabilities[`program:${t}`].supported);
  return (
    base +
    (accepted.length ? `; ${accepted.join(', ')} can use it` : '') +
    (refused.length ? `; ${refused.join(', ')} would too, but this kernel refuses them (see Program types)` : '')
  );
}

export function buildSystemReport(facts: SystemFacts): ReportSection[] {
  const system: ReportRow[] = [];
  const helper = facts.helper;
  system.push({
    label: 'Kernel',
    state: 'ok',
    value: helper.running ? helper.info.kernelRelease : facts.kernelRelease,
  });
  system.push(
    facts.btfPresent
      ? {
          label: 'Kernel BTF',
          state: 'ok',
          value: btfUsers(facts.capabilities),
        }
      : {
          label: 'Kernel BTF',
          state: 'error',
          value:
            'missing (/sys/kernel/btf/vmlinux): the kernel was built without CONFIG_DEBUG_INFO_BTF; CO-RE programs and vmlinux.h cannot be built here',
        },
  );
  const lockdown = parseLockdown(facts.lockdownText);
  system.push(
    lockdown === undefined
      ? {
          label: 'Lockdown',
          state: 'warn',
          value: 'unknown (/sys/kernel/security/lockdown is not readable: securityfs not mounted or no lockdown LSM)',
        }
      : lockdown === 'none'
        ? { label: 'Lockdown', state: 'ok', value: 'none' }
        : {
            label: 'Lockdown',
            state: 'warn',
            value: `${lockdown}: the kernel refuses some BPF features (bpf_probe_write_user, reading kernel memory under confidentiality)`,
          },
  );

  if (helper.running) {
    const root = helper.info.uid === 0;
    system.push({
      label: 'Privileges',
      state: root ? 'ok' : 'warn',
      value: `helper pid ${helper.info.pid} runs as uid ${helper.info.uid} (started ${helper.via})${root ? '' : ': loading needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN'}`,
    });
    system.push({ label: 'libbpf (helper)', state: 'ok', value: helper.info.libbpfVersion });
    for (const [mount, state] of Object.entries(helper.info.mounts)) {
      const what = mount.includes('bpf') ? 'bpffs' : 'tracefs';
      const ok = state === 'present' || state === 'mounted';
      system.push({
        label: `${what} at ${mount}`,
        state: ok ? 'ok' : 'error',
        value: ok ? (state === 'mounted' ? 'mounted by the helper' : 'mounted') : state,
        action: ok
          ? undefined
          : { title: 'Mount (restart the helper, which mounts it)', command: 'ebpf.restartHelper' },
      });
    }
  } else {
    system.push({
      label: 'Privileges',
      state: 'error',
      value: `the helper is not running: ${helper.reason}`,
      action: { title: 'Restart Helper', command: 'ebpf.restartHelper' },
    });
    system.push({
      label: 'bpffs / tracefs',
      state: 'warn',
      value: 'unknown: the helper checks and mounts them when it starts',
      action: { title: 'Start the helper', command: 'ebpf.restartHelper' },
    });
  }

  const toolchain: ReportRow[] = facts.tools.map((tool) =>
    tool.path
      ? { label: tool.name, state: 'ok', value: tool.path }
      : { label: tool.name, state: 'error', value: tool.error ?? 'not found' },
  );
  toolchain.push(
    facts.libbpfHeaders
      ? { label: 'libbpf headers', state: 'ok', value: facts.libbpfHeaders }
      : { label: 'libbpf headers', state: 'error', value: 'bpf/bpf_helpers.h not found: install libbpf-dev' },
  );

  const sections: ReportSection[] = [
    { title: 'System', rows: system },
    { title: 'Build tools', rows: toolchain },
  ];
  if (facts.capabilities) {
    for (const { prefix, title } of CAPABILITY_SECTIONS) {
      const rows = Object.entries(facts.capabilities)
        .filter(([key]) => key.startsWith(prefix))
        .map(([key, cap]): ReportRow => ({
          label: key.slice(prefix.length),
          state: cap.supported ? 'ok' : 'error',
          value: cap.supported ? (cap.reason ?? 'yes') : `no: ${cap.reason ?? 'refused'}`,
        }));
      if (rows.length > 0) sections.push({ title, rows });
    }
  } else {
    sections.push({
      title: 'What this kernel accepts',
      rows: [{ label: 'probes', state: 'warn', value: 'not probed: the helper is not running' }],
    });
  }
  return sections;
}

/** One line per section: "Program types: 20 of 23 accepted (fentry, fexit, lsm refused)". */
export function summarize(sections: ReportSection[]): string[] {
  return sections.map((s) => {
    const refused = s.rows.filter((r) => r.state === 'error').map((r) => r.label);
    const ok = s.rows.filter((r) => r.state === 'ok').length;
    return `${s.title.replace(/ \(.*\)$/, '')}: ${ok} of ${s.rows.length} ok${refused.length ? ` (not: ${refused.join(', ')})` : ''}`;
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const ICONS: Record<RowState, string> = { ok: '✓', warn: '!', error: '✗' };

/**
 * The page: static HTML (no script), theme colours, command links for the actions; the CSP allows only
 * the styles carrying `nonce`.
 */
export function renderSystemPage(sections: ReportSection[], nonce: string, cspSource: string): string {
  const body = sections
    .map((section) => {
      const rows = section.rows
        .map((row) => {
          const action = row.action
            ? ` <a href="command:${escapeHtml(row.action.command)}">${escapeHtml(row.action.title)}</a>`
            : '';
          return `<tr class="${row.state}"><td class="icon">${ICONS[row.state]}</td><th>${escapeHtml(row.label)}</th><td>${escapeHtml(row.value)}${action}</td></tr>`;
        })
        .join('\n');
      return `<h2>${escapeHtml(section.title)}</h2>\n<table>\n${rows}\n</table>`;
    })
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>eBPF: Check System</title>
<style nonce="${nonce}">
body { color: var(--vscode-foreground); background: var(--vscode-editor-background); font-family: var(--vscode-font-family); padding: 0 1.5em 2em; }
h1 { font-weight: 600; } h2 { font-size: 1.1em; margin-top: 1.6em; border-bottom: 1px solid var(--vscode-panel-border); }
table { border-collapse: collapse; width: 100%; }
th { text-align: left; font-weight: 500; padding: 2px 12px 2px 4px; white-space: nowrap; vertical-align: top; font-family: var(--vscode-editor-font-family); }
td { padding: 2px 4px; vertical-align: top; }
td.icon { width: 1.2em; font-weight: bold; }
tr.ok td.icon { color: var(--vscode-testing-iconPassed); }
tr.warn td.icon { color: var(--vscode-editorWarning-foreground); }
tr.error td.icon { color: var(--vscode-testing-iconFailed); }
tr.error td { color: var(--vscode-descriptionForeground); }
a { color: var(--vscode-textLink-foreground); margin-left: 0.8em; }
</style></head>
<body>
<h1>eBPF: Check System</h1>
<p><a href="command:ebpf.checkSystem">Check again</a></p>
${body}
</body></html>`;
}
