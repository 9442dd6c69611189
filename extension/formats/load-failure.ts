// Reasons for libbpf load failures, read from libbpf's own log and said in the user's words: a program
// whose attach target this kernel lacks, a map the kernel would not create, a CO-RE relocation against a
// field or type the kernel does not have. Pure: the helper and the toolchain both use it.

/** What a section attaches to, when it names a kernel object libbpf looks up in the kernel's BTF. */
export function attachTargetOf(section: string): { what: string; name: string } | undefined {
  const m = /^([a-z_.]+)\/(.+)$/.exec(section);
  if (!m) return undefined;
  const [, kind, name] = m;
  if (/^(fentry|fexit|fmod_ret)(\.s)?$/.test(kind) || kind === 'freplace') return { what: 'function', name };
  if (/^lsm(\.s|_cgroup)?$/.test(kind)) return { what: 'LSM hook', name };
  if (kind === 'tp_btf') return { what: 'tracepoint', name };
  if (/^iter(\.s)?$/.test(kind)) return { what: 'BPF iterator', name };
  return undefined;
}

/**
 * "this kernel has no function `account_page_dirtied`" when libbpf could not find a program's attach
 * target in the kernel's BTF (it fails with ESRCH while preparing the load: the program never reaches
 * the verifier). libbpf says "prog 'NAME': failed to find kernel BTF type ID of 'TARGET': -3".
 */
export function missingAttachTarget(program: string, section: string, libbpfLog: string): string | undefined {
  const said = new RegExp(`prog '${program}': failed to find kernel BTF type ID of '([^']+)'`).exec(libbpfLog);
  const target = attachTargetOf(section);
  if (!said && !target) return undefined;
  if (!said && !/failed to find kernel BTF type ID|-ESRCH|: -3\b/.test(libbpfLog)) return undefined;
  const name = target?.name ?? said![1];
  return `this kernel has no ${target?.what ?? 'kernel function'} \`${name}\``;
}

/** A map libbpf could not create, and the kernel's reason ("map 'NAME': failed to create: REASON(-E)"). */
export function mapCreateFailure(libbpfLog: string): { map: string; reason: string } | undefined {
  const m = /map '([^']+)': failed to create(?: BPF map)?: ([^(\n]*?)\s*\(?(-\d+)?\)?$/m.exec(libbpfLog);
  if (!m) return undefined;
  return { map: m[1], reason: m[2].trim() || `error ${m[3]}` };
}

/** The kind of a CO-RE relocation as libbpf prints it (<byte_off>, <type_exists>, <enumval_value>, ...). */
type RelocationKind = 'field' | 'type' | 'enum value';

export interface CoreRelocationFailure {
  kind: RelocationKind;
  /** `struct request`, without a flavor suffix (request___old is request to the kernel). */
  type: string;
  /** The accessed field path (rq_disk, or a.b.c) or the enum value, when any. */
  member?: string;
  /** libbpf's own line. */
  text: string;
}

function relocationKind(name: string): RelocationKind {
  if (/^enumval_/.test(name)) return 'enum value';
  if (/^(type_|local_type_|target_type_)/.test(name)) return 'type';
  return 'field';
}

/** Reads libbpf's "failed to resolve CO-RE relocation <byte_off> [7] struct request___old.rq_disk (0:0 @ offset 0)". */
export function parseCoreFailure(text: string): CoreRelocationFailure | undefined {
  const m =
    /failed to resolve CO-RE relocation <([a-z_]+)> \[\d+\] (?:(struct|union|enum|enum64|typedef|fwd) )?([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*|\[\d+\]|::[A-Za-z_]\w*)*)/.exec(
      text,
    );
  if (!m) return undefined;
  const kind = relocationKind(m[1]);
  const base = m[3].replace(/___\w*$/, '');
  const type = m[2] ? `${m[2] === 'enum64' ? 'enum' : m[2]} ${base}` : base;
  const member = m[4].replace(/^(\.|::)/, '') || undefined;
  const line = text.split('\n').find((l) => l.includes('failed to resolve CO-RE relocation')) ?? m[0];
  return { kind, type, member, text: line.replace(/^libbpf: /, '').trim() };
}

/** "field `rq_disk` of `struct request` does not exist in this kernel", and the like for types and enums. */
export function describeCoreFailure(failure: CoreRelocationFailure): string {
  if (failure.kind === 'type' || !failure.member) return `type \`${failure.type}\` does not exist in this kernel`;
  if (failure.kind === 'enum value')
    return `enum value \`${failure.member}\` of \`${failure.type}\` does not exist in this kernel`;
  return `field \`${failure.member}\` of \`${failure.type}\` does not exist in this kernel`;
}

/**
 * libbpf's lines about a failure, kept as detail next to the translated reason: those that name the
 * program or map, or say what failed, without the "libbpf: " prefix, at most `max` of them.
 */
export function libbpfLines(libbpfLog: string, about: { program?: string; map?: string } = {}, max = 8): string[] {
  // The verifier's own log is reported apart; libbpf echoes it between these markers.
  const lines: string[] = [];
  let inEcho = false;
  for (const raw of libbpfLog.split('\n')) {
    const l = raw.replace(/^(libbpf: )+/, '').trim();
    if (/-- BEGIN PROG LOAD LOG --/.test(l)) inEcho = true;
    else if (/-- END PROG LOAD LOG --/.test(l)) inEcho = false;
    else if (l && !inEcho) lines.push(l);
  }
  const named = lines.filter(
    (l) =>
      (about.program !== undefined && l.includes(`prog '${about.program}'`)) ||
      (about.map !== undefined && l.includes(`map '${about.map}'`)) ||
      /fail|error|invalid|missing|unknown|not supported|refused/i.test(l),
  );
  return (named.length > 0 ? named : lines).slice(-max);
}
