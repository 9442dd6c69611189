// bpf_printk formats matched against trace lines without a backtracking regular expression: a %s-heavy
// format against a long line that does not match must stay fast, and matching agrees with what a printf
// of the format prints.
import { strict as assert } from 'assert';
import fc from 'fast-check';
import { formatToPattern } from '../../extension/host/features/trace-panel/source';

describe('bpf_printk format matching', () => {
  it('stays linear-ish on a %s-heavy format and a long line that does not match', () => {
    const format = Array.from({ length: 12 }, () => '%s,').join('') + '!';
    const line = ','.repeat(4000) + '?';
    const started = process.hrtime.bigint();
    assert.equal(formatToPattern(format).test(line), false);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(`      (12 x %s against 4,001 characters: ${ms.toFixed(1)} ms)`);
    // The regular expression it replaces backtracked for minutes here; pieces x positions is milliseconds.
    assert.ok(ms < 500, `took ${ms} ms`);
  });

  it('matches what the format prints, for any values', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 12 }),
        fc.integer(),
        fc.nat(),
        fc.string({ maxLength: 20 }),
        (word, d, u, s) => {
          const w = word.replace(/%/g, '');
          const format = `${w} d=%d u=%u s=%s x=%x end`;
          const printed = `${w} d=${d} u=${u} s=${s} x=${u.toString(16)} end`;
          assert.ok(formatToPattern(format).test(printed), printed);
          assert.ok(!formatToPattern(format).test(printed + 'tail'));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps %%, %c and %p', () => {
    assert.ok(formatToPattern('100%% of %c at %p\n').test('100% of z at 0xffff8880'));
    assert.ok(!formatToPattern('100%% of %c at %p\n').test('100% of zz at 0xffff8880'));
    assert.ok(!formatToPattern('pid %d').test('pid abc'));
  });
});
