// Property tests of the trace_pipe line parser (issue 10): arbitrary and mutated lines never throw and
// what parses is well formed; lines written the way the kernel writes them give their fields back.
import { strict as assert } from 'assert';
import fc from 'fast-check';
import { parseTraceLine } from '../../extension/formats/trace-line';
import { fuzz, mutatedText } from '../support/fuzz';

/** Lines as this kernel prints them (with and without the tgid column and the flags). */
const realLines = [
  '            bash-1234    [001] d..31  5071.123456: bpf_trace_printk: fork parent=1 child=2',
  ' kworker/u4:2-ev-88      (     88) [000] ....1    12.500000: bpf_trace_printk: hi',
  '           <...>-7       [003]    99.000001: bpf_trace_printk: x',
  '          <idle>-0       [001] d.h2. 81512.004201: bpf_trace_printk: xdp: proto=17 len=98',
  '   systemd-udevd-312     (-------) [000] ...1.     3.141592: sched:sched_process_exec: filename=/bin/true',
  'CPU:1 [LOST 12 EVENTS]',
];

const lineTerminator = /[\n\r\u2028\u2029]/;
/** Anything a line can hold: the parser works per line, after the split. */
const anyLine = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }).filter((s) => !s.includes('\n')),
  mutatedText(realLines).map((s) => s.replace(/\n/g, ' ')),
);

// A task name (comm) has up to 15 bytes and may hold dashes, digits and spaces. It is not escaped by the
// kernel, so a comm containing "-<pid> [<cpu>]" would make the line ambiguous; the generator leaves out
// "[" (and line breaks) and, like the kernel's right-aligned column, never starts one with a blank.
const comm = fc
  .string({ minLength: 1, maxLength: 15 })
  .filter((s) => !lineTerminator.test(s) && !s.includes('[') && !/^\s/.test(s));
const flags = fc.stringMatching(/^[.dDNnHhsSzZbX0-9]{4,6}$/);
const eventName = fc.stringMatching(/^[A-Za-z_]\w{0,30}(:\w{1,30})?$/);
const message = fc.string({ maxLength: 120 }).filter((s) => !lineTerminator.test(s));

const wellFormed = fc.record({
  task: comm,
  pid: fc.integer({ min: 0, max: 4194304 }),
  tgid: fc.option(fc.oneof(fc.integer({ min: 0, max: 4194304 }).map(String), fc.constant('-------'))),
  cpu: fc.integer({ min: 0, max: 8191 }),
  flags: fc.option(flags),
  seconds: fc.integer({ min: 0, max: 10_000_000 }),
  micros: fc.integer({ min: 0, max: 999_999 }),
  event: eventName,
  message,
});

describe('fuzz: trace_pipe lines', () => {
  it('never throws on arbitrary or mutated lines; what parses is well formed', () => {
    fuzz(
      anyLine,
      (line) => {
        const t = parseTraceLine(line);
        if (!t) return;
        assert.ok(t.task.length > 0 && !t.task.includes('\n'));
        assert.ok(Number.isInteger(t.pid) && t.pid >= 0, `pid ${t.pid}`);
        assert.ok(Number.isInteger(t.cpu) && t.cpu >= 0, `cpu ${t.cpu}`);
        assert.ok(t.timestamp >= 0, `timestamp ${t.timestamp}`);
        assert.match(t.event, /^[\w:]+$/);
        assert.ok(!t.message.includes('\n'));
        assert.ok(line.includes(t.message) && line.includes(t.task));
      },
      { runs: 5000 },
    );
  });

  it('gives back every field of a line written as the kernel writes it', () => {
    fuzz(
      wellFormed,
      (f) => {
        const line =
          `${f.task.padStart(16)}-${String(f.pid).padEnd(7)} ` +
          (f.tgid === null ? '' : `(${f.tgid.padStart(7)}) `) +
          `[${String(f.cpu).padStart(3, '0')}] ` +
          (f.flags === null ? '' : `${f.flags} `) +
          `${String(f.seconds).padStart(5)}.${String(f.micros).padStart(6, '0')}: ${f.event}: ${f.message}`;
        assert.deepEqual(parseTraceLine(line), {
          task: f.task,
          pid: f.pid,
          cpu: f.cpu,
          flags: f.flags ?? '',
          timestamp: Number(`${f.seconds}.${String(f.micros).padStart(6, '0')}`),
          event: f.event,
          message: f.message,
        });
      },
      { runs: 3000 },
    );
  });

  it("reads lines of trace_pipe's maximum length (one 4 KiB page) quickly", () => {
    // FIXME: `^\s*(.+?)-` is quadratic in leading blanks: ~10-40 ms at 4 KiB here, seconds at 64 KiB.
    // trace_pipe never writes a line longer than its 4 KiB trace_seq page, so that is the bound tested.
    fuzz(
      fc.tuple(fc.constantFrom(' ', 'a-1 ', '-1 [', 'x-1 [0] ', '0.0: ', 'a:'), fc.nat({ max: 4095 }), anyLine),
      ([unit, n, tail]) => {
        parseTraceLine(unit.repeat(Math.ceil(n / unit.length)).slice(0, n) + tail);
      },
      { runs: 300, slowCaseMs: 1000 },
    );
  });
});
