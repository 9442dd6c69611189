// Helper process: turns a failed load or attach into a typed failure that names the cause (a refused
// program type, a missing attach target, a verifier rejection, a map libbpf could not create).
import * as fs from 'fs';
import type { ObjectSpec, ProgramLoadReport } from '../../native/types';
import { libbpfLines, mapCreateFailure, missingAttachTarget } from '../formats/load-failure';
import { parseRejection } from '../formats/verifier-rejection';
import type { AttachRequest } from '../protocol/methods';
import { errnoName, HelperFailure } from './errors';
import { lockdownMode } from './system';

const EPERM = 1;
const ENOENT = 2;
const ESRCH = 3;
const EBUSY = 16;
const EOPNOTSUPP = 95;
const ENOTSUPP = 524;

/** Names the cause of a failed load: a refused program type, a verifier rejection, or libbpf's error. */
export function explainLoadFailure(
  spec: ObjectSpec,
  error: { errno: number; message: string; program?: string },
  reports: ProgramLoadReport[],
  libbpfLog: string,
): HelperFailure {
  const program = spec.programs.find((p) => p.name === error.program);
  const report = reports.find((r) => r.name === error.program);
  // libbpf looks the attach target up in the kernel's BTF before the program reaches the verifier.
  const missing = program && missingAttachTarget(program.name, program.section, libbpfLog);
  if (program && missing && (error.errno === ESRCH || error.errno === ENOENT)) {
    return new HelperFailure(
      {
        kind: 'NotSupported',
        feature: 'attach target',
        reason: missing,
        program: program.name,
        libbpf: libbpfLines(libbpfLog, { program: program.name }),
      },
      `Cannot load ${program.name} (SEC("${program.section}")): ${missing}.`,
    );
  }
  if (program && (error.errno === EPERM || error.errno === EOPNOTSUPP || error.errno === ENOTSUPP)) {
    const lockdown = lockdownMode();
    const cause =
      lockdown && lockdown !== 'none'
        ? `the kernel is in lockdown mode "${lockdown}"`
        : "the kernel's security policy (a BPF LSM or seccomp policy, or restrictions of this VM) forbids them; ordinary hosts allow root to load them";
    const kind = program.expectedAttachType ? `${program.type} (${program.expectedAttachType})` : program.type;
    return new HelperFailure(
      {
        kind: 'NotSupported',
        feature: `${kind} programs`,
        reason: `${errnoName(error.errno)}: likely cause: ${cause}`,
        program: program.name,
      },
      `Cannot load ${program.name} (SEC("${program.section}")): this kernel refuses ${kind} programs with ` +
        `${errnoName(error.errno)}. Likely cause: ${cause}.`,
    );
  }
  if (program && report?.log) {
    const failure = parseRejection(report.log);
    const where = failure?.location ? ` at ${failure.location.file}:${failure.location.line}` : '';
    const message = failure?.message ?? error.message;
    return new HelperFailure(
      { kind: 'VerifierRejected', program: program.name, message, log: report.log, errno: error.errno },
      `The verifier rejected ${program.name}${where}: ${message}`,
    );
  }
  const map = mapCreateFailure(libbpfLog);
  if (map) {
    return new HelperFailure(
      {
        kind: 'Internal',
        errno: error.errno,
        map: map.map,
        libbpf: libbpfLines(libbpfLog, { map: map.map }),
      },
      `Map ${map.map} of ${spec.name} could not be created (${errnoName(error.errno)}): ${map.reason}` +
        (spec.maps.find((m) => m.name === map.map)?.maxEntries === 0
          ? ': its max_entries is 0, left to the loader to set (maxEntries).'
          : '.'),
    );
  }
  const lines = libbpfLines(libbpfLog, { program: program?.name });
  const reason = error.message.replace(/^load \S+?(: program \S+)?: /, '');
  return new HelperFailure(
    { kind: 'Internal', errno: error.errno, program: program?.name, libbpf: lines },
    program
      ? `Loading ${program.name} (SEC("${program.section}")) failed (${errnoName(error.errno)}): ${reason}.`
      : `Loading ${spec.name} failed (${errnoName(error.errno)}): ${reason}.`,
  );
}

/** Names the cause of a failed attach: no kprobe support, a busy hook, a refusal, or the kernel's error. */
export function attachFailure(
  program: string,
  request: AttachRequest,
  error: { errno?: number; message: string },
): HelperFailure {
  if (request.kind === 'auto' || request.kind === 'tracepoint') {
    if (
      error.errno === ENOENT &&
      !fs.existsSync('/sys/bus/event_source/devices/kprobe') &&
      /kprobe|kretprobe/.test(error.message)
    ) {
      return new HelperFailure(
        {
          kind: 'NotSupported',
          feature: 'kprobes',
          reason: 'this kernel is built without kprobe events (CONFIG_KPROBE_EVENTS)',
        },
        `Cannot attach ${program}: this kernel has no kprobe support (CONFIG_KPROBE_EVENTS is off).`,
      );
    }
  }
  if (error.errno === EBUSY && (request.kind === 'xdp' || request.kind === 'tc')) {
    const hook = request.kind === 'xdp' ? 'an XDP' : `a tc ${request.direction}`;
    return new HelperFailure(
      { kind: 'BadInput', field: 'interface', reason: `${request.interface} already has ${hook} program attached` },
      `Cannot attach ${program}: ${request.interface} already has ${hook} program attached. Unload or detach that one first (the Programs view lists what is attached where).`,
    );
  }
  if (error.errno === EPERM || error.errno === EOPNOTSUPP || error.errno === ENOTSUPP) {
    return new HelperFailure(
      {
        kind: 'NotSupported',
        feature: `attaching ${request.kind}`,
        reason: `${errnoName(error.errno!)}: ${error.message}`,
      },
      `Cannot attach ${program}: the kernel refused (${errnoName(error.errno!)}): ${error.message}`,
    );
  }
  return new HelperFailure({ kind: 'Internal', errno: error.errno }, `Cannot attach ${program}: ${error.message}`);
}
