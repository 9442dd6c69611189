import { strict as assert } from 'assert';
import * as path from 'path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { readLogText, VerifierDebugSession } from '../../extension/debug-adapter/session';
import { debugPathLenses, findSecFunctions } from '../../extension/language-server/lenses';
import * as fs from 'fs';
import * as os from 'os';
import { DapClient } from './dap-client';

// Real level-2 logs of this kernel (6.18), with the C sources they were built from.
const dir = path.join(__dirname, 'fixtures', 'verifier-logs');
const source = (name: string) => path.join(dir, 'src', `${name}.bpf.c`);

interface Where {
  line: number;
  name: string;
  reason: string;
  registers: Map<string, DebugProtocol.Variable>;
  frames: DebugProtocol.StackFrame[];
}

/** Starts a session on a fixture the way VS Code does: initialize, launch, breakpoints, configurationDone. */
async function launch(name: string, breakpointLines: number[] = [], extra: Record<string, unknown> = {}) {
  const client = new DapClient(new VerifierDebugSession());
  const init = await client.request<DebugProtocol.InitializeResponse>('initialize', {
    adapterID: 'ebpf-verifier',
    pathFormat: 'path',
    linesStartAt1: true,
    columnsStartAt1: true,
  });
  const launched = client.request('launch', {
    program: name,
    source: source(name),
    logFile: path.join(dir, `${name}.level2.log`),
    ...extra,
  });
  await client.event('initialized');
  await launched;
  const bps = await client.request<DebugProtocol.SetBreakpointsResponse>('setBreakpoints', {
    source: { path: source(name) },
    breakpoints: breakpointLines.map((line) => ({ line })),
  });
  await client.request('configurationDone');
  const first = await client.event<DebugProtocol.StoppedEvent>('stopped');
  return { client, capabilities: init.body!, breakpoints: bps.body.breakpoints, first };
}

/** Where the session stands: top frame's line and the registers of its frame. */
async function where(client: DapClient, reason: string): Promise<Where> {
  const stack = await client.request<DebugProtocol.StackTraceResponse>('stackTrace', { threadId: 1 });
  const top = stack.body.stackFrames[0];
  const scopes = await client.request<DebugProtocol.ScopesResponse>('scopes', { frameId: top.id });
  const regs = scopes.body.scopes.find((s) => s.name === 'Registers')!;
  const vars = await client.request<DebugProtocol.VariablesResponse>('variables', {
    variablesReference: regs.variablesReference,
  });
  return {
    line: top.line,
    name: top.name,
    reason,
    registers: new Map(vars.body.variables.map((v) => [v.name, v])),
    frames: stack.body.stackFrames,
  };
}

async function go(client: DapClient, command: string, args: Record<string, unknown> = {}): Promise<Where> {
  await client.request(command, { threadId: 1, ...args });
  const stopped = await client.event<DebugProtocol.StoppedEvent>('stopped');
  return where(client, stopped.body.reason);
}

describe('verifier debug adapter (DAP, real logs)', function () {
  this.timeout(20000);

  it('says what it can do: step back, exception info, disassembly', async () => {
    const { client, capabilities } = await launch('null_deref_subprog');
    assert.equal(capabilities.supportsStepBack, true);
    assert.equal(capabilities.supportsExceptionInfoRequest, true);
    assert.equal(capabilities.supportsDisassembleRequest, true);
    assert.equal(capabilities.supportsSteppingGranularity, true);
    client.close();
  });

  it('steps over C lines, into the subprogram, and shows R0 map_value_or_null then map_value', async () => {
    const { client, first } = await launch('null_deref_subprog');
    assert.equal(first.body.reason, 'entry');
    let at = await where(client, first.body.reason);
    assert.equal(at.line, 35);
    assert.equal(at.registers.get('R1')?.type, 'ctx');
    assert.equal(at.registers.get('R10')?.type, 'fp');
    assert.equal(at.registers.get('R0')?.value, 'not readable');
    at = await go(client, 'next');
    assert.equal(at.line, 37);
    assert.equal(at.registers.get('R0')?.type, 'scalar');
    at = await go(client, 'next');
    assert.equal(at.line, 38);
    // `call pc+5`, then into bump_checked.
    at = await go(client, 'stepIn');
    assert.equal(at.frames[0].instructionPointerReference, '0x5');
    at = await go(client, 'stepIn');
    assert.equal(at.line, 14);
    assert.deepEqual(
      at.frames.map((f) => [f.name, f.line]),
      [
        ['bump_checked · insn 11', 14],
        ['null_deref · insn 5', 38],
      ],
    );
    assert.equal(at.registers.get('R1')?.type, 'scalar');
    at = await go(client, 'next');
    assert.equal(at.line, 16);
    at = await go(client, 'next');
    assert.equal(at.line, 18);
    // Right after bpf_map_lookup_elem: the value may be NULL.
    assert.equal(at.registers.get('R0')?.type, 'map_value_or_null');
    assert.equal(at.registers.get('R0')?.value, 'map_value_or_null(id=2,map=counts,ks=4,vs=8)');
    at = await go(client, 'next');
    // After `if (!count) return 0;` the fall-through knows it is not.
    assert.equal(at.line, 20);
    assert.equal(at.registers.get('R0')?.type, 'map_value');
    assert.ok(at.registers.get('R0')?.presentationHint?.attributes?.includes('changed'), 'R0 marked as changed');
    assert.ok(!at.registers.get('R10')?.presentationHint?.attributes?.includes('changed'));

    // The details of R0 name the map.
    const details = await client.request<DebugProtocol.VariablesResponse>('variables', {
      variablesReference: at.registers.get('R0')!.variablesReference,
    });
    const rows = new Map(details.body.variables.map((v) => [v.name, v.value]));
    assert.equal(rows.get('kind'), 'map_value');
    assert.equal(rows.get('map'), 'counts');
    assert.equal(rows.get('value size'), '8');

    // And back.
    at = await go(client, 'stepBack');
    assert.equal(at.line, 18);
    assert.equal(at.registers.get('R0')?.type, 'map_value_or_null');
    at = await go(client, 'stepBack');
    assert.equal(at.line, 16);
    assert.equal(at.registers.get('R0')?.value, 'not readable');
    client.close();
  });

  it('shows the branch decisions and what changed, and evaluates a register for Watch', async () => {
    const { client } = await launch('null_deref_subprog', [20]);
    const at = await go(client, 'continue');
    assert.equal(at.reason, 'breakpoint');
    assert.equal(at.line, 20);
    const scopes = await client.request<DebugProtocol.ScopesResponse>('scopes', { frameId: at.frames[0].id });
    const names = scopes.body.scopes.map((s) => s.name);
    assert.deepEqual(names, ['Registers', 'Stack', 'Changed at this step', 'Branch decisions']);
    const variables = async (scope: string) =>
      (
        await client.request<DebugProtocol.VariablesResponse>('variables', {
          variablesReference: scopes.body.scopes.find((s) => s.name === scope)!.variablesReference,
        })
      ).body.variables;
    const branches = await variables('Branch decisions');
    assert.equal(branches[0].name, 'insn 18 (line 18)');
    assert.equal(branches[0].value, 'if r0 == 0x0 goto pc+4 → not taken (to insn 19)');
    assert.equal(branches[1].name, 'insn 3 (line 37)');
    assert.match(branches[1].value, /if r1 > r0 goto pc\+3 → not taken/);
    const changed = await variables('Changed at this step');
    assert.deepEqual(
      changed.map((v) => [v.name, v.type]),
      [['frame1 R0', 'map_value']],
    );
    const stack = await variables('Stack');
    assert.equal(stack[0].name, 'fp-8');
    assert.match(stack[0].value, /^[m?]{8}$/);
    const watch = await client.request<DebugProtocol.EvaluateResponse>('evaluate', {
      expression: 'r0',
      context: 'watch',
    });
    assert.equal(watch.body.result, 'map_value(map=counts,ks=4,vs=8)');
    assert.equal(watch.body.type, 'map_value');
    await assert.rejects(client.request('evaluate', { expression: 'count', context: 'watch' }), /register/);
    client.close();
  });

  it('stops at a breakpoint each time the walk reaches its line, and continues backwards', async () => {
    // Line 22 (`return 1;` / `return 0;` share `r0 = r1` at insn 23) is walked twice: once on each path.
    const { client, breakpoints } = await launch('null_deref_subprog', [22, 30]);
    assert.equal(breakpoints[0].verified, true);
    assert.equal(breakpoints[1].verified, false, 'line 30 is not in the walk');
    let at = await go(client, 'continue');
    assert.deepEqual([at.reason, at.line], ['breakpoint', 22]);
    assert.equal(at.registers.get('R0')?.type, 'map_value');
    at = await go(client, 'continue');
    assert.deepEqual([at.reason, at.line], ['breakpoint', 22]);
    // The second visit is the popped `if (!count)` branch: R0 is now known to be 0.
    assert.equal(at.registers.get('R0')?.value, '0');
    at = await go(client, 'reverseContinue');
    assert.deepEqual([at.reason, at.line], ['breakpoint', 22]);
    assert.equal(at.registers.get('R0')?.type, 'map_value');
    at = await go(client, 'reverseContinue');
    assert.deepEqual([at.reason, at.line], ['entry', 35]);
    client.close();
  });

  it('stops at the rejection as an exception with the message and its explanation', async () => {
    const { client } = await launch('null_deref_subprog');
    await client.request('continue', { threadId: 1 });
    const stopped = await client.event<DebugProtocol.StoppedEvent>('stopped');
    assert.equal(stopped.body.reason, 'exception');
    assert.equal(stopped.body.text, "R0 invalid mem access 'map_value_or_null'");
    const at = await where(client, stopped.body.reason);
    assert.equal(at.line, 28);
    assert.equal(at.frames[0].name, 'bump_unchecked · insn 31');
    assert.equal(at.frames[1].line, 39);
    assert.equal(at.registers.get('R0')?.type, 'map_value_or_null');
    const info = await client.request<DebugProtocol.ExceptionInfoResponse>('exceptionInfo', { threadId: 1 });
    assert.equal(info.body.exceptionId, 'null-deref');
    assert.match(
      info.body.description!,
      /^R0 invalid mem access 'map_value_or_null'\n\nPointer used without a NULL check: /,
    );
    assert.equal(info.body.details?.stackTrace, '31: (79) r1 = *(u64 *)(r0 +0)');
    client.close();
  });

  it('summarises the registers each line on the path left behind (inline values)', async () => {
    const { client } = await launch('null_deref_subprog', [], { stopOnEntry: false });
    const r = await client.request<DebugProtocol.Response>('inlineValues', {});
    const lines = (
      r.body as { lines: { file: string; line: number; registers: { name: string; type: string; text: string }[] }[] }
    ).lines;
    // The path to the failure: the popped branch of line 37, line 39's call, bump_unchecked up to line 28.
    assert.deepEqual(
      lines.map((l) => [l.line, l.registers.map((x) => `${x.name}:${x.type}`).join(' ')]),
      [
        [35, 'R0:scalar R1:scalar'],
        // The popped branch's state: R0 now at most 100.
        [37, 'R0:scalar R1:scalar'],
        // `r1 = r0; call pc+16`: the call leaves R1 unreadable in the caller.
        [39, ''],
        [24, 'R1:scalar R2:fp'],
        [26, 'R0:map_value_or_null'],
      ],
    );
    assert.equal(lines[0].file, source('null_deref_subprog'));
    assert.match(lines[1].registers[0].text, /umax=.*100/);
    client.close();
  });

  it('replays a Linux 7.3 log (classic log plus the report) to the same rejection as its current twin', async () => {
    const stops: [string | undefined, number, string | undefined][] = [];
    for (const logFile of ['null_deref_subprog.level1.log', 'report-7x/null_deref_subprog.level1.log']) {
      const { client } = await launch('null_deref_subprog', [], {
        stopOnEntry: false,
        logFile: path.join(dir, logFile),
      });
      const at = await where(client, 'exception');
      const info = await client.request<DebugProtocol.ExceptionInfoResponse>('exceptionInfo', { threadId: 1 });
      stops.push([info.body.details?.message, at.line, at.registers.get('R0')?.type]);
      client.close();
    }
    assert.deepEqual(stops[0], ["R0 invalid mem access 'map_value_or_null'", 28, 'map_value_or_null']);
    assert.deepEqual(stops[1], stops[0]);
  });

  it('disassembles around the current instruction with the C lines', async () => {
    const { client } = await launch('null_deref_subprog', [], { stopOnEntry: false });
    const stack = await client.request<DebugProtocol.StackTraceResponse>('stackTrace', { threadId: 1 });
    const ip = stack.body.stackFrames[0].instructionPointerReference!;
    assert.equal(ip, '0x1f');
    const dis = await client.request<DebugProtocol.DisassembleResponse>('disassemble', {
      memoryReference: ip,
      instructionOffset: -3,
      instructionCount: 5,
    });
    assert.deepEqual(
      dis.body!.instructions.map((i) => [i.address, i.instruction, i.line]),
      [
        ['0x1c', 'r1 = 0xffff8881b78a7400', 26],
        ['0x1d', '(not walked by the verifier)', undefined],
        ['0x1e', 'call bpf_map_lookup_elem#1', undefined],
        ['0x1f', 'r1 = *(u64 *)(r0 +0)', 28],
        ['0x20', '', undefined],
      ],
    );
    assert.equal(dis.body!.instructions[4].presentationHint, 'invalid');
    client.close();
  });

  it('walks an accepted program to its end, and refuses a log without instructions', async () => {
    const { client, first } = await launch('null_deref_fixed', [], { stopOnEntry: false });
    assert.equal(first.body.reason, 'pause');
    assert.equal(first.body.description, 'End of the walk: the verifier accepted it');
    const at = await where(client, first.body.reason);
    assert.match(at.frames[0].name, /^null_deref · insn \d+$/);
    const info = await client.request<DebugProtocol.ExceptionInfoResponse>('exceptionInfo', { threadId: 1 });
    assert.equal(info.body.description, 'The verifier accepted this program.');
    // Disconnecting must not end the process the session runs in (the extension host; here, mocha).
    await client.request('disconnect', {});
    await new Promise((resolve) => setTimeout(resolve, 200));
    client.close();
    const empty = new DapClient(new VerifierDebugSession(async () => ({ log: 'processed 0 insns\n' })));
    await empty.request('initialize', {
      adapterID: 'ebpf-verifier',
      pathFormat: 'path',
      linesStartAt1: true,
      columnsStartAt1: true,
    });
    await assert.rejects(empty.request('launch', { program: 'x' }), /no instructions/);
    empty.close();
  });

  it('puts a "Debug path" lens over each program of verifier_bugs', () => {
    const text = fs.readFileSync(
      path.join(__dirname, '..', '..', 'bpf-samples', 'verifier_bugs', 'verifier_bugs.bpf.c'),
      'utf8',
    );
    assert.deepEqual(debugPathLenses(findSecFunctions(text)), [
      { line: 19, title: '$(debug-alt) Debug path', program: 'count_getpid' },
      { line: 31, title: '$(debug-alt) Debug path', program: 'drop_ipv6' },
    ]);
  });

  it('reads a log file as the text it holds, ASCII or with UTF-8 source lines', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ebpf-studio-log-'));
    try {
      const ascii = path.join(dir, 'null_deref_subprog.level2.log');
      assert.equal(readLogText(ascii), fs.readFileSync(ascii, 'utf8'));
      const utf8 = path.join(tmp, 'utf8.log');
      const text = '0: R1=ctx() R10=fp0\n; bpf_printk("naïve → 𝔼"); @ naïve.bpf.c:3\n0: (b7) r0 = 0\n';
      fs.writeFileSync(utf8, text);
      assert.equal(readLogText(utf8), text);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
