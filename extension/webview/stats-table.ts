/// <reference lib="dom" />
// The program statistics table's front end (runs in the webview): a table like bpftop's, sorted by the
// column whose header was clicked (CPU% first), each row with a sparkline of its recent runs/s.
import { sortStatsRows, sparkline, StatsColumn, StatsRow } from '../formats/program-stats';
import type { FromStatsTable, ToStatsTable } from './messages';

declare function acquireVsCodeApi(): { postMessage(message: FromStatsTable): void };
const vscode = acquireVsCodeApi();
const post = (m: FromStatsTable) => vscode.postMessage(m);
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const COLUMNS: { key: StatsColumn | 'trend'; label: string; numeric: boolean; title: string }[] = [
  { key: 'name', label: 'Program', numeric: false, title: 'Program name (and the load of eBPF Studio it belongs to)' },
  { key: 'id', label: 'ID', numeric: true, title: 'Kernel program id' },
  { key: 'type', label: 'Type', numeric: false, title: 'Program type' },
  { key: 'runsPerSecond', label: 'Runs/s', numeric: true, title: 'Runs per second over the last interval' },
  { key: 'avgNs', label: 'Avg ns', numeric: true, title: 'Average run time in nanoseconds' },
  { key: 'cpuPercent', label: 'CPU %', numeric: true, title: 'Share of one CPU spent in the program' },
  { key: 'totalRuns', label: 'Total runs', numeric: true, title: 'Runs counted since statistics were turned on' },
  { key: 'trend', label: 'Trend', numeric: false, title: 'Runs/s over the last minute' },
];

let rows: StatsRow[] = [];
let sortBy: StatsColumn = 'cpuPercent';
let descending = true;

function cell(text: string, className = ''): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function renderHeader(): void {
  const tr = document.createElement('tr');
  for (const c of COLUMNS) {
    const th = document.createElement('th');
    th.textContent = c.label + (c.key === sortBy ? (descending ? ' ▼' : ' ▲') : '');
    th.title = c.title;
    th.dataset.column = c.key;
    th.className = c.numeric ? 'num' : '';
    if (c.key !== 'trend') {
      th.setAttribute('aria-sort', c.key === sortBy ? (descending ? 'descending' : 'ascending') : 'none');
      th.onclick = () => {
        if (sortBy === c.key) descending = !descending;
        else {
          sortBy = c.key as StatsColumn;
          descending = c.numeric;
        }
        render();
      };
    }
    tr.append(th);
  }
  $('head').replaceChildren(tr);
}

function render(): void {
  renderHeader();
  const body = $('body');
  body.replaceChildren(
    ...sortStatsRows(rows, sortBy, descending).map((r) => {
      const tr = document.createElement('tr');
      tr.dataset.id = String(r.id);
      const name = cell(r.name, 'name');
      if (r.load)
        name.append(Object.assign(document.createElement('span'), { className: 'muted', textContent: ` ${r.load}` }));
      tr.append(
        name,
        cell(String(r.id), 'num'),
        cell(r.type),
        cell(Math.round(r.runsPerSecond).toLocaleString('en-US'), 'num'),
        cell(r.avgNs.toLocaleString('en-US'), 'num'),
        cell(r.cpuPercent.toFixed(2), 'num'),
        cell(r.totalRuns.toLocaleString('en-US'), 'num'),
        cell(sparkline(r.trend), 'trend'),
      );
      tr.ondblclick = () => post({ type: 'open', id: r.id });
      return tr;
    }),
  );
  $('empty').hidden = rows.length > 0;
}

$('toggle').onclick = () => post({ type: 'toggle' });

window.addEventListener('message', (event: MessageEvent<ToStatsTable>) => {
  const m = event.data;
  if (m.type === 'message') {
    $('status').textContent = m.text;
    return;
  }
  rows = m.rows;
  $('toggle').textContent = m.enabled ? 'Turn statistics off' : 'Turn statistics on';
  $('status').textContent = m.enabled
    ? `The kernel times every run (BPF_ENABLE_STATS) · refreshed ${new Date(m.at).toLocaleTimeString()} every ${m.intervalMs / 1000} s`
    : 'Statistics are off: the kernel counts no runs. Turn them on to fill the table.';
  render();
});

renderHeader();
post({ type: 'ready' });
