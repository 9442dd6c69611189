// Property tests of the verifier log readers (issue 10: every parser fuzzed). Inputs: logs generated from
// the kernel's line grammar, real logs captured from this kernel (test/unit/fixtures/verifier-*.log)
// mutated byte- and line-wise, and arbitrary text. None may throw; what comes back must be well formed.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { parseVerifierFailure, parseVerifierStats, SourceLocation } from '../../extension/formats/verifier-log';
import { sourceFromHeader, verifierLogHeader, verifierLogLinks } from '../../extension/formats/verifier-log-links';
import { fuzz, mutatedLines, mutatedText } from '../support/fuzz';

const fixtures = path.join(__dirname, 'fixtures');
/** Captured from this kernel (6.18): two rejections and one accepted program at log level 2. */
const realLogs = fs
  .readdirSync(fixtures)
  .filter((f) => /^verifier-.*\.log$/.test(f))
  .map((f) => fs.readFileSync(path.join(fixtures, f), 'utf8'));

// ---- a generator of verifier logs from the kernel's line shapes ---------------------------------------

const small = fc.nat({ max: 4096 });
/** Decimal digits as the kernel prints them, plus leading zeros and 0 that it never prints. */
const digits = fc.oneof(
  small.map(String),
  fc.stringMatching(/^0[0-9]{0,3}$/),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map(String),
);
const word = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/);
const fileName = fc.oneof(
  fc.constantFrom('prog.bpf.c', 'include/helpers.h', '/abs/dir/x.bpf.c', 'a:b.c'),
  fc.stringMatching(/^\S{1,24}$/),
);
const sourceCode = fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('', 'return *v;', '@ x.c:3', ' ; @ '));

const instructionLine = fc
  .tuple(small, fc.integer({ min: 0, max: 255 }), fc.string({ maxLength: 40 }), fc.option(fc.string({ maxLength: 40 })))
  .map(
    ([i, code, text, state]) =>
      `${i}: (${code.toString(16).padStart(2, '0')}) ${text}${state === null ? '' : `      ; ${state}`}`,
  );
const annotationLine = fc
  .tuple(sourceCode, fileName, digits)
  .map(([code, file, line]) => `; ${code} @ ${file}:${line}`);
const stateLine = fc.oneof(
  fc.tuple(small, small).map(([r, v]) => `R${r % 11}=scalar(umax=${v})`),
  fc.tuple(small, small).map(([a, b]) => `from ${a} to ${b}: R0=1 R10=fp0`),
  small.map((n) => `frame${n % 8}: R1=ctx() R10=fp0`),
  fc.tuple(small, small).map(([a, b]) => `last_idx ${a} first_idx ${b}`),
  fc.constantFrom(
    'regs=1 stack=0 before 3: (bf) r1 = r0',
    "parent didn't have regs=1",
    'propagating r1',
    'mark_precise: frame0: last_idx 2',
  ),
  fc.string({ maxLength: 30 }).map((s) => `\t${s}`),
);
const messageLine = fc.oneof(
  fc.constantFrom(
    "R0 invalid mem access 'map_value_or_null'",
    'invalid access to packet, off=12 size=1, R1(id=0,off=12,r=0)',
    'R1 offset is outside of the packet',
    'back-edge from insn 7 to 3',
    'func#0 @0',
    'Live regs before insn:',
  ),
  fc.string({ maxLength: 80 }),
);
const trailerLine = fc.oneof(
  fc
    .tuple(digits, digits, digits, digits, digits, digits)
    .map(
      ([a, b, c, d, e, f]) =>
        `processed ${a} insns (limit ${b}) max_states_per_insn ${c} total_states ${d} peak_states ${e} mark_read ${f}`,
    ),
  digits.map((d) => `verification time ${d} usec`),
  fc.array(digits, { minLength: 1, maxLength: 4 }).map((ds) => `stack depth ${ds.join('+')}`),
  fc.constantFrom('stack depth +', 'ERROR: something', '-- END PROG LOAD LOG --', ''),
);
const trailingSpace = fc.constantFrom('', ' ', '\t', '\r', '  \r');
const logLine = fc
  .tuple(fc.oneof(instructionLine, annotationLine, stateLine, messageLine, trailerLine), trailingSpace)
  .map(([l, s]) => l + s);
const generatedLog = fc.array(logLine, { maxLength: 60 }).map((lines) => lines.join('\n'));

/** Everything the readers are fed: generated logs, mutated real ones, arbitrary text. */
const anyLog = fc.oneof(
  { weight: 3, arbitrary: generatedLog },
  { weight: 2, arbitrary: mutatedLines(realLogs) },
  { weight: 2, arbitrary: mutatedText(realLogs) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 400 }) },
);

// ---- what a well-formed result is ------------------------------------------------------------------

const trimmedLines = (log: string) => log.split('\n').map((l) => l.trimEnd());
const isTrailer = (l: string) =>
  /^(processed \d+ insns|verification time|stack depth|ERROR: |-- END PROG LOAD LOG --)/.test(l);

function assertLocation(loc: SourceLocation, lines: string[]): void {
  assert.ok(Number.isInteger(loc.line) && loc.line >= 1, `line ${loc.line} is a positive integer`);
  assert.ok(loc.file.length > 0 && !/\s/.test(loc.file), `file "${loc.file}" is one word`);
  assert.ok(!loc.code.includes('\n'));
  assert.ok(
    lines.some((l) => l.startsWith(`; ${loc.code} @ ${loc.file}:`)),
    'the location comes from an annotation line of the log',
  );
}

describe('fuzz: verifier log', () => {
  it('parseVerifierFailure never throws and returns a well-formed failure', () => {
    fuzz(
      anyLog,
      (log) => {
        const failure = parseVerifierFailure(log);
        const lines = trimmedLines(log);
        const meaningful = lines.some((l) => l !== '' && !isTrailer(l));
        assert.equal(failure !== undefined, meaningful, 'undefined exactly when only blanks and trailers remain');
        if (!failure) return;
        assert.ok(failure.message.length > 0, 'a message');
        for (const m of failure.message.split('\n'))
          assert.ok(lines.includes(m), `message line "${m}" is from the log`);
        if (failure.instruction !== undefined) {
          assert.match(failure.instruction, /^\d+: \([0-9a-f]{2}\)/);
          assert.ok(lines.some((l) => l.startsWith(failure.instruction!)));
        }
        if (failure.location) assertLocation(failure.location, lines);
        for (const p of failure.path) {
          assertLocation(p, lines);
          const failing = failure.location?.file === p.file && failure.location?.line === p.line;
          assert.ok(!failing, 'the failing line is not repeated on the path');
        }
      },
      { runs: 3000 },
    );
  });

  it('parseVerifierStats never throws and reads only non-negative integers', () => {
    fuzz(
      anyLog,
      (log) => {
        const stats = parseVerifierStats(log);
        for (const [key, value] of Object.entries(stats)) {
          const values = Array.isArray(value) ? value : [value];
          for (const v of values) assert.ok(Number.isInteger(v) && v >= 0, `${key}: ${v}`);
        }
      },
      { runs: 3000 },
    );
  });

  it('verifierLogLinks points at "file:line" text on annotation lines, lines from 1', () => {
    fuzz(
      anyLog,
      (log) => {
        const lines = log.split('\n');
        for (const link of verifierLogLinks(log)) {
          const text = lines[link.logLine];
          assert.ok(text !== undefined && text.startsWith(';'), 'an annotation line of the log');
          assert.ok(0 <= link.start && link.start < link.end && link.end <= text.length);
          const span = text.slice(link.start, link.end);
          assert.ok(span.startsWith(`${link.file}:`), `"${span}" names ${link.file}`);
          assert.equal(Number(span.slice(link.file.length + 1)), link.line);
          assert.ok(Number.isInteger(link.line) && link.line >= 1, `line ${link.line} is a positive integer`);
        }
      },
      { runs: 3000 },
    );
  });

  it('the log header gives back the source it names', () => {
    // Sources are paths: any text without a line break.
    const source = fc.string({ minLength: 1, maxLength: 200 }).filter((s) => !/[\n\r\u2028\u2029]/.test(s));
    fuzz(
      fc.tuple(word, source, fc.constantFrom('rejected', 'accepted'), anyLog),
      ([program, src, verdict, log]) => {
        assert.equal(sourceFromHeader(verifierLogHeader(program, src, verdict) + log), src);
      },
      { runs: 2000 },
    );
  });

  it('long lines of repeated tokens are read without backtracking', () => {
    // The kernel formats a verifier line in a 1024-byte buffer, but the readers also get logs from files;
    // runs of blanks and of half-annotations are the regexes' worst case (was 6-10 s for 64 KiB of blanks).
    fuzz(
      fc.tuple(
        fc.constantFrom(' ', '\t', 'a', ';', '@ ', '@ a:1 ', '; x @ ', '1: (07) '),
        fc.nat({ max: 65536 }),
        anyLog,
      ),
      ([unit, n, log]) => {
        const line = unit.repeat(Math.ceil(n / unit.length)).slice(0, n) + 'x';
        parseVerifierFailure(`${log}\n${line}\n${line}`);
        parseVerifierStats(line);
        verifierLogLinks(line);
      },
      { runs: 200, slowCaseMs: 1000 },
    );
  });
});
