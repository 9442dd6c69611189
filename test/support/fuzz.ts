// Shared by the fuzz/property tests: runs a fast-check property with a bounded number of cases and a
// time limit (CI stays fast on a slow machine: fewer cases, never a longer run), prints how many cases
// ran, and fails with fast-check's own report (seed, path and shrunk counterexample) so a failure can be
// replayed with FUZZ_SEED=<seed>.
import { strict as assert } from 'assert';
import fc from 'fast-check';

export interface FuzzOptions {
  /** Cases to run when time allows. */
  runs?: number;
  /** Stop generating new cases after this long (the property still passes on what ran). */
  timeLimitMs?: number;
  /** One case taking longer than this fails (a parser that backtracks or loops on some input). */
  slowCaseMs?: number;
}

/** Replays a reported failure: FUZZ_SEED=<seed> npx mocha ... */
function seedFromEnv(): number | undefined {
  const seed = process.env.FUZZ_SEED;
  return seed === undefined || seed === '' ? undefined : Number(seed);
}

/**
 * Checks that `predicate` holds (returns without throwing) for generated values, and returns how many
 * cases ran. A case that throws, or that runs longer than `slowCaseMs`, is a counterexample.
 */
export function fuzz<T>(arbitrary: fc.Arbitrary<T>, predicate: (value: T) => void, options: FuzzOptions = {}): number {
  const { runs = 1000, timeLimitMs = 1000, slowCaseMs = 1000 } = options;
  let slowest = 0;
  const property = fc.property(arbitrary, (value) => {
    const started = performance.now();
    predicate(value);
    const took = performance.now() - started;
    slowest = Math.max(slowest, took);
    if (took > slowCaseMs) throw new Error(`one case took ${took.toFixed(0)} ms (limit ${slowCaseMs} ms)`);
  });
  const started = performance.now();
  const details = fc.check(property, { numRuns: runs, interruptAfterTimeLimit: timeLimitMs, seed: seedFromEnv() });
  const took = performance.now() - started;
  console.log(
    `      fast-check: ${details.numRuns} cases in ${took.toFixed(0)} ms, slowest ${slowest.toFixed(1)} ms (seed ${details.seed})`,
  );
  if (details.failed) throw failure(details);
  assert.ok(details.numRuns > 0, 'the time limit left no case to run');
  return details.numRuns;
}

/** The property's own assertion first, then fast-check's report (seed, path, counterexample). */
function failure<Ts>(details: fc.RunDetails<Ts>): Error {
  const cause = details.errorInstance instanceof Error ? details.errorInstance : undefined;
  const report = fc.defaultReportMessage(details) ?? '';
  const error = new Error(`${cause ? `${cause.name}: ${cause.message}\n` : ''}${report}`);
  if (cause?.stack) error.stack = `${error.message}\n--- thrown at:\n${cause.stack}`;
  return error;
}

/** Same as fuzz for async predicates (e.g. a child process per case). */
export async function fuzzAsync<T>(
  arbitrary: fc.Arbitrary<T>,
  predicate: (value: T) => Promise<void>,
  options: FuzzOptions = {},
): Promise<number> {
  const { runs = 100, timeLimitMs = 20000 } = options;
  const property = fc.asyncProperty(arbitrary, predicate);
  const started = performance.now();
  const details = await fc.check(property, {
    numRuns: runs,
    interruptAfterTimeLimit: timeLimitMs,
    seed: seedFromEnv(),
    // Shrinking re-runs the child per step; the report keeps the first failure's seed and path instead.
    endOnFailure: true,
  });
  console.log(
    `      fast-check: ${details.numRuns} cases in ${(performance.now() - started).toFixed(0)} ms (seed ${details.seed})`,
  );
  if (details.failed) throw failure(details);
  assert.ok(details.numRuns > 0, 'the time limit left no case to run');
  return details.numRuns;
}

/**
 * Mutations of a seed input, the way a fuzzer perturbs real files: flip bits, overwrite, insert,
 * delete, duplicate ranges and truncate, a few at a time.
 */
export function mutatedBytes(seeds: Uint8Array[], maxMutations = 8): fc.Arbitrary<Uint8Array> {
  const mutation = fc.oneof(
    fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ op: fc.constant('set' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    fc.record({
      op: fc.constant('insert' as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
    }),
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  );
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: maxMutations }))
    .map(([seed, mutations]) => {
      let b = Buffer.from(seed);
      for (const m of mutations) {
        if (b.length === 0) break;
        const at = m.at % b.length;
        switch (m.op) {
          case 'flip':
            b[at] ^= 1 << m.bit;
            break;
          case 'set':
            b.set(m.bytes.subarray(0, b.length - at), at);
            break;
          case 'insert':
            b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
            break;
          case 'delete':
            b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)]);
            break;
          case 'duplicate':
            b = Buffer.concat([b.subarray(0, at + m.length), b.subarray(at)]);
            break;
          case 'truncate':
            b = b.subarray(0, at);
            break;
        }
      }
      return new Uint8Array(b);
    });
}

/** Mutated text: the byte mutations above over UTF-8, read back as text (invalid sequences become U+FFFD). */
export function mutatedText(seeds: string[], maxMutations = 8): fc.Arbitrary<string> {
  return mutatedBytes(
    seeds.map((s) => new Uint8Array(Buffer.from(s, 'utf8'))),
    maxMutations,
  ).map((b) => Buffer.from(b).toString('utf8'));
}

/** Line-level mutations of a text: drop, repeat, swap and splice lines from other seeds. */
export function mutatedLines(seeds: string[]): fc.Arbitrary<string> {
  const all = seeds.flatMap((s) => s.split('\n'));
  return fc
    .tuple(
      fc.constantFrom(...seeds),
      fc.array(
        fc.record({
          op: fc.constantFrom('drop', 'repeat', 'swap', 'splice', 'cut'),
          at: fc.nat(),
          other: fc.nat(),
        }),
        { minLength: 1, maxLength: 10 },
      ),
    )
    .map(([seed, ops]) => {
      const lines = seed.split('\n');
      for (const { op, at, other } of ops) {
        if (lines.length === 0) break;
        const i = at % lines.length;
        if (op === 'drop') lines.splice(i, 1);
        else if (op === 'repeat') lines.splice(i, 0, lines[i]);
        else if (op === 'swap') [lines[i], lines[other % lines.length]] = [lines[other % lines.length], lines[i]];
        else if (op === 'splice') lines.splice(i, 0, all[other % all.length]);
        else lines[i] = lines[i].slice(0, other % (lines[i].length + 1));
      }
      return lines.join('\n');
    });
}
