// Tracepoint categories. The kernel describes a tracepoint link (perf_event link info, 6.6+) by the
// tracepoint's name only ("sched_process_fork"), not the category the program's section named
// ("tracepoint/sched/sched_process_fork"); tracefs lists each tracepoint under its category's directory.
import * as fs from 'fs';
import * as path from 'path';

/** The categories under `<tracefs>/events` that hold a tracepoint called `name`, in tracefs order. */
export function tracepointCategories(eventsDir: string, name: string): string[] {
  let categories: string[];
  try {
    categories = fs.readdirSync(eventsDir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? [e.name] : []));
  } catch {
    return [];
  }
  return categories.filter((category) => fs.existsSync(path.join(eventsDir, category, name, 'id')));
}

/**
 * "sched/sched_process_fork" for "sched_process_fork" when tracefs has exactly one category with that name,
 * else the name as it was (a name in several categories cannot be told apart, so none is guessed).
 */
export function withTracepointCategory(eventsDir: string, target: string): string {
  if (!target || target.includes('/') || !/^\w+$/.test(target)) return target;
  const found = tracepointCategories(eventsDir, target);
  return found.length === 1 ? `${found[0]}/${target}` : target;
}
