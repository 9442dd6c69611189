import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { headBlob, headInsns } from '../../extension/language-server/head-stats';
import { findSecFunctions, lensTexts, sinceHead } from '../../extension/language-server/lenses';
import type { Verifier } from '../../extension/toolchain/verify';

describe('statistics against git HEAD', function () {
  this.timeout(60_000);
  let repo: string;
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' });
  const program = (body: string) =>
    `#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n#include "limits.h"\n\nSEC("tracepoint/syscalls/sys_enter_getpid")\nint p(void *ctx)\n{\n${body}\n}\n\nchar LICENSE[] SEC("license") = "GPL";\n`;

  before(() => {
    repo = fs.mkdtempSync(path.join(os.tmpdir(), 'ebpf-studio-head-test-'));
    git('init', '-q');
    fs.writeFileSync(path.join(repo, 'limits.h'), '#define LIMIT 3\n');
    fs.writeFileSync(path.join(repo, 'p.bpf.c'), program('\treturn LIMIT & 0;'));
    git('add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'first');
  });

  after(() => fs.rmSync(repo, { recursive: true, force: true }));

  it('finds the HEAD blob of a tracked file and nothing for an untracked one', async () => {
    assert.match((await headBlob(path.join(repo, 'p.bpf.c'))) ?? '', /^[0-9a-f]{40}$/);
    fs.writeFileSync(path.join(repo, 'new.bpf.c'), program('\treturn 0;'));
    assert.equal(await headBlob(path.join(repo, 'new.bpf.c')), undefined);
    assert.equal(await headBlob(path.join(os.tmpdir(), 'nowhere', 'x.bpf.c')), undefined);
  });

  it('builds the HEAD version (its local header found) and verifies it once per blob', async () => {
    // The working copy has changed since the commit; HEAD's text is what gets built.
    fs.writeFileSync(path.join(repo, 'p.bpf.c'), program('\treturn 1;'));
    const seen: string[] = [];
    const paths: string[] = [];
    const verifier: Verifier = async (objectPath, source) => {
      seen.push(fs.readFileSync(source, 'utf8'));
      paths.push(source, objectPath);
      assert.ok(fs.existsSync(objectPath), 'the HEAD version was built');
      return {
        programs: [
          { program: 'p', section: 'tp', file: source, line: 1, status: 'verified', stats: { insnsProcessed: 40 } },
        ],
        diagnostics: [],
      };
    };
    const first = await headInsns(path.join(repo, 'p.bpf.c'), verifier, {});
    assert.deepEqual([...(first ?? [])], [['p', 40]]);
    assert.equal(seen.length, 1);
    assert.match(seen[0], /return LIMIT & 0;/);
    // Not next to the source: the build happened in a temporary directory, since removed.
    for (const p of paths) {
      assert.ok(!p.startsWith(repo), `${p} is outside the repository`);
      assert.ok(!fs.existsSync(p), `${p} is removed`);
    }
    assert.ok(!fs.readdirSync(repo).some((f) => f.endsWith('.o')));
    await headInsns(path.join(repo, 'p.bpf.c'), verifier, {});
    assert.equal(seen.length, 1, 'the same blob is not verified twice');
  });

  it('writes the change since HEAD into the verified lens', () => {
    assert.equal(sinceHead(412, 375), ' (+37 since HEAD)');
    assert.equal(sinceHead(300, 312), ' (−12 since HEAD)');
    assert.equal(sinceHead(5, 5), ' (= HEAD)');
    assert.equal(sinceHead(5, undefined), '');
    const text = program('\treturn 1;');
    const lenses = lensTexts(
      findSecFunctions(text),
      [
        {
          program: 'p',
          section: 'tp',
          file: 'p.bpf.c',
          line: 1,
          status: 'verified',
          stats: { insnsProcessed: 412, totalStates: 3, peakStates: 3 },
        },
      ],
      [],
      new Map([['p', 375]]),
    );
    assert.equal(lenses[0].title, '$(pass) verified · 412 insns processed (+37 since HEAD) · 3 states (peak 3)');
  });
});
