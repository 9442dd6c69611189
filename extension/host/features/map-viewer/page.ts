// The map viewer's page: its markup and styles (VS Code theme variables only), served by the extension in
// a CSP-protected shell (views/webview-html.ts) with the bundled script.
import { baseCss } from '../../ui/webview-html';

export const MAP_VIEWER_CSS = `${baseCss}
#head { padding: 8px 8px 0; }
#title { font-size: 1.2em; font-weight: 600; margin-right: 8px; }
/* The table takes the editor's height left under the toolbar; plots, when any, get a share below it. */
html, body { height: 100%; }
body { display: flex; flex-direction: column; }
[hidden] { display: none !important; }
#head, #controls, #undumpable { flex: none; }
#table { position: relative; flex: 1 1 0; min-height: 160px; display: flex; flex-direction: column; }
#header, #empty { flex: none; }
#plots { flex: none; max-height: 45vh; overflow: auto; }
#plots:empty, #plots:not(:has(canvas, svg, button)) { padding: 0; }
#header, .row { display: grid; column-gap: 1px; }
#header { position: sticky; top: 0; background: var(--vscode-editorGroupHeader-tabsBackground); z-index: 1; border-bottom: 1px solid var(--vscode-panel-border); }
.th { padding: 3px 6px; font-weight: 600; cursor: pointer; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.th.key { color: var(--vscode-symbolIcon-keyForeground, var(--vscode-foreground)); }
.type { font-weight: normal; font-size: 0.85em; }
#scroller { flex: 1 1 auto; min-height: 0; overflow: auto; position: relative; }
#scroller::-webkit-scrollbar { width: 12px; height: 12px; }
#scroller::-webkit-scrollbar-thumb { background: var(--vscode-scrollbarSlider-background); }
#scroller::-webkit-scrollbar-thumb:hover { background: var(--vscode-scrollbarSlider-hoverBackground); }
#scroller::-webkit-scrollbar-thumb:active { background: var(--vscode-scrollbarSlider-activeBackground); }
#spacer { position: absolute; top: 0; left: 0; width: 1px; }
#rows { position: absolute; top: 0; left: 0; right: 0; will-change: transform; }
.row { border-bottom: 1px solid var(--vscode-editorWidget-border, transparent); font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); }
.row.cpu { color: var(--vscode-descriptionForeground); }
.td { padding: 2px 6px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; line-height: 18px; cursor: default; }
.td.key { background: var(--vscode-editor-inactiveSelectionBackground); }
.td.changed { background: var(--vscode-diffEditor-insertedTextBackground); transition: background 0.6s; }
.td.selected { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
#form { position: fixed; top: 40px; right: 16px; max-height: 80vh; overflow: auto; width: min(560px, 90vw); z-index: 5;
  background: var(--vscode-editorWidget-background); border: 1px solid var(--vscode-editorWidget-border); padding: 10px; box-shadow: 0 2px 8px var(--vscode-widget-shadow); }
#formFields { display: grid; grid-template-columns: max-content 1fr max-content; gap: 4px 8px; align-items: center; margin: 8px 0; }
#plots { padding: 8px; }
#undumpable { padding: 16px; font-size: 1.1em; }
#empty { padding: 8px; }
`;

export const MAP_VIEWER_BODY = `
<div id="head"><span id="title">map</span><span id="summary" class="muted"></span>
  <div><span id="untyped" class="muted"></span> <button id="pickStruct" hidden>Decode values as struct…</button></div><div id="error" class="error"></div></div>
<div id="undumpable" hidden></div>
<div id="controls" class="toolbar">
  <input id="filter" type="search" placeholder="Filter (any key or value)" aria-label="Filter" size="28">
  <button id="refresh" title="Read the map again">Refresh</button>
  <label class="muted">Auto-refresh <select id="auto" aria-label="Auto-refresh">
    <option value="0">off</option><option value="1000">1 s</option><option value="2000">2 s</option><option value="5000">5 s</option></select></label>
  <button id="add" class="primary">Add entry…</button>
  <button id="editRow" disabled>Edit…</button>
  <button id="deleteRow" disabled>Delete</button>
  <button id="plotCell" disabled title="Plot the selected numeric cell over time (turns auto-refresh on)">Plot over time</button>
  <button id="exportJson">Export JSON</button><button id="exportCsv">Export CSV</button>
  <span id="count" class="badge"></span><span id="refreshed" class="muted"></span>
</div>
<div id="table"><div id="header"></div>
  <div id="scroller"><div id="spacer"></div><div id="rows"></div></div>
  <div id="empty" class="muted" hidden>The map is empty.</div></div>
<div id="plots"><div id="histograms"></div><div id="lines"></div></div>
<form id="form" hidden><strong id="formTitle"></strong><div id="formFields"></div>
  <div id="formError" class="error"></div>
  <button type="submit" class="primary">Save</button> <button type="button" id="formCancel">Cancel</button></form>
`;
