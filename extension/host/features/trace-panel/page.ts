// The trace panel's page: its markup and styles (VS Code theme variables only), served by the extension in
// a CSP-protected shell (views/webview-html.ts) with the bundled script.
import { baseCss } from '../../ui/webview-html';

export const TRACE_CSS = `${baseCss}
html, body { height: 100%; }
body { display: flex; flex-direction: column; }
#stats { display: flex; gap: 12px; padding: 2px 8px; flex-wrap: wrap; }
#stats .lost { color: var(--vscode-editorWarning-foreground); }
#stats .dropped { color: var(--vscode-errorForeground); }
#scroller { flex: 1; overflow: auto; position: relative; font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); }
#spacer { position: absolute; top: 0; left: 0; width: 1px; }
#rows { position: absolute; top: 0; left: 0; right: 0; }
.line { height: 18px; line-height: 18px; white-space: pre; overflow: hidden; text-overflow: ellipsis; padding: 0 8px; }
.line .time { color: var(--vscode-descriptionForeground); }
.line .src { color: var(--vscode-charts-purple); }
.line .task { color: var(--vscode-charts-blue); }
.line .prog { color: var(--vscode-charts-green); }
.empty { padding: 8px; }
`;

export const TRACE_BODY = `
<div class="toolbar">
  <select id="program" aria-label="Program"><option value="">all programs</option></select>
  <input id="pid" placeholder="pid" size="7" aria-label="pid">
  <input id="text" type="search" placeholder="Filter text" size="24" aria-label="Filter text">
  <button id="pause">Pause</button>
  <button id="clear">Clear</button>
  <button id="copy">Copy</button>
  <button id="export">Export…</button>
  <button id="add" title="Stream a ring buffer or perf event array of a program loaded here">Stream ring/perf buffer…</button>
</div>
<div id="stats" class="muted">
  <span id="rate"></span><span id="kept"></span>
  <span id="lost" title="Lost before reaching eBPF Studio: perf samples the kernel reports lost, and ring buffer reserve failures a program counts in a global named like dropped/lost/reserve_failed"></span>
  <span id="dropped" title="Dropped by eBPF Studio itself (helper or addon) because VS Code fell behind"></span>
  <span id="resynced" class="lost"></span>
  <span id="status"></span>
</div>
<div id="scroller"><div id="spacer"></div><div id="rows"></div>
  <div id="empty" class="empty muted">No output yet. Programs that call bpf_printk print here; load one with eBPF: Load Program…</div></div>
`;
