// The statistics table's page: markup and styles (VS Code theme variables only), served in the CSP shell.
import { baseCss } from '../../ui/webview-html';

export const STATS_CSS = `${baseCss}
html, body { height: 100%; }
body { display: flex; flex-direction: column; }
#wrap { flex: 1; overflow: auto; }
table { border-collapse: collapse; width: 100%; font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); }
th { position: sticky; top: 0; background: var(--vscode-editorGroupHeader-tabsBackground); text-align: left; padding: 3px 8px;
  cursor: pointer; white-space: nowrap; border-bottom: 1px solid var(--vscode-panel-border); font-weight: 600; }
th[data-column="trend"] { cursor: default; }
td { padding: 2px 8px; white-space: nowrap; border-bottom: 1px solid var(--vscode-editorWidget-border, transparent); }
.num { text-align: right; font-variant-numeric: tabular-nums; }
td.trend { color: var(--vscode-charts-blue); letter-spacing: -1px; }
tr:hover td { background: var(--vscode-list-hoverBackground); }
#empty { padding: 8px; }
`;

export const STATS_BODY = `
<div class="toolbar"><strong>Program statistics</strong>
  <button id="toggle">Turn statistics off</button><span id="status" class="muted"></span></div>
<div id="wrap"><table><thead id="head"></thead><tbody id="body"></tbody></table>
  <div id="empty" class="muted" hidden>No programs in the kernel.</div></div>
`;
