// The verifier's walk as a debug session (debug adapter protocol, @vscode/debugadapter): a level-2
// verifier log is replayed step by step, forward and back, with the registers and stack slots the verifier
// tracked at each instruction, subprogram frames as the call stack, breakpoints on C lines, the rejection
// as an exception, and the instructions in the disassembly view. The host runs it inline
// (DebugAdapterInlineImplementation) and hands it the log; tests drive it over streams. No vscode.
import { isAscii } from 'buffer';
import * as fs from 'fs';
import * as path from 'path';
import {
  Breakpoint,
  DebugSession,
  InitializedEvent,
  OutputEvent,
  Scope,
  Source,
  StackFrame,
  StoppedEvent,
  TerminatedEvent,
  Thread,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { explainRejection } from '../formats/verifier-explain';
import { explanationText } from '../formats/verifier-fixes';
import { parseVerifierTrace } from '../formats/verifier-trace';
import type { VerifierTrace } from '../formats/verifier-trace-walk';
import { address, disassemble, firstSteps } from './disassembly';
import { Variables } from './variables';
import { type Stop, Walk } from './walk';

export const DEBUG_TYPE = 'ebpf-verifier';

export interface VerifierLaunchArgs extends DebugProtocol.LaunchRequestArguments {
  /** The BPF program (its C function name). */
  program?: string;
  /** The *.bpf.c it was built from: the log names files as the object's line info does. */
  source?: string;
  /** A verifier log saved to a file, replayed instead of asking the host for one. */
  logFile?: string;
  /** Stop at the first instruction (default) or run to the first breakpoint or the failure. */
  stopOnEntry?: boolean;
}

export interface ObtainedLog {
  log: string;
  verdict?: 'accepted' | 'rejected';
}

/** How the host gets a level-2 log for a launch (build, load with log level 2, never truncated). */
export type LogProvider = (args: VerifierLaunchArgs) => Promise<ObtainedLog>;

const THREAD = 1;

/**
 * A log file as text. The kernel writes verifier logs in ASCII (a source line in them can hold UTF-8): an ASCII
 * file is decoded as latin1, the same characters at a third of UTF-8 decoding's cost here (a 142 MB log: read
 * and decoded in ~1.45 s instead of ~2.5 s).
 */
export function readLogText(file: string): string {
  const bytes = fs.readFileSync(file);
  return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
}

export class VerifierDebugSession extends DebugSession {
  private walk?: Walk;
  private trace?: VerifierTrace;
  private args: VerifierLaunchArgs = {};
  private position = 0;
  private refs = new Variables();
  private breakpointLines = new Map<string, number[]>();
  private configured!: Promise<void>;
  private markConfigured!: () => void;
  private sourceText = new Map<string, string[] | undefined>();
  private insnIndex?: Map<number, number>;

  constructor(private readonly provideLog?: LogProvider) {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    this.configured = new Promise((resolve) => (this.markConfigured = resolve));
  }

  /**
   * DebugSession exits the process 100 ms after a disconnect unless it thinks it runs inline; this session
   * runs in the extension host (or a test), where that would take the host down with it.
   */
  override shutdown(): void {}

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      ...response.body,
      supportsConfigurationDoneRequest: true,
      supportsStepBack: true,
      supportsEvaluateForHovers: true,
      supportsExceptionInfoRequest: true,
      supportsDisassembleRequest: true,
      supportsSteppingGranularity: true,
      supportsInstructionBreakpoints: false,
      supportsRestartRequest: false,
      supportsTerminateRequest: true,
    };
    this.sendResponse(response);
  }

  protected override async launchRequest(
    response: DebugProtocol.LaunchResponse,
    args: VerifierLaunchArgs,
  ): Promise<void> {
    this.args = args;
    try {
      const obtained = args.logFile
        ? { log: readLogText(args.logFile) }
        : this.provideLog
          ? await this.provideLog(args)
          : undefined;
      if (!obtained)
        throw new Error('Nothing to replay: give "logFile", or start this from eBPF: Debug Verifier Path.');
      const started = performance.now();
      this.trace = parseVerifierTrace(obtained.log, { verdict: obtained.verdict });
      this.walk = new Walk(this.trace);
      const ms = Math.round(performance.now() - started);
      if (this.trace.length === 0)
        throw new Error('The verifier log has no instructions: was it recorded with log level 2?');
      this.sendResponse(response);
      const failure = this.trace.failure;
      this.sendEvent(
        new OutputEvent(
          `Replaying ${this.trace.length} verifier steps of ${args.program ?? 'the program'} (parsed in ${ms} ms)` +
            (failure ? `; rejected: ${failure.message.split('\n')[0]}\n` : '; the verifier accepted it.\n'),
          'console',
        ),
      );
      this.sendEvent(new InitializedEvent());
    } catch (error) {
      this.sendErrorResponse(response, { id: 1, format: (error as Error).message, showUser: true });
      return;
    }
    // Breakpoints arrive between initialized and configurationDone; only then is the first stop known.
    await this.configured;
    this.stopAt(this.walk.start(args.stopOnEntry !== false));
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.sendResponse(response);
    this.markConfigured();
  }

  protected override setBreakPointsRequest(
    response: DebugProtocol.SetBreakpointsResponse,
    args: DebugProtocol.SetBreakpointsArguments,
  ): void {
    const file = args.source.path ?? args.source.name ?? '';
    const lines = (args.breakpoints ?? []).map((b) => b.line);
    this.breakpointLines.set(file, lines);
    response.body = {
      breakpoints: lines.map((line) => {
        const hits = this.trace?.stepsAt(file, line).length ?? 0;
        const bp: DebugProtocol.Breakpoint = new Breakpoint(
          hits > 0,
          line,
          undefined,
          new Source(path.basename(file), file),
        );
        if (hits === 0) bp.message = 'The verifier never reached this line.';
        else bp.message = `The verifier reached this line ${hits} time(s).`;
        return bp;
      }),
    };
    this.updateBreakpointSteps();
    this.sendResponse(response);
  }

  private updateBreakpointSteps(): void {
    if (!this.trace || !this.walk) return;
    const steps: number[] = [];
    for (const [file, lines] of this.breakpointLines)
      for (const line of lines) steps.push(...this.trace.stepsAt(file, line));
    this.walk.setBreakpointSteps(steps);
  }

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    response.body = { threads: [new Thread(THREAD, this.args.program ?? 'verifier')] };
    this.sendResponse(response);
  }

  // --- movement ---------------------------------------------------------------------------------

  private stopAt(stop: Stop): void {
    this.position = stop.step;
    this.refs.reset();
    const failure = this.trace?.failure;
    if (stop.reason === 'exception' && failure) {
      const event = new StoppedEvent('exception', THREAD, failure.message.split('\n')[0]);
      (event.body as DebugProtocol.StoppedEvent['body']).description = 'Rejected by the verifier';
      this.sendEvent(event);
      return;
    }
    const reason = stop.reason === 'end' ? 'pause' : stop.reason;
    const event = new StoppedEvent(reason, THREAD);
    if (stop.reason === 'end')
      (event.body as DebugProtocol.StoppedEvent['body']).description = 'End of the walk: the verifier accepted it';
    this.sendEvent(event);
  }

  private moveAndStop(response: DebugProtocol.Response, movement: Parameters<Walk['move']>[1]): void {
    this.sendResponse(response);
    if (this.walk) this.stopAt(this.walk.move(this.position, movement));
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    response.body = { allThreadsContinued: true };
    this.moveAndStop(response, 'continue');
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    this.moveAndStop(response, args.granularity === 'instruction' ? 'instruction' : 'next');
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse): void {
    this.moveAndStop(response, 'stepIn');
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse): void {
    this.moveAndStop(response, 'stepOut');
  }

  protected override stepBackRequest(
    response: DebugProtocol.StepBackResponse,
    args: DebugProtocol.StepBackArguments,
  ): void {
    this.sendResponse(response);
    if (!this.walk) return;
    this.stopAt(
      args.granularity === 'instruction' ? this.walk.back(this.position) : this.walk.move(this.position, 'stepBack'),
    );
  }

  protected override reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): void {
    this.moveAndStop(response, 'reverseContinue');
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.sendResponse(response);
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    this.sendResponse(response);
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.sendResponse(response);
    this.sendEvent(new TerminatedEvent());
  }

  // --- where ------------------------------------------------------------------------------------

  /** The file the log names, found next to the source the program was built from. */
  private resolve(file: string): string {
    if (path.isAbsolute(file)) return file;
    const source = this.args.source;
    if (!source) return file;
    const candidate = path.resolve(path.dirname(source), file);
    if (fs.existsSync(candidate)) return candidate;
    return path.basename(file) === path.basename(source) ? source : candidate;
  }

  private sourceOf(file: string | undefined): Source | undefined {
    if (!file) return undefined;
    const resolved = this.resolve(file);
    return new Source(path.basename(resolved), resolved);
  }

  /** The C function around a line: the last definition that starts at column 0 above it. */
  private functionAt(file: string | undefined, line: number | undefined): string | undefined {
    if (!file || !line) return undefined;
    const resolved = this.resolve(file);
    if (!this.sourceText.has(resolved)) {
      let lines: string[] | undefined;
      try {
        lines = fs.readFileSync(resolved, 'utf8').split('\n');
      } catch {
        lines = undefined;
      }
      this.sourceText.set(resolved, lines);
    }
    const lines = this.sourceText.get(resolved);
    if (!lines) return undefined;
    for (let i = Math.min(line, lines.length) - 1; i >= 0; i--) {
      const m = /^(?!SEC|#|\/|\s)[A-Za-z_][\w\s*]*?\b([A-Za-z_]\w*)\s*\([^;]*$/.exec(lines[i]);
      if (m) return m[1];
    }
    return undefined;
  }

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse): void {
    if (!this.walk || !this.trace) {
      response.body = { stackFrames: [], totalFrames: 0 };
      this.sendResponse(response);
      return;
    }
    const trace = this.trace;
    const frames = this.walk.frames(this.position).map((site) => {
      const step = trace.step(site.step);
      const fn = this.functionAt(step.file, step.line) ?? (site.depth === 0 ? this.args.program : undefined);
      const name = `${fn ?? (site.depth === 0 ? 'program' : `subprogram ${site.depth}`)} · insn ${step.insn}`;
      const frame: DebugProtocol.StackFrame = new StackFrame(
        site.depth + 1,
        name,
        this.sourceOf(step.file),
        step.line ?? 0,
        1,
      );
      frame.instructionPointerReference = address(step.insn);
      return frame;
    });
    response.body = { stackFrames: frames, totalFrames: frames.length };
    this.sendResponse(response);
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    const depth = args.frameId - 1;
    const scopes: DebugProtocol.Scope[] = [
      new Scope('Registers', this.refs.create({ kind: 'registers', depth }), false),
      new Scope('Stack', this.refs.create({ kind: 'stack', depth }), false),
    ];
    if (this.walk && depth === this.trace?.step(this.position).frame) {
      scopes.push(new Scope('Changed at this step', this.refs.create({ kind: 'changed' }), false));
      scopes.push(new Scope('Branch decisions', this.refs.create({ kind: 'branches' }), true));
    }
    response.body = { scopes };
    this.sendResponse(response);
  }

  protected override variablesRequest(
    response: DebugProtocol.VariablesResponse,
    args: DebugProtocol.VariablesArguments,
  ): void {
    const ref = this.refs.get(args.variablesReference);
    response.body = { variables: ref && this.walk ? this.refs.list(this.walk, this.position, ref) : [] };
    this.sendResponse(response);
  }

  protected override evaluateRequest(
    response: DebugProtocol.EvaluateResponse,
    args: DebugProtocol.EvaluateArguments,
  ): void {
    if (!this.walk || !this.trace) {
      this.sendErrorResponse(response, { id: 2, format: 'Not started.', showUser: false });
      return;
    }
    const depth = args.frameId !== undefined ? args.frameId - 1 : this.walk.state(this.position).frames.length - 1;
    const variable = this.refs.evaluate(this.walk, this.position, depth, args.expression.trim());
    if (!variable) {
      this.sendErrorResponse(response, {
        id: 3,
        format: 'Watch a register (R0 … R10) or a stack slot (fp-8).',
        showUser: args.context !== 'hover',
      });
      return;
    }
    response.body = {
      result: variable.value,
      type: variable.type,
      variablesReference: variable.variablesReference,
      presentationHint: variable.presentationHint,
    };
    this.sendResponse(response);
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    const failure = this.trace?.failure;
    const explanation = failure ? explainRejection(failure.message, failure.report) : undefined;
    response.body = {
      exceptionId: explanation?.rule ?? 'verifier-rejected',
      description: failure
        ? `${failure.message}${explanation ? `\n\n${explanation.title}: ${explanationText(explanation)}` : ''}`
        : 'The verifier accepted this program.',
      breakMode: 'always',
      details: {
        message: failure?.message,
        typeName: explanation?.title ?? 'Verifier rejection',
        stackTrace: failure?.instruction,
      },
    };
    this.sendResponse(response);
  }

  /** `inlineValues`: the registers each C line on the path to this stop left behind, for the editor. */
  protected override customRequest(command: string, response: DebugProtocol.Response): void {
    if (command !== 'inlineValues' || !this.walk) {
      this.sendErrorResponse(response, { id: 4, format: `Unknown request ${command}.`, showUser: false });
      return;
    }
    response.body = {
      lines: this.walk.lineSummaries(this.position).map((l) => ({ ...l, file: this.resolve(l.file) })),
    };
    this.sendResponse(response);
  }

  // --- instructions

  protected override disassembleRequest(
    response: DebugProtocol.DisassembleResponse,
    args: DebugProtocol.DisassembleArguments,
  ): void {
    if (!this.trace) {
      response.body = { instructions: [] };
      this.sendResponse(response);
      return;
    }
    // The first steps of each instruction are indexed on the first disassembly request.
    this.insnIndex ??= firstSteps(this.trace);
    response.body = { instructions: disassemble(this.trace, this.insnIndex, args, (file) => this.sourceOf(file)) };
    this.sendResponse(response);
  }
}
