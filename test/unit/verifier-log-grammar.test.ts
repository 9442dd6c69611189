// The bpf-verifier-log TextMate grammar (syntaxes/), tokenized with the same engine VS Code uses
// (vscode-textmate over oniguruma): which lines a user sees coloured as errors.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as oniguruma from 'vscode-oniguruma';
import * as textmate from 'vscode-textmate';

const root = path.join(__dirname, '..', '..');

async function loadGrammar(): Promise<textmate.IGrammar> {
  const wasm = fs.readFileSync(path.join(root, 'node_modules', 'vscode-oniguruma', 'release', 'onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async () =>
      textmate.parseRawGrammar(
        fs.readFileSync(path.join(root, 'syntaxes', 'bpf-verifier-log.tmLanguage.json'), 'utf8'),
        'bpf-verifier-log.tmLanguage.json',
      ),
  });
  const grammar = await registry.loadGrammar('source.bpf-verifier-log');
  if (!grammar) throw new Error('the grammar did not load');
  return grammar;
}

/** The scopes of each line's tokens, one line at a time, as the editor tokenizes a document. */
function scopesOf(grammar: textmate.IGrammar, text: string): string[][] {
  let state = textmate.INITIAL;
  return text.split('\n').map((line) => {
    const r = grammar.tokenizeLine(line, state);
    state = r.ruleStack;
    return r.tokens.flatMap((t) => t.scopes);
  });
}

describe('verifier log grammar', () => {
  let grammar: textmate.IGrammar;
  before(async () => {
    grammar = await loadGrammar();
  });

  // The start of a real log of a tracepoint program taking a vmlinux.h context struct (execsnoop on 6.18),
  // then the rejection of a map value read without a NULL check.
  const log = [
    "arg#0 reference type('UNKNOWN ') size cannot be determined: -22",
    '0: R1=ctx() R10=fp0',
    '; int trace_exec(struct trace_event_raw_sched_process_exec *ctx) @ execsnoop.bpf.c:27',
    '0: (bf) r6 = r1                       ; R1=ctx() R6_w=ctx()',
    "Func#1 ('helper') is global and assumed valid.",
    'Validating helper() func#1...',
    "R0 invalid mem access 'map_value_or_null'",
    'processed 7 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0',
  ].join('\n');

  it('does not colour the arg#0 reference type note or Func#/Validating lines as errors', () => {
    const lines = scopesOf(grammar, log);
    for (const i of [0, 4, 5]) {
      assert.ok(
        !lines[i].some((s) => s.startsWith('invalid')),
        `line ${i + 1} is not an error: ${log.split('\n')[i]} -> ${lines[i].join(' ')}`,
      );
      assert.ok(lines[i].includes('comment.line.note.bpf-verifier-log'), `line ${i + 1} is a note`);
    }
  });

  it('still colours the rejection message as an error, and nothing else', () => {
    const lines = scopesOf(grammar, log);
    const errors = lines
      .map((scopes, i) => (scopes.some((s) => s.startsWith('invalid')) ? i : -1))
      .filter((i) => i >= 0);
    assert.deepEqual(errors, [6]);
  });
});
