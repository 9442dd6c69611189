// Where a verifier log points back into the sources: the kernel prints `; <code> @ <file>:<line>` from the
// object's line info. Pure, so the link provider's logic is unit-tested without VS Code.

export interface LogLink {
  /** 0-based line of the log and the character range of `file:line` on it. */
  logLine: number;
  start: number;
  end: number;
  file: string;
  /** 1-based source line. */
  line: number;
}

const annotation = /@ (\S+):(\d+)\s*$/;

export function verifierLogLinks(text: string): LogLink[] {
  const links: LogLink[] = [];
  text.split('\n').forEach((line, logLine) => {
    const m = annotation.exec(line);
    if (!m || !line.startsWith(';') || Number(m[2]) === 0) return;
    const start = m.index + 2;
    links.push({ logLine, start, end: start + m[1].length + 1 + m[2].length, file: m[1], line: Number(m[2]) });
  });
  return links;
}

/** The header eBPF Studio writes above a log, naming the program and where its source is. */
export function verifierLogHeader(program: string, source: string, verdict: string): string {
  return `# eBPF Studio: verifier log of ${program} (${verdict})\n# source: ${source}\n`;
}

/** The source named by a log's header, so relative `@ file:line` names resolve from its directory. */
export function sourceFromHeader(text: string): string | undefined {
  return /^# source: (.+)$/m.exec(text)?.[1];
}
