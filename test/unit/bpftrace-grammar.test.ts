// The bpftrace TextMate grammar (syntaxes/bpftrace.tmLanguage.json). vscode-textmate and vscode-oniguruma
// are not installed, so the grammar is run here by a small stand-in for the TextMate algorithm (match,
// begin/end, captures, includes, rule stack across lines) over JavaScript regexps. That also checks
// the grammar sticks to the regexp syntax Oniguruma and JavaScript share.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';

const root = path.join(__dirname, '..', '..');
const grammar = JSON.parse(fs.readFileSync(path.join(root, 'syntaxes', 'bpftrace.tmLanguage.json'), 'utf8')) as Rule & {
  scopeName: string;
  repository: Record<string, Rule>;
};

interface Rule {
  name?: string;
  match?: string;
  begin?: string;
  end?: string;
  captures?: Record<string, { name: string }>;
  beginCaptures?: Record<string, { name: string }>;
  endCaptures?: Record<string, { name: string }>;
  patterns?: Rule[];
  include?: string;
}

const compiled = new Map<string, RegExp>();
function regex(source: string): RegExp {
  let re = compiled.get(source);
  if (!re) {
    re = new RegExp(source, 'gd');
    compiled.set(source, re);
  }
  return re;
}

/** The rules a rule's patterns stand for, includes resolved. */
function expand(patterns: Rule[] | undefined, seen = new Set<Rule>()): Rule[] {
  const out: Rule[] = [];
  for (const p of patterns ?? []) {
    if (p.include) {
      const target = p.include === '$self' ? grammar : grammar.repository[p.include.slice(1)];
      assert.ok(target, `include ${p.include} resolves`);
      if (seen.has(target)) continue;
      seen.add(target);
      out.push(...(target.match || target.begin ? [target] : expand(target.patterns, seen)));
      seen.delete(target);
    } else {
      out.push(p);
    }
  }
  return out;
}

interface Token {
  text: string;
  scopes: string[];
}

/** Tokenizes lines as TextMate does: the earliest match wins, the end pattern on a tie, rules nest. */
function tokenize(text: string): { lines: Token[][]; depth: number } {
  const stack: { rule: Rule; scopes: string[] }[] = [{ rule: grammar, scopes: [grammar.scopeName] }];
  const lines: Token[][] = [];
  for (const line of text.split('\n')) {
    const tokens: Token[] = [];
    // Consecutive characters of one emit with the same scopes make one token.
    const emit = (from: number, to: number, scopesAt: (i: number) => string[]) => {
      let current: Token | undefined;
      for (let i = from; i < to; i++) {
        const scopes = scopesAt(i);
        if (current && current.scopes.join(' ') === scopes.join(' ')) {
          current.text += line[i];
        } else {
          current = { text: line[i], scopes };
          tokens.push(current);
        }
      }
    };
    const withCaptures =
      (m: RegExpExecArray, base: string[], captures?: Record<string, { name: string }>) => (i: number) => {
        const scopes = [...base];
        if (captures?.['0']) scopes.push(captures['0'].name);
        for (let g = 1; g < m.length; g++) {
          const span = m.indices?.[g];
          if (span && captures?.[String(g)] && i >= span[0] && i < span[1]) scopes.push(captures[String(g)].name);
        }
        return scopes;
      };
    let pos = 0;
    for (let guard = 0; pos <= line.length && guard < 10000; guard++) {
      const top = stack[stack.length - 1];
      let best: { m: RegExpExecArray; rule: Rule; isEnd: boolean } | undefined;
      const consider = (source: string, rule: Rule, isEnd: boolean) => {
        const re = regex(source);
        re.lastIndex = pos;
        const m = re.exec(line);
        if (m && (!best || m.index < best.m.index)) best = { m, rule, isEnd };
      };
      if (top.rule.end) consider(top.rule.end, top.rule, true);
      for (const rule of expand(top.rule.patterns)) consider((rule.match ?? rule.begin)!, rule, false);
      if (!best) {
        emit(pos, line.length, () => top.scopes);
        break;
      }
      const { m, rule, isEnd } = best;
      const end = m.index + m[0].length;
      emit(pos, m.index, () => top.scopes);
      if (isEnd) {
        emit(m.index, end, withCaptures(m, top.scopes, rule.endCaptures));
        stack.pop();
      } else if (rule.match) {
        const base = rule.name ? [...top.scopes, rule.name] : top.scopes;
        emit(m.index, end, withCaptures(m, base, rule.captures));
      } else {
        const scopes = rule.name ? [...top.scopes, rule.name] : top.scopes;
        emit(m.index, end, withCaptures(m, scopes, rule.beginCaptures));
        stack.push({ rule, scopes });
      }
      if (end > pos || isEnd || rule.begin) {
        pos = end;
      } else {
        // A zero-width match that changes nothing would loop; step over one character.
        emit(pos, pos + 1, () => top.scopes);
        pos++;
      }
      if (pos >= line.length) break;
    }
    lines.push(tokens);
  }
  return { lines, depth: stack.length - 1 };
}

/** The innermost scope of the first token whose text is `text` (on the given line of the snippet). */
function scopeOf(source: string, text: string, line = 0): string[] {
  const { lines } = tokenize(source);
  const token = lines[line].find((t) => t.text.trim() === text);
  assert.ok(token, `a token "${text}" in ${JSON.stringify(lines[line].map((t) => t.text))}`);
  return token.scopes;
}
const innermost = (source: string, text: string, line = 0) => scopeOf(source, text, line).at(-1);

describe('bpftrace grammar', () => {
  it('is well formed: scope names end in .bpftrace, every include resolves, every regexp compiles', () => {
    assert.equal(grammar.scopeName, 'source.bpftrace');
    let rules = 0;
    const visit = (rule: Rule) => {
      rules++;
      for (const key of ['match', 'begin', 'end'] as const)
        if (rule[key]) assert.doesNotThrow(() => regex(rule[key]!), `${key}: ${rule[key]}`);
      if (rule.name && rule !== grammar) assert.match(rule.name, /\.bpftrace$/); // the root's name is its title
      for (const captures of [rule.captures, rule.beginCaptures, rule.endCaptures]) {
        for (const c of Object.values(captures ?? {})) assert.match(c.name, /\.bpftrace$/);
      }
      if (rule.include && rule.include !== '$self') assert.ok(grammar.repository[rule.include.slice(1)], rule.include);
      rule.patterns?.forEach(visit);
    };
    visit(grammar);
    Object.values(grammar.repository).forEach(visit);
    assert.ok(rules > 30, `${rules} rules`);
  });

  it('probes: the type and its target, BEGIN/END, several per line, absolute paths', () => {
    const tp = 'tracepoint:syscalls:sys_enter_read { @reads = count(); }';
    assert.equal(innermost(tp, 'tracepoint'), 'storage.type.probe.bpftrace');
    assert.equal(innermost(tp, 'syscalls:sys_enter_read'), 'entity.name.function.probe.bpftrace');
    assert.equal(innermost('BEGIN { printf("hi\\n"); }', 'BEGIN'), 'keyword.other.special-probe.bpftrace');
    assert.equal(innermost('END { clear(@m); }', 'END'), 'keyword.other.special-probe.bpftrace');
    const two = 'kprobe:vfs_read,kretprobe:vfs_read { @[comm] = count(); }';
    assert.equal(innermost(two, 'vfs_read'), 'entity.name.function.probe.bpftrace');
    assert.equal(innermost(two, 'kretprobe'), 'storage.type.probe.bpftrace');
    assert.equal(
      innermost('uprobe:/bin/bash:readline { }', '/bin/bash:readline'),
      'entity.name.function.probe.bpftrace',
    );
    assert.equal(innermost('interval:s:1 { exit(); }', 's:1'), 'entity.name.function.probe.bpftrace');
    assert.equal(innermost('t:sched:sched_process_fork { }', 't'), 'storage.type.probe.bpftrace');
  });

  it('maps, scratch and positional variables, builtins, member access', () => {
    const src = 'kprobe:f { @start[tid] = nsecs; $x = $1 + arg0; @ = count(); @n = args->count; }';
    assert.equal(innermost(src, '@start'), 'variable.other.map.bpftrace');
    assert.equal(innermost(src, '@'), 'variable.other.map.bpftrace');
    assert.equal(innermost(src, 'tid'), 'support.variable.builtin.bpftrace');
    assert.equal(innermost(src, 'nsecs'), 'support.variable.builtin.bpftrace');
    assert.equal(innermost(src, '$x'), 'variable.other.scratch.bpftrace');
    assert.equal(innermost(src, '$1'), 'variable.parameter.positional.bpftrace');
    assert.equal(innermost(src, 'arg0'), 'support.variable.builtin.bpftrace');
    assert.equal(innermost(src, 'args'), 'support.variable.builtin.bpftrace');
    const tokens = tokenize(src).lines[0];
    assert.equal(tokens.find((t) => t.text === '->')?.scopes.at(-1), 'punctuation.accessor.bpftrace');
    // count() is the function; args->count a member.
    assert.deepEqual(
      tokens.filter((t) => t.text === 'count').map((t) => t.scopes.at(-1)),
      ['support.function.builtin.bpftrace', 'variable.other.member.bpftrace'],
    );
  });

  it('functions only when called; strings with escapes and printf placeholders', () => {
    const src =
      'BEGIN { printf("%-10s %d\\n", comm, pid); @h = hist(retval); @l = lhist($x, 0, 100, 10); print(@h); exit(); }';
    for (const f of ['printf', 'hist', 'lhist', 'print', 'exit'])
      assert.equal(innermost(src, f), 'support.function.builtin.bpftrace', f);
    assert.equal(innermost(src, '%-10s'), 'constant.other.placeholder.bpftrace');
    assert.equal(innermost(src, '\\n'), 'constant.character.escape.bpftrace');
    assert.ok(scopeOf(src, '%-10s').includes('string.quoted.double.bpftrace'));
    assert.equal(innermost(src, 'comm'), 'support.variable.builtin.bpftrace');
    assert.equal(innermost(src, '100'), 'constant.numeric.bpftrace');
    const more =
      'BEGIN { @x = str(arg1); @y = ksym(reg("ip")); @z = usym(arg0); delete(@x); clear(@y); @a = avg(1); @b = sum(2); @c = min(3); @d = max(4); }';
    for (const f of ['str', 'ksym', 'usym', 'reg', 'delete', 'clear', 'avg', 'sum', 'min', 'max'])
      assert.equal(innermost(more, f), 'support.function.builtin.bpftrace', f);
  });

  it('filters: scoped, with a division inside that does not end them', () => {
    const src = 'tracepoint:syscalls:sys_exit_read /args->ret / 2 > 0 && pid != 1/ { @r = hist(args->ret); }';
    const tokens = tokenize(src).lines[0];
    const slashes = tokens.filter((t) => t.text.trim() === '/');
    assert.deepEqual(
      slashes.map((t) => t.scopes.at(-1)),
      [
        'punctuation.definition.filter.begin.bpftrace',
        'keyword.operator.bpftrace',
        'punctuation.definition.filter.end.bpftrace',
      ],
    );
    assert.ok(scopeOf(src, 'pid').includes('meta.filter.bpftrace'));
    assert.ok(!scopeOf(src, 'hist').includes('meta.filter.bpftrace'), 'the block is not in the filter');
    assert.equal(innermost('uprobe:/bin/bash:readline /pid == 1/ { }', 'pid'), 'support.variable.builtin.bpftrace');
  });

  it('comments, block comments over lines, the preprocessor, control flow, struct definitions', () => {
    const src = [
      '#include <linux/sched.h>',
      '/* a block',
      '   comment */ BEGIN { // trailing',
      '  if (pid > 1) { unroll(2) { @x = 1; } } else { return; }',
      '}',
      'struct foo { int a; char b[16]; }',
    ].join('\n');
    assert.equal(innermost(src, 'include', 0), 'keyword.control.directive.bpftrace');
    assert.equal(innermost(src, 'comment', 2), 'comment.block.bpftrace');
    assert.equal(innermost(src, '*/', 2), 'comment.block.bpftrace');
    assert.equal(innermost(src, 'BEGIN', 2), 'keyword.other.special-probe.bpftrace');
    assert.equal(innermost(src, '// trailing', 2), 'comment.line.double-slash.bpftrace');
    for (const k of ['if', 'unroll', 'else', 'return'])
      assert.equal(innermost(src, k, 3), 'keyword.control.bpftrace', k);
    assert.equal(innermost(src, 'foo', 5), 'entity.name.type.bpftrace');
    assert.equal(innermost(src, 'char', 5), 'storage.type.bpftrace');
  });

  it('every bpftrace script of the repository tokenizes back to the top level', () => {
    const scripts = [
      ...fs
        .readdirSync(path.join(__dirname, 'fixtures', 'bpftrace'))
        .filter((f) => f.endsWith('.bt'))
        .map((f) => path.join(__dirname, 'fixtures', 'bpftrace', f)),
      path.join(root, 'bpf-samples', 'bpftrace_syscalls', 'syscalls.bt'),
    ].filter((f) => !f.endsWith('syntax.bt')); // syntax.bt is deliberately broken
    assert.ok(scripts.length >= 8);
    for (const file of scripts) {
      const { lines, depth } = tokenize(fs.readFileSync(file, 'utf8'));
      assert.equal(depth, 0, `${path.basename(file)} ends at the top level`);
      const stray = lines.flat().filter((t) => /[{}]/.test(t.text) && t.scopes.length === 1);
      assert.deepEqual(
        stray.map((t) => t.text),
        [],
        `${path.basename(file)}: every brace belongs to a block`,
      );
    }
  });
});
