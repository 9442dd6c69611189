// Parses trace_pipe lines as the kernel formats them:
//   "            bash-1234    [001] d..31  5071.123456: bpf_trace_printk: fork parent=1 child=2"
// (task-pid, optional tgid column, cpu, flags, timestamp in seconds, event name, message). Pure; run by the host.

export interface TraceLine {
  task: string;
  pid: number;
  cpu: number;
  flags: string;
  /** Seconds since boot, as the trace clock prints them. */
  timestamp: number;
  /** "bpf_trace_printk" for bpf_printk output; other tracers' events pass through as well. */
  event: string;
  message: string;
}

const format = /^\s*(.+?)-(\d+)\s+(?:\(\s*[\d-]+\)\s+)?\[(\d+)\]\s+(?:([\w.]{4,6})\s+)?(\d+\.\d+):\s+([\w:]+):\s?(.*)$/;

export function parseTraceLine(line: string): TraceLine | undefined {
  const m = format.exec(line);
  if (!m) return undefined;
  return {
    task: m[1],
    pid: Number(m[2]),
    cpu: Number(m[3]),
    flags: m[4] ?? '',
    timestamp: Number(m[5]),
    event: m[6],
    message: m[7],
  };
}
