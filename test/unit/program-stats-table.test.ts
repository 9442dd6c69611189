// The program statistics table (issue 11, item 3): rows like bpftop's from two listings a second apart,
// a trend per program, sorting by any column, and the sparkline.
import { strict as assert } from 'assert';
import type { ProgramInfo } from '../../extension/protocol/types';
import { StatsHistory, TREND_POINTS } from '../../extension/host/features/programs/stats-model';
import { sortStatsRows, sparkline } from '../../extension/formats/program-stats';

const prog = (id: number, runCount: number, runTimeNs: number, name = `p${id}`) =>
  ({ id, name, type: 'tracepoint', runCount, runTimeNs, mapIds: [] }) as unknown as ProgramInfo;

describe('program statistics table', () => {
  it('computes runs/s, avg ns and CPU% per interval, with a trend, and marks own loads', () => {
    const history = new StatsHistory();
    const first = history.update([prog(1, 100, 10_000), prog(2, 0, 0)], 0);
    assert.deepEqual(
      first.map((r) => [r.id, r.runsPerSecond, r.trend]),
      [
        [1, 0, []],
        [2, 0, []],
      ],
    );
    const own = new Map([[1, 'fork_trace']]);
    const second = history.update([prog(1, 2100, 1_010_000), prog(2, 10, 5_000)], 2000, own);
    assert.deepEqual(second[0], {
      id: 1,
      name: 'p1',
      type: 'tracepoint',
      load: 'fork_trace',
      runsPerSecond: 1000,
      avgNs: 500,
      cpuPercent: 0.05,
      totalRuns: 2100,
      trend: [1000],
    });
    assert.equal(second[1].runsPerSecond, 5);
    const third = history.update([prog(1, 2100, 1_010_000)], 3000);
    assert.deepEqual(third[0].trend, [1000, 0]);
    assert.equal(third.length, 1, 'a program that left the kernel leaves the table');
    for (let t = 4; t < 4 + TREND_POINTS + 5; t++) history.update([prog(1, 2100 + t, 1_010_000 + t)], t * 1000);
    assert.equal(history.update([prog(1, 9999, 2_000_000)], 100_000)[0].trend.length, TREND_POINTS);
  });

  it('sorts by any column either way, ties by id', () => {
    const history = new StatsHistory();
    history.update([prog(1, 0, 0, 'b'), prog(2, 0, 0, 'a'), prog(3, 0, 0, 'c')], 0);
    const rows = history.update([prog(1, 10, 1000, 'b'), prog(2, 30, 900, 'a'), prog(3, 10, 5000, 'c')], 1000);
    assert.deepEqual(
      sortStatsRows(rows, 'cpuPercent', true).map((r) => r.id),
      [3, 1, 2],
    );
    assert.deepEqual(
      sortStatsRows(rows, 'runsPerSecond', true).map((r) => r.id),
      [2, 1, 3],
    );
    assert.deepEqual(
      sortStatsRows(rows, 'name', false).map((r) => r.name),
      ['a', 'b', 'c'],
    );
  });

  it('draws a trend as a sparkline scaled to its maximum', () => {
    assert.equal(sparkline([0, 1, 2, 4, 8]), '▁▂▃▅█');
    assert.equal(sparkline([0, 0]), '▁▁');
    assert.equal(sparkline([]), '');
  });
});
