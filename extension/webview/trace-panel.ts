/// <reference lib="dom" />
// The trace panel's front end (runs in the webview): keeps at most maxLines rows, draws only the visible
// ones, and redraws at most 4 times a second however fast rows arrive, so the UI never stalls.
import type { FromTracePanel, ToTracePanel, TraceRow } from './messages';

declare function acquireVsCodeApi(): { postMessage(message: FromTracePanel): void };
const vscode = acquireVsCodeApi();
const post = (m: FromTracePanel) => vscode.postMessage(m);
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const LINE_HEIGHT = 18;
const FRAME_MS = 250;
let rows: TraceRow[] = [];
let maxLines = 10000;
let paused = false;
let follow = true;
let dirty = false;
let lastFrame = 0;

const scroller = $<HTMLDivElement>('scroller');
const spacer = $<HTMLDivElement>('spacer');
const list = $<HTMLDivElement>('rows');

function span(text: string, className: string): HTMLSpanElement {
  const s = document.createElement('span');
  s.className = className;
  s.textContent = text;
  return s;
}

function lineElement(r: TraceRow): HTMLDivElement {
  const d = document.createElement('div');
  d.className = 'line';
  if (r.time) {
    const time = span(r.time + ' ', 'time');
    // One clock in the list (wall clock); the other (kernel uptime, or when the event arrived) on hover.
    if (r.timeTitle) time.title = r.timeTitle;
    d.append(time);
  }
  if (r.source !== 'trace') d.append(span(`${r.source} `, 'src'));
  if (r.task || r.pid) d.append(span(`${r.task}-${r.pid} `, 'task'));
  if (r.cpu) d.append(span(`[${r.cpu}] `, 'time'));
  if (r.program) d.append(span(`${r.program}: `, 'prog'));
  d.append(document.createTextNode(r.text));
  d.title = r.text;
  return d;
}

function draw(): void {
  dirty = false;
  lastFrame = performance.now();
  spacer.style.height = `${rows.length * LINE_HEIGHT}px`;
  $('empty').hidden = rows.length > 0;
  if (follow) scroller.scrollTop = scroller.scrollHeight;
  const first = Math.max(0, Math.floor(scroller.scrollTop / LINE_HEIGHT) - 5);
  const last = Math.min(rows.length, first + Math.ceil(scroller.clientHeight / LINE_HEIGHT) + 10);
  list.style.transform = `translateY(${first * LINE_HEIGHT}px)`;
  list.replaceChildren(...rows.slice(first, last).map(lineElement));
}

/** Coalesces redraws: at most one frame per FRAME_MS. */
function schedule(): void {
  if (dirty) return;
  dirty = true;
  const wait = Math.max(0, FRAME_MS - (performance.now() - lastFrame));
  setTimeout(() => requestAnimationFrame(draw), wait);
}

scroller.addEventListener('scroll', () => {
  follow = scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - LINE_HEIGHT * 2;
  schedule();
});
window.addEventListener('resize', schedule);

const sendFilter = () =>
  post({
    type: 'filter',
    program: $<HTMLSelectElement>('program').value,
    pid: $<HTMLInputElement>('pid').value,
    text: $<HTMLInputElement>('text').value,
  });
let filterTimer: number | undefined;
for (const id of ['pid', 'text'])
  $(id).addEventListener('input', () => {
    clearTimeout(filterTimer);
    filterTimer = window.setTimeout(sendFilter, 250);
  });
$('program').addEventListener('change', sendFilter);
$('pause').onclick = () => post({ type: 'pause', paused: !paused });
$('clear').onclick = () => post({ type: 'clear' });
$('copy').onclick = () => post({ type: 'copy' });
$('export').onclick = () => post({ type: 'export' });
$('add').onclick = () => post({ type: 'addSource' });

function setOptions(select: HTMLSelectElement, values: string[]): void {
  const current = select.value;
  const want = ['', ...values];
  if (select.options.length === want.length && want.every((v, i) => select.options[i].value === v)) return;
  select.replaceChildren(
    ...want.map((v) => {
      const o = document.createElement('option');
      o.value = v;
      o.textContent = v || 'all programs';
      return o;
    }),
  );
  select.value = want.includes(current) ? current : '';
}

window.addEventListener('message', (event: MessageEvent<ToTracePanel>) => {
  const m = event.data;
  switch (m.type) {
    case 'rows':
      rows = rows.concat(m.rows);
      if (rows.length > maxLines) rows = rows.slice(rows.length - maxLines);
      schedule();
      break;
    case 'clear':
      rows = [];
      schedule();
      break;
    case 'stats': {
      maxLines = m.maxLines;
      paused = m.paused;
      $('pause').textContent = paused ? 'Resume' : 'Pause';
      $('pause').setAttribute('aria-pressed', String(paused));
      $('rate').textContent = `${m.eventsPerSecond.toLocaleString()} events/s`;
      $('kept').textContent = `${m.kept.toLocaleString()} of ${m.maxLines.toLocaleString()} kept`;
      const kernelLost = m.lostInKernel + (m.reserveFailures ?? 0);
      $('lost').textContent =
        `lost in kernel: ${kernelLost.toLocaleString()}${m.reserveFailures !== undefined ? ` (${m.reserveFailures.toLocaleString()} counted by the program)` : ''}`;
      $('lost').className = kernelLost ? 'lost' : '';
      $('dropped').textContent = `dropped by eBPF Studio: ${(m.droppedInHelper + m.droppedInPanel).toLocaleString()}`;
      $('dropped').className = m.droppedInHelper + m.droppedInPanel ? 'dropped' : '';
      // Skips over ring positions that could not be trusted lose records nobody can count: said, not summed.
      $('resynced').textContent = m.resynced
        ? `ring buffer resynced ${m.resynced.toLocaleString()}× (records skipped: another process moved its consumer position)`
        : '';
      $('status').textContent = m.status;
      setOptions($<HTMLSelectElement>('program'), [...m.programs, ...m.sources.filter((s) => s !== 'trace_pipe')]);
      break;
    }
  }
});

post({ type: 'ready' });
