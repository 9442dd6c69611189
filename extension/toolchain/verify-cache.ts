// What the helper answered when it verified an object, kept per object file and reused while the object's
// loader-visible content (formats/object-digest.ts) is the same: a save that changes no code (a comment, a
// blank line at the end) is not verified again. Only the helper's answers are kept; verifyObject() turns them
// into diagnostics against the source as it is now, so what is published is exactly what a full
// verification of this object would publish.
import * as fs from 'fs';
import type { RequestType } from 'vscode-jsonrpc';
import { loaderDigest } from '../formats/object-digest';
import { HelperError } from '../protocol/errors';

/** What verify.ts's HelperRequester is (declared here too: verify.ts imports this file). */
interface HelperRequester {
  request<P, R>(type: RequestType<P, R, void>, params: P): Promise<R>;
}

type Answer = { value: unknown } | { error: HelperError };

interface Entry {
  digest: string;
  answers: Map<string, Answer>;
}

/** Objects remembered at once (one per recently saved source); the least recently used is forgotten. */
const MAX_OBJECTS = 16;

export interface VerifyCacheStats {
  /** Requests answered from the cache. */
  hits: number;
  /** Requests sent to the helper. */
  misses: number;
}

export class VerifyCache {
  private readonly objects = new Map<string, Entry>();
  readonly stats: VerifyCacheStats = { hits: 0, misses: 0 };

  /**
   * A requester that answers the requests about `objectPath` as the helper did for the same content, and
   * asks `client` otherwise. Undefined digest (not an ELF64 file): nothing is reused.
   */
  for(client: HelperRequester, objectPath: string): HelperRequester {
    let digest: string | undefined;
    try {
      digest = loaderDigest(fs.readFileSync(objectPath));
    } catch {
      digest = undefined;
    }
    if (digest === undefined) {
      this.objects.delete(objectPath);
      return client;
    }
    let entry = this.objects.get(objectPath);
    if (!entry || entry.digest !== digest) entry = { digest, answers: new Map() };
    // Most recently used last.
    this.objects.delete(objectPath);
    this.objects.set(objectPath, entry);
    while (this.objects.size > MAX_OBJECTS) this.objects.delete(this.objects.keys().next().value as string);
    const answers = entry.answers;
    const stats = this.stats;
    return {
      async request<P, R>(type: RequestType<P, R, void>, params: P): Promise<R> {
        const key = `${type.method}\0${JSON.stringify(params)}\0${loadedModules()}`;
        const known = answers.get(key);
        if (known) {
          stats.hits++;
          if ('error' in known) throw known.error;
          return structuredClone(known.value) as R;
        }
        stats.misses++;
        try {
          const value = await client.request(type, params);
          answers.set(key, { value: structuredClone(value) });
          return value;
        } catch (error) {
          // A verdict (a rejection, a refusal) is the object's; anything else (the helper went away, a
          // transient failure) is asked again next time.
          if (error instanceof HelperError && ['VerifierRejected', 'NotSupported'].includes(error.data.kind))
            answers.set(key, { error });
          throw error;
        }
      },
    };
  }

  clear(): void {
    this.objects.clear();
  }
}

/**
 * The kernel modules loaded now: CO-RE relocations not satisfied by vmlinux are looked up in modules' BTF, so
 * a module loaded or unloaded can change a verdict. Read per request (a small file).
 */
function loadedModules(): string {
  try {
    return fs
      .readFileSync('/proc/modules', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[0])
      .join(',');
  } catch {
    return '';
  }
}

/** The cache verifyObject() uses unless told otherwise (the editor's and the CLI's verifications). */
export const defaultVerifyCache = new VerifyCache();
