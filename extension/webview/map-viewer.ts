/// <reference lib="dom" />
// The map viewer's front end (runs in the webview): a virtualized table that asks the extension for only
// the rows on screen, filter and sort, auto-refresh with changed cells highlighted, typed add/edit forms,
// export, and plots drawn with uPlot (log2 histograms as bars, tracked values as lines).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { FromMapViewer, ToMapViewer, ViewerColumn, ViewerRow } from './messages';

declare function acquireVsCodeApi(): { postMessage(message: FromMapViewer): void };
const vscode = acquireVsCodeApi();
const post = (m: FromMapViewer) => vscode.postMessage(m);

const ROW_HEIGHT = 22;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let columns: ViewerColumn[] = [];
let perCpu = false;
let rowCount = 0;
let request = 0;
const cache = new Map<number, ViewerRow>();
let sort: { column: number; descending: boolean } | undefined;
let selected: { keyHex: string; column: number; cpu: string } | undefined;

const scroller = $<HTMLDivElement>('scroller');
const spacer = $<HTMLDivElement>('spacer');
const body = $<HTMLDivElement>('rows');
const header = $<HTMLDivElement>('header');

function gridTemplate(): string {
  return `${perCpu ? '48px ' : ''}${columns.map((c) => (c.part === 'key' ? 'minmax(90px, 1fr)' : 'minmax(80px, 1fr)')).join(' ')}`;
}

function renderHeader(): void {
  header.style.gridTemplateColumns = gridTemplate();
  header.replaceChildren();
  if (perCpu) header.append(cell('CPU', 'th'));
  columns.forEach((c, i) => {
    const th = cell('', 'th ' + c.part);
    th.title = `${c.path ? `${c.part} ${c.path}` : c.part}: ${c.type}\nClick to sort`;
    th.append(document.createTextNode(c.label));
    const type = document.createElement('span');
    type.className = 'muted type';
    type.textContent = ` ${c.type}`;
    th.append(type);
    if (sort?.column === i) th.append(document.createTextNode(sort.descending ? ' ▼' : ' ▲'));
    th.onclick = () => {
      sort =
        sort?.column === i
          ? sort.descending
            ? undefined
            : { column: i, descending: true }
          : { column: i, descending: false };
      post(sort ? { type: 'sort', ...sort } : { type: 'sort', column: -1, descending: false });
      renderHeader();
    };
    header.append(th);
  });
}

function cell(text: string, className: string): HTMLDivElement {
  const d = document.createElement('div');
  d.className = className;
  d.textContent = text;
  return d;
}

let scheduled = false;
function render(): void {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    spacer.style.height = `${rowCount * ROW_HEIGHT}px`;
    const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_HEIGHT) - 10);
    const visible = Math.ceil(scroller.clientHeight / ROW_HEIGHT) + 20;
    const last = Math.min(rowCount, first + visible);
    let missing = false;
    body.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
    body.replaceChildren();
    for (let r = first; r < last; r++) {
      const row = cache.get(r);
      if (!row) {
        missing = true;
        const placeholder = cell('…', 'row muted');
        placeholder.style.height = `${ROW_HEIGHT}px`;
        body.append(placeholder);
        continue;
      }
      body.append(rowElement(row));
    }
    if (missing || cache.size === 0) requestRange(first, last - first);
  });
}

let lastRequest = '';
function requestRange(start: number, count: number): void {
  const key = `${start}:${count}:${request}`;
  if (key === lastRequest) return;
  lastRequest = key;
  post({ type: 'range', request: ++request, start, count });
}

function rowElement(row: ViewerRow): HTMLDivElement {
  const el = document.createElement('div');
  el.className = `row${row.cpu && row.cpu !== 'Σ' ? ' cpu' : ''}`;
  el.style.gridTemplateColumns = gridTemplate();
  el.style.height = `${ROW_HEIGHT}px`;
  if (perCpu) el.append(cell(row.cpu, 'td muted'));
  row.cells.forEach((text, i) => {
    const td = cell(text, `td ${columns[i]?.part ?? ''}${row.changed.includes(i) ? ' changed' : ''}`);
    td.title = text;
    if (selected && selected.keyHex === row.keyHex && selected.column === i && selected.cpu === row.cpu)
      td.classList.add('selected');
    td.onclick = () => {
      selected = { keyHex: row.keyHex, column: i, cpu: row.cpu };
      $('plotCell').toggleAttribute('disabled', !columns[i]?.numeric);
      $('editRow').removeAttribute('disabled');
      $('deleteRow').removeAttribute('disabled');
      render();
    };
    td.ondblclick = () => post({ type: 'openForm', mode: 'edit', keyHex: row.keyHex, cpu: row.cpu });
    el.append(td);
  });
  return el;
}

scroller.addEventListener('scroll', render);
// The table fills the editor: a taller editor shows more rows.
window.addEventListener('resize', render);
window.addEventListener('resize', render);

let filterTimer: number | undefined;
$<HTMLInputElement>('filter').addEventListener('input', (e) => {
  clearTimeout(filterTimer);
  filterTimer = window.setTimeout(() => post({ type: 'filter', text: (e.target as HTMLInputElement).value }), 250);
});
$('refresh').onclick = () => post({ type: 'refresh' });
$<HTMLSelectElement>('auto').onchange = (e) =>
  post({ type: 'autoRefresh', intervalMs: Number((e.target as HTMLSelectElement).value) });
$('add').onclick = () => post({ type: 'openForm', mode: 'add' });
$('editRow').onclick = () =>
  selected && post({ type: 'openForm', mode: 'edit', keyHex: selected.keyHex, cpu: selected.cpu });
$('deleteRow').onclick = () => selected && post({ type: 'delete', keyHex: selected.keyHex });
$('pickStruct').onclick = () => post({ type: 'pickStruct' });
$('exportJson').onclick = () => post({ type: 'export', format: 'json' });
$('exportCsv').onclick = () => post({ type: 'export', format: 'csv' });
$('plotCell').onclick = () => {
  if (!selected) return;
  post({ type: 'plot', keyHex: selected.keyHex, column: selected.column });
  if ($<HTMLSelectElement>('auto').value === '0') {
    $<HTMLSelectElement>('auto').value = '1000';
    post({ type: 'autoRefresh', intervalMs: 1000 });
  }
};

// ---- forms -----------------------------------------------------------------------------------
const form = $<HTMLFormElement>('form');
let formState: Extract<ToMapViewer, { type: 'form' }> | undefined;

function showForm(m: Extract<ToMapViewer, { type: 'form' }>): void {
  formState = m;
  $('formTitle').textContent =
    m.mode === 'add'
      ? 'Add entry'
      : `Edit entry${m.cpu !== undefined ? ` (CPU ${m.cpu})` : perCpu ? ' (every CPU)' : ''}`;
  const fields = $('formFields');
  fields.replaceChildren();
  const addField = (
    part: 'key' | 'value',
    f: { path: string; label: string; type: string; value: string },
    readOnly: boolean,
  ) => {
    const label = document.createElement('label');
    label.textContent = f.label;
    const type = document.createElement('span');
    type.className = 'muted';
    type.textContent = f.type;
    const input = document.createElement('input');
    input.value = f.value;
    input.dataset.part = part;
    input.dataset.path = f.path;
    input.dataset.initial = f.value;
    input.readOnly = readOnly;
    input.className = 'mono';
    fields.append(label, input, type);
  };
  m.key.forEach((f) => addField('key', f, m.mode === 'edit'));
  m.value.forEach((f) => addField('value', f, false));
  $('formError').textContent = '';
  form.hidden = false;
  (fields.querySelector('input:not([readonly])') as HTMLInputElement | null)?.focus();
}

form.onsubmit = (e) => {
  e.preventDefault();
  if (!formState) return;
  const key: Record<string, string> = {};
  const value: Record<string, string> = {};
  for (const input of Array.from(form.querySelectorAll<HTMLInputElement>('input[data-part]'))) {
    // Edits send only what changed, so untouched union members and fields keep their bytes.
    if (formState.mode === 'edit' && input.value === input.dataset.initial) continue;
    (input.dataset.part === 'key' ? key : value)[input.dataset.path!] = input.value;
  }
  post({ type: 'save', mode: formState.mode, keyHex: formState.keyHex, cpu: formState.cpu, key, value });
};
$('formCancel').onclick = () => (form.hidden = true);

// ---- plots -----------------------------------------------------------------------------------
let histPlots: uPlot[] = [];
let linePlot: uPlot | undefined;
const plotWidth = () => Math.max(300, $('plots').clientWidth - 20);

function drawHistograms(histograms: { title: string; labels: string[]; counts: number[] }[]): void {
  histPlots.forEach((p) => p.destroy());
  histPlots = [];
  const host = $('histograms');
  host.replaceChildren();
  for (const h of histograms) {
    // Trailing empty buckets say nothing; keep at least a few so the shape reads as a histogram.
    let n = h.counts.length;
    while (n > 4 && h.counts[n - 1] === 0) n--;
    const xs = Array.from({ length: n }, (_, i) => i);
    const div = document.createElement('div');
    host.append(div);
    const color = getComputedStyle(document.body).getPropertyValue('--vscode-charts-blue') || '#3794ff';
    const fg = getComputedStyle(document.body).getPropertyValue('--vscode-foreground') || '#ccc';
    histPlots.push(
      new uPlot(
        {
          title: h.title,
          width: plotWidth(),
          height: 220,
          legend: { show: false },
          scales: { x: { time: false, range: [-0.5, n - 0.5] } },
          axes: [
            {
              stroke: fg,
              values: (_u, ticks) => ticks.map((t) => h.labels[t] ?? ''),
              rotate: -30,
              size: 70,
              grid: { show: false },
            } as uPlot.Axis,
            { stroke: fg, label: 'count' },
          ],
          series: [
            {},
            {
              label: 'count',
              fill: color,
              stroke: color,
              paths: uPlot.paths.bars!({ size: [0.8, 64] }),
              points: { show: false },
            },
          ],
        },
        [xs, h.counts.slice(0, n)],
        div,
      ),
    );
  }
}

function drawSeries(series: { id: string; label: string; points: [number, number][] }[]): void {
  const host = $('lines');
  if (series.length === 0) {
    linePlot?.destroy();
    linePlot = undefined;
    host.replaceChildren();
    return;
  }
  // One x axis: the union of sample times (all series are sampled at the same refreshes).
  const times = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const data: uPlot.AlignedData = [
    times.map((t) => t / 1000),
    ...series.map((s) => {
      const byTime = new Map(s.points);
      return times.map((t) => byTime.get(t) ?? null);
    }),
  ];
  const palette = [
    '--vscode-charts-blue',
    '--vscode-charts-orange',
    '--vscode-charts-green',
    '--vscode-charts-purple',
    '--vscode-charts-red',
  ];
  const fg = getComputedStyle(document.body).getPropertyValue('--vscode-foreground') || '#ccc';
  const key = series.map((s) => s.id).join('|');
  if (linePlot && (linePlot as uPlot & { key?: string }).key === key) {
    linePlot.setData(data);
    return;
  }
  linePlot?.destroy();
  host.replaceChildren();
  const div = document.createElement('div');
  host.append(div);
  linePlot = new uPlot(
    {
      title: 'Values over time',
      width: plotWidth(),
      height: 220,
      axes: [{ stroke: fg }, { stroke: fg }],
      series: [
        {},
        ...series.map((s, i) => {
          const c = getComputedStyle(document.body).getPropertyValue(palette[i % palette.length]) || '#3794ff';
          return { label: s.label, stroke: c, width: 2 };
        }),
      ],
    },
    data,
    div,
  );
  (linePlot as uPlot & { key?: string }).key = key;
  const remove = document.createElement('div');
  for (const s of series) {
    const b = document.createElement('button');
    b.textContent = `Stop plotting ${s.label}`;
    b.onclick = () => post({ type: 'unplot', id: s.id });
    remove.append(b);
  }
  host.append(remove);
}

// ---- messages --------------------------------------------------------------------------------
window.addEventListener('message', (event: MessageEvent<ToMapViewer>) => {
  const m = event.data;
  switch (m.type) {
    case 'init':
      columns = m.columns;
      perCpu = m.perCpu;
      $('title').textContent = m.title;
      $('summary').textContent = m.summary;
      $('untyped').textContent = m.untyped ?? '';
      $('pickStruct').hidden = !m.canPickStruct;
      if (m.undumpable) {
        $('undumpable').textContent = m.undumpable;
        $('undumpable').hidden = false;
        $('table').hidden = true;
        $('controls').hidden = true;
      }
      renderHeader();
      break;
    case 'meta':
      rowCount = m.rows;
      cache.clear();
      $('count').textContent = `${m.entries.toLocaleString()} entries${m.loading ? ' (reading…)' : ''}`;
      $('refreshed').textContent =
        `read ${new Date(m.refreshedAt).toLocaleTimeString()}${m.readMs !== undefined ? ` in ${m.readMs} ms` : ''}`;
      $('empty').hidden = m.rows > 0 || m.loading;
      render();
      break;
    case 'rows':
      if (m.request < request - 5) break;
      for (const row of m.rows) cache.set(row.index, row);
      if (cache.size > 5000) for (const k of [...cache.keys()].slice(0, cache.size - 5000)) cache.delete(k);
      render();
      break;
    case 'histograms':
      drawHistograms(m.histograms);
      break;
    case 'series':
      drawSeries(m.series);
      break;
    case 'form':
      showForm(m);
      break;
    case 'formError':
      $('formError').textContent = m.message;
      if (m.path !== undefined)
        (
          form.querySelector(`input[data-path="${CSS.escape(m.path)}"]:not([readonly])`) as HTMLInputElement | null
        )?.focus();
      break;
    case 'formDone':
      form.hidden = true;
      break;
    case 'error':
      $('error').textContent = m.message;
      break;
    case 'paused':
      $('error').textContent = m.message;
      $<HTMLSelectElement>('auto').value = '0';
      break;
    case 'autoRefresh':
      $<HTMLSelectElement>('auto').value = String(m.intervalMs);
      break;
  }
});

post({ type: 'ready' });
